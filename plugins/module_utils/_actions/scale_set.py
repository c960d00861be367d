# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions on a scale set itself: create, update, delete (the model and its instances); the read is scale_set_info.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal, Unpack, cast

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome
from ansible_collections.azsim.vmss.plugins.module_utils._checks.model_changes import require_rolling_health_source
from ansible_collections.azsim.vmss.plugins.module_utils._checks.requirements import (
    ERROR,
    RequirementsNotMet,
    check_policy,
    summarize,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group, check_scale_set_name
from ansible_collections.azsim.vmss.plugins.module_utils._engine import (
    conflicts,
    extension_platform,
    platform,
    repairs,
    run_protection,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine.rollouts import rollout_model_change
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue, scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.capacity import check_capacity
from ansible_collections.azsim.vmss.plugins.module_utils._model.catalogue import DEFAULT_LOCATION
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import comparable_secrets, extensions_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.faults import check_rules
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import gallery_opt_in_complete
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.new_scale_set import new_record
from ansible_collections.azsim.vmss.plugins.module_utils._model.options import ScaleSetOptions, apply_options
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import automatic_os_upgrade_enabled
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import (
    is_protected_from_scale_set_actions,
    refuse_protected,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.repair_services import orchestration_services
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import (
    ScaleSetView,
    load,
    load_instances,
    public_view,
    scale_set_id,
    snapshot,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.wanted_instances import reconcile_instances
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store
from ansible_collections.azsim.vmss.plugins.module_utils._views import runs
from ansible_collections.azsim.vmss.plugins.module_utils._views.instance_pages import bound_result

Presence = Literal["present", "absent"]


class ScaleSetResult(Outcome, ScaleSetView, total=False):
    rolling_upgrade: dict[str, Any]
    # The instance view's orchestrationServices (azure-behaviour-2 AR-8), empty without a repairs policy.
    orchestration_services: list[dict[str, str]]


def ensure_scale_set(
    call: Call,
    resource_group: str,
    name: str,
    *,
    state: Presence = "present",
    update_instances: list[str] | None = None,
    **options: Unpack[ScaleSetOptions],
) -> ScaleSetResult:
    """Create, update or delete a scale set, then roll out a model change as its upgrade mode says (§4)."""
    store = call.store
    existing = fleet_of(store).record(scaleset.scale_set_id(call.subscription_id, resource_group, name).lower())
    services_before = orchestration_services(existing) if existing else []
    result = _write_scale_set(call, resource_group, name, state, options)
    if state == "absent" or result["vmss"] is None:
        key = scaleset.scale_set_id(call.subscription_id, resource_group, name).lower()
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
    _check_in_flight(stored, fleet.latest_run(key), instances)
    run_protection.leave_run_when_protected(fleet, key)  # azure-behaviour-2 IP-4: protected now, left alone now
    names = _update_names(update_instances, instances, stored)
    run = rollout_model_change(store, key, names)
    if run is not None:
        view = scaleset.public_view(stored, instances)
        result["vmss"], result["instances"], result["simulator"] = view["vmss"], view["instances"], view["simulator"]
        result["rolling_upgrade"] = runs.latest_view(run, stored)
        result["after"] = {**result["after"], "rolling_upgrade_started": run["run_id"]}
    platform.reschedule(store, stored)
    extension_platform.reschedule(store, key)  # azure-behaviour-2 EX-2: an automatic extension may now be behind
    # azure-behaviour-2 §8: instances this write created or whose health it set, the policy or service it changed;
    # the repairs they lead to happen as the clock moves (sim_clock reports them).
    repairs.tick(store, key, act=False)
    services = orchestration_services(stored)
    result["orchestration_services"] = services
    if services or services_before:  # AR-8, AR-9: a suspend or resume is a change
        result["before"] = {**result["before"], "orchestration_services": services_before}
        result["after"] = {**result["after"], "orchestration_services": services}
    return result


def _check_in_flight(record: Record, run: Run | None, instances: list[Instance]) -> None:
    """An instance being upgraded right now cannot be deleted (azure-behaviour-2 CF-5); pending ones leave the run."""
    if run is None:
        return
    present = {i["instance_id"] for i in instances}
    conflicts.refuse_instances_in_batch(
        record["model"]["name"],
        run,
        (iid for iid in run["flight"] if iid not in present),
        "delete",
        "instances",
        record,
    )


def _check_enabled_policy(store: Store, record: Record, instances: list[Instance]) -> None:
    """Azure refuses a model that breaks the requirements of automatic OS upgrade while it is enabled.

    The requirements are azure-behaviour §2, checked by the same ``check_policy`` as vmss_upgrade_policy.
    """
    policy = record["model"]["properties"]["upgradePolicy"]
    if not automatic_os_upgrade_enabled(policy):
        return
    findings = [
        f
        for f in check_policy(
            record, policy, len(instances), gallery_opt_in_complete(store, record["model"]["id"].split("/")[2])
        )
        if f["severity"] == ERROR
    ]
    if findings:
        raise RequirementsNotMet(
            f"scale set {record['model']['name']}: this model breaks the requirements of automatic OS image upgrade, "
            f"which is enabled: {summarize(findings)}; nothing was changed. Change the model, or disable automatic OS "
            "upgrade first with azsim.vmss.vmss_upgrade_policy",
            findings=findings,
        )


def _check_faults(record: Record, instances: list[Instance]) -> None:
    check_rules(
        record["simulation"]["faults"],
        {i["name"] for i in instances},
        {e["name"] for e in extensions_of(record["model"])},
    )


def _update_names(value: list[str] | None, instances: list[Instance], record: Record) -> list[str] | None:
    """Azure's manualUpgrade list: ``all`` skips protected instances silently, an explicit list naming one is
    refused (azure-behaviour-2 IP-4, IP-7)."""
    if value is None:
        return None
    by_name = {i["name"]: i for i in instances}
    if "all" in value:
        return sorted(n for n, i in by_name.items() if not is_protected_from_scale_set_actions(i))
    for index, name in enumerate(value):
        if name not in by_name:
            raise InvalidInput(f"update_instances[{index}]: {name!r} is not an instance of this scale set")
    refuse_protected((by_name[n] for n in value), "update_instances", record)
    return list(value)


def _image_reference_of(record: Record) -> dict[str, Any]:
    return dict(record["model"]["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"])


def _model_fingerprint(record: Record, before: Record | None = None) -> str:
    """What instances must take when it changes: the VM profile and the extensions' secrets (as compared with
    ``before``'s: a fingerprint a migrated store holds as unknown is not a rotation)."""
    secrets = record["extension_secrets"]
    if before is not None:
        secrets = comparable_secrets(secrets, before["extension_secrets"])
    return json.dumps([record["model"]["properties"]["virtualMachineProfile"], secrets], sort_keys=True)


def _write_scale_set(
    call: Call, resource_group: str, name: str, state: Presence, options: ScaleSetOptions
) -> ScaleSetResult:
    """Create, update or delete one scale set and its instances."""
    store, subscription_id = call.store, call.subscription_id
    resource_group = check_resource_group(resource_group)
    name = check_scale_set_name(name)
    fleet = fleet_of(store)
    record = load(store, subscription_id, resource_group, name)
    key = scale_set_id(subscription_id, resource_group, name).lower()
    current = load_instances(store, key) if record else []
    before = snapshot(record, current)
    if state == "absent":
        if record is not None:
            # azure-behaviour-2 CF-3; the delete takes the runs, their events and the history with it.
            conflicts.refuse_delete(name, fleet.latest_run(key))
            fleet.delete(key)
        return {"before": before, "after": {}, "vmss": None, "instances": []}
    now = store.now()
    creating = record is None
    if creating:
        location = catalogue.normalize_location(options.get("location") or DEFAULT_LOCATION)
        record = new_record(subscription_id, resource_group, name, location, now)
    else:
        if record is None:  # pragma: no cover - creating is False here
            raise AssertionError("no scale set record to update")
        record = copy.deepcopy(record)
        if options.get("location") and catalogue.normalize_location(options["location"]) != record["model"]["location"]:
            raise InvalidInput(
                f"location: scale set {name} is in {record['model']['location']}; a scale set cannot move to "
                f"{options.get('location')}"
            )
    unchanged = None if creating else copy.deepcopy(record)
    fingerprint = None if creating else _model_fingerprint(record)
    old_reference = None if creating else _image_reference_of(record)
    old_mode = record["model"]["properties"]["upgradePolicy"]["mode"]
    apply_options(record, options, subscription_id, store.fingerprint_salt, creating)
    if fingerprint is not None and _model_fingerprint(record, unchanged) != fingerprint:
        record["model_version"] += 1
        # azure-behaviour §1: mode Rolling keeps a health source, whichever module changes the model.
        require_rolling_health_source(record)
        # azure-behaviour-2 CF-2, D1: no model change under a run in mode Rolling or Automatic.
        conflicts.refuse_model_change(
            name, (old_mode, record["model"]["properties"]["upgradePolicy"]["mode"]), fleet.latest_run(key)
        )
    if creating or _image_reference_of(record) != old_reference:
        # Resolving the image now makes a reference the catalogue lacks an error even before any instance,
        # on creation and when an update points the model at another image, as Azure refuses such a model.
        catalogue.resolve(store, _image_reference_of(record), record["model"]["location"])
    # Before the instances are built: a million names must not cost a million instances first.
    wanted = options.get("instances")
    was_single = None if unchanged is None else unchanged["model"]["properties"].get("singlePlacementGroup", True)
    check_capacity(record["model"], len(current) if wanted is None else len(wanted), len(current), was_single)
    instances = reconcile_instances(store, record, current, wanted)
    zones = record["model"].get("zones") or []
    for instance in instances:
        if zones and instance["zone"] not in zones or not zones and instance["zone"] is not None:
            raise InvalidInput(
                f"zones: instance {instance['name']} is in zone {instance['zone']}, which this change would remove "
                f"(zones: {', '.join(zones) or 'none'}); remove or move such instances first"
            )
    record["model"]["sku"]["capacity"] = len(instances)
    fleet.save(record, instances)
    after = snapshot(record, instances)
    view = public_view(record, instances)
    return {
        "before": before,
        "after": after,
        "vmss": view["vmss"],
        "instances": view["instances"],
        "simulator": view["simulator"],
    }


def vmss_result(
    call: Call, resource_group: str, name: str, *, return_all_instances: bool = False, **options: Any
) -> ScaleSetResult:
    """Module ``vmss``: ``ensure_scale_set``; ``before`` and ``after`` (changed, diff) keep every instance."""
    result = ensure_scale_set(call, resource_group, name, **options)
    bound_result(cast(dict[str, Any], result), return_all_instances)
    return result


def scale_set_services(call: Call, resource_group: str, name: str) -> list[dict[str, str]]:
    """The scale set's instance-view ``orchestrationServices`` (azure-behaviour-2 AR-8); [] if it does not exist."""
    record = load(call.store, call.subscription_id, check_resource_group(resource_group), check_scale_set_name(name))
    return orchestration_services(record) if record else []
