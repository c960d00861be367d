# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions on a scale set's rolling upgrade: Azure's osRollingUpgrade, cancel and approveRollingUpgrade.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
from typing import Any, Literal, cast

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome, address
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine import (
    conflicts,
    orchestrator,
    platform,
    rollouts,
    run_start,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import external_id, id_map
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import (
    NO_UNPROTECTED_LATEST,
    is_protected_from_scale_set_actions,
    refuse_protected,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run
from ansible_collections.azsim.vmss.plugins.module_utils._views import runs
from ansible_collections.azsim.vmss.plugins.module_utils._views.instance_pages import bound_result

NO_RUN_TO_CANCEL = "There is no ongoing Rolling Upgrade to cancel."  # azure-behaviour §3, cancel: Azure's 409 text
# A check-mode plan runs the engine on a throw-away copy until the run ends, at most this long.
PLAN_HORIZON = 366 * 86400
DEFAULT_WAIT_TIMEOUT = "PT24H"

UpgradeState = Literal["started", "cancelled", "approved"]


class RunResult(Outcome, runs.RunView, total=False):
    plan: dict[str, Any]
    approved: list[str]
    error: dict[str, str]


def _state(run: Run | None) -> dict[str, Any]:
    """What ``changed`` and ``diff`` compare: the latest run's identity, status and the requests made of it."""
    if run is None:
        return {"latest_run": None}
    return {
        "latest_run": {
            "run_id": run["run_id"],
            "status": run["status"],
            "last_action": run["last_action"],
            "cancel_requested": run["cancel_requested"],
            "approved": list(run["approved"]),
        }
    }


def _result(call: Call, key: str, run: Run | None, before: dict[str, Any]) -> RunResult:
    after = _state(fleet_of(call.store).latest_run(key))
    view = runs.run_view(call.store, key, run)
    return {
        "changed": before != after,
        "before": before,
        "after": after,
        "rolling_upgrade": view["rolling_upgrade"],
        "batches": view["batches"],
        "instances": view["instances"],
        "now": view["now"],
    }


def start_os_rolling_upgrade(
    call: Call,
    resource_group: str,
    name: str,
    *,
    wait: bool = True,
    wait_timeout: str = DEFAULT_WAIT_TIMEOUT,
    fail_on_fault: bool = True,
) -> RunResult:
    """Azure's ``osRollingUpgrade``; in check mode the result also has the ``plan`` of the whole run."""
    store = call.store
    key, record = address(call, resource_group, name)
    timeout = parse_duration(wait_timeout, "wait_timeout")
    fleet = fleet_of(store)
    current = fleet.latest_run(key)
    before = _state(current)
    if orchestrator.is_active(current):
        if current is not None and current["kind"] == "extension":
            # azure-behaviour-2 D13, EX-5: an extension run holds the one rolling-upgrade slot; 409 either way.
            conflicts.refuse_second_start(record["model"]["name"], current, "osRollingUpgrade")
        return {"msg": "A rolling upgrade is already in progress; returning it.", **_result(call, key, current, before)}
    reference = record["model"]["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
    pinned = catalogue.pinned_version(reference)
    if pinned is not None:
        # azure-behaviour §4 "Manual": a manual OS upgrade needs an image reference that follows latest (409).
        raise Conflict(
            f"The operation 'osRollingUpgrade' is not allowed on Virtual Machine Scale Set '{record['model']['name']}' "
            f"since its image reference is pinned to version {pinned}; OS rolling upgrade needs the image version "
            "'latest' (or a gallery image referenced without a version). (Azure: 409 OperationNotAllowed)",
            code="OperationNotAllowed",
            status=409,
        )
    if all(is_protected_from_scale_set_actions(i) for i in fleet.instances(key)):
        # azure-behaviour-2 IP-5: only unprotected instances that follow latest make the API usable.
        raise Conflict(
            f"Scale set {record['model']['name']}: {NO_UNPROTECTED_LATEST} Every instance is protected from scale "
            "set actions (instances[].protection). (Azure: 409 OperationNotAllowed)",
            code="OperationNotAllowed",
            status=409,
            azure_message=NO_UNPROTECTED_LATEST,
        )
    run = run_start.start_run(store, key, "os", "User")
    if run is None:
        version = catalogue.resolve(store, reference, record["model"]["location"])
        return {
            "msg": f"Every instance already runs the latest image version {version}.",
            **_result(call, key, current, before),
        }
    advance(store, store.now())
    if wait:
        rollouts.drive(store, run, timeout)
    result = _result(call, key, run, before)
    if call.check_mode:
        result = copy.deepcopy(result)
        ended = rollouts.drive(store, run, PLAN_HORIZON)
        result["plan"] = runs.plan_view(run, runs.instance_names(fleet.instances(key), run))
        if not ended:
            result["plan"]["end"] = None
    elif wait and orchestrator.is_active(run):
        result["failed"] = True
        result["msg"] = (
            f"The rolling upgrade is still {run['status']} after wait_timeout {wait_timeout} of virtual "
            "time; its progress so far is kept."
        )
        return result
    platform.reschedule(store, fleet.record(key) or record)
    if run["status"] == "Faulted" and fail_on_fault:
        error = run["error"]
        code, message = (error["code"], error["message"]) if error else (None, None)
        result["failed"] = True
        result["msg"] = f"Rolling upgrade Faulted: {code}: {message}"
        if error:  # design.md, round 2: a failed result carries Azure's error (details: rolling_upgrade's error)
            result["error"] = {"code": error["code"], "message": error["message"]}
    return result


def cancel_rolling_upgrade(
    call: Call,
    resource_group: str,
    name: str,
    *,
    wait: bool = True,
    wait_timeout: str = DEFAULT_WAIT_TIMEOUT,
    fail_if_idle: bool = False,
) -> RunResult:
    """Azure's ``rollingUpgrades/cancel``: no new batch starts; with ``wait`` the batch in flight ends too."""
    store = call.store
    key, _record = address(call, resource_group, name)
    timeout = parse_duration(wait_timeout, "wait_timeout")
    before = _state(fleet_of(store).latest_run(key))
    run = orchestrator.cancel(store, key)
    if run is None:
        if fail_if_idle:
            raise Conflict(NO_RUN_TO_CANCEL, status=409)
        return {"msg": NO_RUN_TO_CANCEL, **_result(call, key, fleet_of(store).latest_run(key), before)}
    advance(store, store.now())
    if wait:
        rollouts.drive(store, run, timeout)
    return _result(call, key, run, before)


def _instance_ids(record: Record, instances: list[Instance], wanted: list[str]) -> list[str]:
    """Instance ids from ids or host names, in the order given."""
    by_name = {i["name"]: i["instance_id"] for i in instances}
    # azure-behaviour-2 FX-6: the instance id on Uniform, the VM name on Flexible (both: the id callers see).
    known = id_map(record, instances)
    ids = []
    for index, value in enumerate(wanted):
        iid = known.get(str(value)) or by_name.get(str(value))
        if iid is None:
            raise InvalidInput(
                f"instance_ids[{index}]: {value!r} is neither an instance id nor a host name of this scale set"
            )
        ids.append(iid)
    return ids


def approve_rolling_upgrade(
    call: Call,
    resource_group: str,
    name: str,
    *,
    instance_ids: list[str] | None = None,
    wait: bool = True,
    wait_timeout: str = DEFAULT_WAIT_TIMEOUT,
) -> RunResult:
    """Azure's ``approveRollingUpgrade`` of instances waiting under ``osRollingUpgradeDeferral``."""
    store = call.store
    key, record = address(call, resource_group, name)
    timeout = parse_duration(wait_timeout, "wait_timeout")
    fleet = fleet_of(store)
    if not instance_ids:
        raise InvalidInput("instance_ids: give the instance ids (or host names) to approve")
    ids = _instance_ids(record, fleet.instances(key), instance_ids)
    # azure-behaviour-2 IP-7: an explicit list may not name instances protected from scale-set actions.
    refuse_protected((i for i in fleet.instances(key) if i["instance_id"] in set(ids)), "instance_ids", record)
    before = _state(fleet.latest_run(key))
    approved = orchestrator.approve(store, key, ids)
    run = fleet.latest_run(key)
    if run is None:
        raise AssertionError("approve returned without a run")
    if approved:  # a repeated approve writes nothing, not even the clock
        advance(store, store.now())
        if wait:
            rollouts.drive(store, run, timeout)
    # azure-behaviour-2 FX-6: the ids callers see (VM names on Flexible).
    return {"approved": [external_id(record, iid) for iid in approved], **_result(call, key, run, before)}


def os_rolling_upgrade(
    call: Call,
    resource_group: str,
    name: str,
    *,
    state: UpgradeState = "started",
    wait: bool = True,
    wait_timeout: str = DEFAULT_WAIT_TIMEOUT,
    fail_on_fault: bool = True,
    fail_if_idle: bool = False,
    instance_ids: list[str] | None = None,
) -> RunResult:
    """The vmss_os_rolling_upgrade module's one entry: the operation its ``state`` names."""
    if state == "cancelled":
        return cancel_rolling_upgrade(
            call, resource_group, name, wait=wait, wait_timeout=wait_timeout, fail_if_idle=fail_if_idle
        )
    if state == "approved":
        return approve_rolling_upgrade(
            call, resource_group, name, instance_ids=instance_ids, wait=wait, wait_timeout=wait_timeout
        )
    return start_os_rolling_upgrade(
        call, resource_group, name, wait=wait, wait_timeout=wait_timeout, fail_on_fault=fail_on_fault
    )


def rolling_upgrade_result(
    call: Call, resource_group: str, name: str, *, return_all_instances: bool = False, **options: Any
) -> RunResult:
    """Module ``vmss_os_rolling_upgrade``: ``os_rolling_upgrade``, its per-instance results bounded."""
    result = os_rolling_upgrade(call, resource_group, name, **options)
    bound_result(cast(dict[str, Any], result), return_all_instances)
    return result
