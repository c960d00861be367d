# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Starting and driving runs with the clock: what actions ask of the engine as a whole.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict
from ansible_collections.azsim.vmss.plugins.module_utils._engine import conflicts
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run, is_active
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store


def _advance(store: Store, until: int, run: Run | None = None) -> None:
    """The clock's advance, imported on first use: it brings every event handler (the whole engine), which a call
    that starts nothing (vmss, vmss_upgrade_policy on an up-to-date scale set) need not compile from its AnsiballZ
    zip."""
    from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance  # pylint: disable=import-outside-toplevel

    advance(store, until, stop=None if run is None else lambda: not is_active(run))


def drive(store: Store, run: Run, seconds: int) -> bool:
    """Advance until the run ends or ``seconds`` pass; True when it ended."""
    if not is_active(run):
        return True  # ended already (e.g. the first pre-check): the clock must not run on to the timeout
    _advance(store, store.now() + seconds, run)
    return not is_active(run)


def rollout_model_change(store: Store, key: str, names: list[str] | None = None) -> Run | None:
    """Bring instances to the current model as the upgrade mode says (azure-behaviour §4, model changes).

    ``names`` are Azure's manualUpgrade of those instances; otherwise Automatic mode updates every
    out-of-date instance at once, Rolling mode in batches, and Manual mode waits for ``names``.
    Returns the run started, if any.
    """
    fleet = fleet_of(store)
    record = fleet.record(key)
    if record is None:
        raise AssertionError(f"scale set {key} is not in the store")
    current = fleet.latest_run(key)
    if is_active(current):
        if names and current is not None:
            # azure-behaviour-2 CF-4: a manualUpgrade of an instance of the batch in flight is 409.
            by_name = {i["name"]: i["instance_id"] for i in fleet.instances(key)}
            conflicts.refuse_instances_in_batch(
                record["model"]["name"],
                current,
                (by_name[n] for n in names if n in by_name),
                "manualUpgrade",
                "update_instances",
                record,
            )
            if current["kind"] != "model":
                # The run holds the scale set's one rolling-upgrade slot; the simulator runs one at a time.
                raise Conflict(
                    "update_instances: an OS rolling upgrade is in progress on this scale set; wait for it or "
                    "cancel it (Azure: 409 OperationNotAllowed)",
                    code="OperationNotAllowed",
                    status=409,
                )
        return None  # a model rollout under way already brings the instances to the current model
    mode = record["model"]["properties"]["upgradePolicy"]["mode"]
    if names is None and mode not in ("Automatic", "Rolling"):
        return None
    # Imported here: creating a scale set or setting its policy rarely starts a run, and a module compiles every
    # file it imports from its AnsiballZ zip at each call (issue 14).
    from ansible_collections.azsim.vmss.plugins.module_utils._engine import run_start  # pylint: disable=import-outside-toplevel

    run = run_start.start_run(store, key, "model", "User", names)
    if run is not None:
        _advance(store, store.now())
    return run
