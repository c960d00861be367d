# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Automatic extension upgrade (azure-behaviour-2 EX-2): the platform starts an extension rolling upgrade by itself.

It does so when an extension with ``enableAutomaticUpgrade`` is behind on some instance (a newer version was
released), in mode Rolling or Automatic (EX-7: in mode Manual the version reaches an instance only when the
instance is updated). It waits while another run holds the scale set's one slot and starts when that run ends
(EX-5), and upgrades only those extensions. Its one event lives under the scale set's key
(``<key>/extensionupgrade``), so deleting the scale set removes it.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Event
from ansible_collections.azsim.vmss.plugins.module_utils._model.extension_versions import automatic, outdated
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

EVENT_KIND = "extension_rollout"


def subject(key: str) -> str:
    return f"{key}/extensionupgrade"


def _due(store: Store, key: str) -> bool:
    """Whether the platform should start an extension run of ``key`` now (EX-2, EX-5, EX-7)."""
    fleet = fleet_of(store)
    record = fleet.record(key)
    if record is None or record["model"]["properties"]["upgradePolicy"]["mode"] == "Manual":
        return False
    names = automatic(record)
    if not names or fleet.latest_run_active(key):
        return False  # nothing automatic, or the slot is taken: the end of that run reschedules
    return any(outdated(record, i, names) for i in fleet.instances(key))


def reschedule(store: Store, key: str) -> None:
    """After anything that may make an automatic extension behind or free the slot: one event now, or none."""
    where = subject(key)
    wanted = store.now() if _due(store, key) else None
    pending = store.pending_events(where, EVENT_KIND)
    if wanted is None and not pending or len(pending) == 1 and pending[0]["due"] == wanted:
        return  # unchanged: nothing written
    store.cancel_events(where, EVENT_KIND)
    if wanted is not None:
        store.schedule(wanted, EVENT_KIND, where, {"scale_set": key})


def on_extension_rollout(store: Store, event: Event) -> list[dict[str, Any]]:
    """EX-2: the platform starts its extension run, unless another run took the slot meanwhile (EX-5)."""
    key = event.payload["scale_set"]
    if not _due(store, key):
        return []
    # Imported only when a run starts: a call that just reschedules (vmss, vmss_upgrade_policy) need not compile
    # the run engine, which a module does from source on each call (AnsiballZ zip).
    from ansible_collections.azsim.vmss.plugins.module_utils._engine import run_start  # pylint: disable=import-outside-toplevel

    run = run_start.start_run(store, key, "extension", "Platform")
    record = fleet_of(store).record(key)
    if run is None or record is None:
        return []
    return [
        {
            "type": "RollingUpgradeStarted",
            "subject": record["model"]["id"],
            "run_id": run["run_id"],
            "started_by": "Platform",
            "run_kind": "extension",
            "extensions": list(run.get("extensions", [])),
            "scheduled": format_timestamp(event.due),
        }
    ]
