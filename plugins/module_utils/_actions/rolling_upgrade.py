# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the run-related modules do: start, cancel and approve runs, read history, and roll out model changes."""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue
from ansible_collections.azsim.vmss.plugins.module_utils._engine import orchestrator
from ansible_collections.azsim.vmss.plugins.module_utils._engine import platform
from ansible_collections.azsim.vmss.plugins.module_utils._views import runs
from ansible_collections.azsim.vmss.plugins.module_utils._model import scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import extensions_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.faults import check_rules
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import gallery_opt_in_complete
from ansible_collections.azsim.vmss.plugins.module_utils._checks.requirements import ERROR, RequirementsNotMet, check_policy, summarize
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group, check_scale_set_name
from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

NO_RUN_TO_CANCEL = "There is no ongoing Rolling Upgrade to cancel."
# A check-mode plan runs the engine on a throw-away copy until the run ends, at most this long.
PLAN_HORIZON = 366 * 86400


def _address(store: Store, subscription_id: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    record = scaleset.load_or_fail(
        store, subscription_id, check_resource_group(params["resource_group"]), check_scale_set_name(params["name"])
    )
    return scaleset.record_key(record), record


def _drive(store: Store, key: str, run: dict[str, Any], seconds: int) -> bool:
    """Advance until the run ends or ``seconds`` pass; True when it ended."""
    if not orchestrator.is_active(run):
        return True  # ended already (e.g. the first pre-check): the clock must not run on to the timeout
    advance(store, store.now() + seconds, stop=lambda: not orchestrator.is_active(run))
    return not orchestrator.is_active(run)


def _names(instances: list[dict[str, Any]]) -> dict[str, str]:
    return {i["instance_id"]: i["name"] for i in instances}


def run_view(store: Store, key: str, run: dict[str, Any] | None) -> dict[str, Any]:
    fleet = fleet_of(store)
    record = fleet.record(key)
    if record is None:
        raise AssertionError("record is None")
    instances = fleet.instances(key)
    return {
        "rolling_upgrade": runs.latest_view(run, record) if run else None,
        "batches": runs.batches_view(run, _names(instances)) if run else [],
        "instances": runs.instance_results(run, record, instances),
        "now": format_timestamp(store.now()),
    }


def _faulted(view: dict[str, Any], run: dict[str, Any], fail_on_fault: bool) -> dict[str, Any]:
    if run["status"] == "Faulted" and fail_on_fault:
        error = run["error"] or {}
        view.update(failed=True, msg=f"Rolling upgrade Faulted: {error.get('code')}: {error.get('message')}")
    return view


def rolling_upgrade(store: Store, subscription_id: str, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """vmss_os_rolling_upgrade."""
    key, record = _address(store, subscription_id, params)
    timeout = parse_duration(params["wait_timeout"], "wait_timeout")
    state = params["state"]
    if state == "started":
        return _start(store, key, record, params, timeout, check_mode)
    if state == "cancelled":
        run = orchestrator.cancel(store, key)
        if run is None:
            if params["fail_if_idle"]:
                raise Conflict(NO_RUN_TO_CANCEL, status=409)
            view = run_view(store, key, fleet_of(store).latest_run(key))
            return {"changed": False, "msg": NO_RUN_TO_CANCEL, **view}
        advance(store, store.now())
        if params["wait"]:
            _drive(store, key, run, timeout)
        return {"changed": True, **run_view(store, key, run)}
    # approved
    fleet = fleet_of(store)
    wanted = params.get("instance_ids") or []
    if not wanted:
        raise InvalidInput("instance_ids: give the instance ids (or host names) to approve")
    by_name = {i["name"]: i["instance_id"] for i in fleet.instances(key)}
    known = set(by_name.values())
    ids = []
    for index, value in enumerate(wanted):
        iid = str(value) if str(value) in known else by_name.get(str(value))
        if iid is None:
            raise InvalidInput(f"instance_ids[{index}]: {value!r} is neither an instance id nor a host name of this scale set")
        ids.append(iid)
    approved = orchestrator.approve(store, key, ids)
    run = fleet.latest_run(key)
    if run is None:
        raise AssertionError("run is None")
    advance(store, store.now())
    if params["wait"] and approved:
        _drive(store, key, run, timeout)
    return {"changed": bool(approved), "approved": approved, **run_view(store, key, run)}


def _start(
    store: Store, key: str, record: dict[str, Any], params: dict[str, Any], timeout: int, check_mode: bool
) -> dict[str, Any]:
    fleet = fleet_of(store)
    current = fleet.latest_run(key)
    if orchestrator.is_active(current):
        return {"changed": False, "msg": "A rolling upgrade is already in progress; returning it.",
                **run_view(store, key, current)}
    reference = record["model"]["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
    pinned = orchestrator.pinned_version(reference)
    if pinned is not None:
        raise Conflict(
            f"The operation 'osRollingUpgrade' is not allowed on Virtual Machine Scale Set '{record['model']['name']}' "
            f"since its image reference is pinned to version {pinned}; OS rolling upgrade needs the image version "
            "'latest' (or a gallery image referenced without a version). (Azure: 409 OperationNotAllowed)",
            code="OperationNotAllowed",
            status=409,
        )
    run = orchestrator.start_run(store, key, "os", "User")
    if run is None:
        version = catalogue.resolve(store, reference, record["model"]["location"])
        return {"changed": False, "msg": f"Every instance already runs the latest image version {version}.",
                **run_view(store, key, current)}
    advance(store, store.now())
    if params["wait"]:
        _drive(store, key, run, timeout)
    view = run_view(store, key, run)
    if check_mode:
        view = copy.deepcopy(view)
        ended = _drive(store, key, run, PLAN_HORIZON) if orchestrator.is_active(run) else True
        view["plan"] = runs.plan_view(run, _names(fleet.instances(key)))
        if not ended:
            view["plan"]["end"] = None
    elif params["wait"] and orchestrator.is_active(run):
        view.update(failed=True, msg=f"The rolling upgrade is still {run['status']} after wait_timeout "
                                     f"{params['wait_timeout']} of virtual time; its progress so far is kept.")
        return view
    platform.reschedule(store, fleet.record(key) or record)
    return _faulted({"changed": True, **view}, run, params["fail_on_fault"])


def upgrade_history(store: Store, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """vmss_upgrade_history: osUpgradeHistory (last five in two months, or all) and rollingUpgrades/latest.

    Beyond Azure's two calls it returns the batches and per-instance results of the most recent OS
    upgrade, which Azure shows only in the portal, so that playbooks can act on each host's outcome.
    """
    key, record = _address(store, subscription_id, params)
    fleet = fleet_of(store)
    if params["all"]:
        os_runs = fleet.recent_runs(key, "os")
    else:  # Azure's window: the last five within two months of now
        os_runs = fleet.recent_runs(key, "os", store.now() - runs.HISTORY_WINDOW, runs.HISTORY_LIMIT)
    latest = fleet.latest_run(key)
    last_os = os_runs[0] if os_runs and params["all"] else next(iter(fleet.recent_runs(key, "os", None, 1)), None)
    view = run_view(store, key, last_os)
    return {
        "changed": False,
        "history": runs.history(os_runs, record),
        "latest": runs.latest_view(latest, record) if latest else None,
        "batches": view["batches"],
        "instances": view["instances"],
        "now": view["now"],
    }


def vmss_action(store: Store, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """vmss: create/update/delete the scale set, then roll out a model change as its upgrade mode says."""
    result = scaleset.ensure(store, subscription_id, params)
    if params["state"] == "absent" or result["vmss"] is None:
        key = scaleset.scale_set_id(subscription_id, params["resource_group"], params["name"]).lower()
        store.cancel_events(key, platform.EVENT_KIND)
        return result
    key = result["vmss"]["id"].lower()
    fleet = fleet_of(store)
    stored = fleet.record(key)
    if stored is None:
        raise AssertionError(f"scale set {key} vanished after it was saved")
    instances = fleet.instances(key)
    _check_faults(stored, instances)
    _check_enabled_policy(store, stored, instances)
    _check_in_flight(fleet.latest_run(key), instances)
    names = _update_names(params.get("update_instances"), instances)
    run = rollout_model_change(store, key, names)
    if run is not None:
        result.update(scaleset.public_view(stored, instances))
        result["rolling_upgrade"] = runs.latest_view(run, stored)
        result["after"] = {**result["after"], "rolling_upgrade_started": run["run_id"]}
    platform.reschedule(store, stored)
    return result


def rollout_model_change(store: Store, key: str, names: list[str] | None = None) -> dict[str, Any] | None:
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
    if orchestrator.is_active(current):
        if names and current is not None and current["kind"] != "model":
            raise Conflict("update_instances: an OS rolling upgrade is in progress on this scale set; wait for it or "
                           "cancel it (Azure: 409 Conflict)")
        return None  # a model rollout under way already brings the instances to the current model
    mode = record["model"]["properties"]["upgradePolicy"]["mode"]
    if names is None and mode not in ("Automatic", "Rolling"):
        return None
    run = orchestrator.start_run(store, key, "model", "User", names)
    if run is not None:
        advance(store, store.now())
    return run


def _check_in_flight(run: dict[str, Any] | None, instances: list[dict[str, Any]]) -> None:
    """An instance being upgraded right now cannot be deleted; instances still pending simply leave the run."""
    if not orchestrator.is_active(run) or run is None:
        return
    present = {i["instance_id"] for i in instances}
    gone = sorted((iid for iid in run["flight"] if iid not in present), key=int)
    if gone:
        raise Conflict(
            f"instances: instance(s) {', '.join(gone)} are being upgraded by the rolling upgrade in progress and "
            "cannot be removed now; wait for their batch to end (move the clock) or cancel the upgrade (Azure: 409)",
            status=409,
        )


def _check_enabled_policy(store: Store, record: dict[str, Any], instances: list[dict[str, Any]]) -> None:
    """Azure refuses a model that breaks the requirements of automatic OS upgrade while it is enabled."""
    policy = record["model"]["properties"]["upgradePolicy"]
    if not policy.get("automaticOSUpgradePolicy", {}).get("enableAutomaticOSUpgrade"):
        return
    findings = [
        f for f in check_policy(record, policy, len(instances), gallery_opt_in_complete(store, record["model"]["id"].split("/")[2]))
        if f["severity"] == ERROR
    ]
    if findings:
        raise RequirementsNotMet(
            f"scale set {record['model']['name']}: this model breaks the requirements of automatic OS image upgrade, "
            f"which is enabled: {summarize(findings)}; nothing was changed. Change the model, or disable automatic OS "
            "upgrade first with azsim.vmss.vmss_upgrade_policy",
            findings=findings,
        )


def image_action(store: Store, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """vm_image: change the catalogue, then let the platform see whether a newer image is now latest."""
    result = catalogue.image_action(store, subscription_id, params)
    if result["before"] != result["after"]:
        platform.reschedule_all(store)
    return result


def _check_faults(record: dict[str, Any], instances: list[dict[str, Any]]) -> None:
    check_rules(
        record["simulation"]["faults"],
        {i["name"] for i in instances},
        {e["name"] for e in extensions_of(record["model"])},
    )


def _update_names(value: list[str] | None, instances: list[dict[str, Any]]) -> list[str] | None:
    if value is None:
        return None
    names = {i["name"] for i in instances}
    if "all" in value:
        return sorted(names)
    for index, name in enumerate(value):
        if name not in names:
            raise InvalidInput(f"update_instances[{index}]: {name!r} is not an instance of this scale set")
    return list(value)
