# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure's ``extensionRollingUpgrade``: move every instance's extensions to the latest released version
(azure-behaviour-2 §7), in the scale set's one rolling-upgrade slot.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
from typing import Literal

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, address
from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import (
    DEFAULT_WAIT_TIMEOUT,
    PLAN_HORIZON,
    RunResult,
    _result,
    _state,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine import conflicts, orchestrator, rollouts, run_start
from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._views import runs

OPERATION = "extensionRollingUpgrade"
NOTHING_TO_UPGRADE = "Every instance already runs the latest released version of each extension; no run started."


# pylint on newer Pythons counts a TypedDict's flattened bases twice; RunResult is its only base.
class ExtensionRunResult(RunResult, total=False):  # pylint: disable=duplicate-bases
    # azure-behaviour-2 EX-4 SIMULATOR CHOICE: rollingUpgrades/latest does not say which kind of run it shows.
    run_kind: str | None


def start_extension_upgrade(
    call: Call,
    resource_group: str,
    name: str,
    *,
    state: Literal["started"] = "started",
    wait: bool = True,
    wait_timeout: str = DEFAULT_WAIT_TIMEOUT,
    fail_on_fault: bool = True,
) -> ExtensionRunResult:
    """Start an extension rolling upgrade (EX-1); in check mode the result also has the run's ``plan``.

    Idempotent as the OS start is (D1): an extension run going on is returned with ``changed: false``. Any
    other run holds the slot: 409 ``OperationNotAllowed`` (EX-5, D13), nothing written.
    """
    del state  # the only state; kept as an option so that later states (cancel) fit beside it
    store = call.store
    key, record = address(call, resource_group, name)
    timeout = parse_duration(wait_timeout, "wait_timeout")
    fleet = fleet_of(store)
    current = fleet.latest_run(key)
    before = _state(current)
    if orchestrator.is_active(current) and current is not None:
        if current["kind"] != "extension":
            conflicts.refuse_second_start(record["model"]["name"], current, OPERATION)
        return {
            "msg": "An extension rolling upgrade is already in progress; returning it.",
            "run_kind": "extension",
            **_result(call, key, current, before),
        }
    run = run_start.start_run(store, key, "extension", "User")
    if run is None:
        # EX-1: the operation succeeds, no run is created and rollingUpgrades/latest is unchanged.
        return {
            "msg": NOTHING_TO_UPGRADE,
            "run_kind": current["kind"] if current else None,
            **_result(call, key, current, before),
        }
    advance(store, store.now())
    if wait:
        rollouts.drive(store, run, timeout)
    result: ExtensionRunResult = {"run_kind": "extension", **_result(call, key, run, before)}
    if call.check_mode:
        result = copy.deepcopy(result)
        ended = rollouts.drive(store, run, PLAN_HORIZON)
        result["plan"] = runs.plan_view(run, runs.instance_names(fleet.instances(key)))
        if not ended:
            result["plan"]["end"] = None
    elif wait and orchestrator.is_active(run):
        result["failed"] = True
        result["msg"] = (
            f"The extension rolling upgrade is still {run['status']} after wait_timeout {wait_timeout} of virtual "
            "time; its progress so far is kept."
        )
        return result
    if run["status"] == "Faulted" and fail_on_fault and run["error"]:
        # EX-4: extension runs fail with the codes and texts of OS runs (ER-2).
        error = run["error"]
        result["failed"] = True
        result["msg"] = f"Extension rolling upgrade Faulted: {error['code']}: {error['message']}"
        result["error"] = {"code": error["code"], "message": error["message"]}
    return result
