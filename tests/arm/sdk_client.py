# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real azure-mgmt-compute + azure-identity calls against the ARM endpoint; run by the SDK venv's python.

``python sdk_client.py PHASE`` with the endpoint's JSON line in ``AZSIM_ARM_INFO``. Each phase asserts
as it goes and prints one JSON line of what it saw; the calling test (tests/unit/test_arm_sdk.py) does
what only the collection can do between phases (publish a newer image through its own action).
Every response is deserialised into the SDK's own models, which is the point: attribute access below
fails if a REST shape is wrong.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from sdk_common import client, rolling_body  # type: ignore[import-not-found]

RG, NAME = "rg-sdk", "sdkvmss"


def body(capacity: int) -> dict[str, Any]:
    made: dict[str, Any] = rolling_body(RG, capacity)
    return made


def create(info: dict[str, Any]) -> dict[str, Any]:
    compute = client(info)
    started = time.monotonic()
    vmss = compute.virtual_machine_scale_sets.begin_create_or_update(RG, NAME, body(3)).result()
    assert vmss.name == NAME and vmss.sku.capacity == 3, vmss
    assert vmss.properties.upgrade_policy.mode == "Rolling"
    assert vmss.properties.provisioning_state == "Succeeded"
    got = compute.virtual_machine_scale_sets.get(RG, NAME)
    assert got.id == vmss.id
    assert got.properties.virtual_machine_profile.storage_profile.image_reference.version == "latest"
    vms = list(compute.virtual_machine_scale_set_vms.list(RG, NAME))
    assert [vm.instance_id for vm in vms] == ["0", "1", "2"], [vm.instance_id for vm in vms]
    exact = {vm.properties.storage_profile.image_reference.exact_version for vm in vms}
    listed = [v.name for v in compute.virtual_machine_scale_sets.list(RG)]
    everywhere = [v.name for v in compute.virtual_machine_scale_sets.list_all()]
    return {
        "created": vmss.id,
        "vms": [vm.name for vm in vms],
        "exact_versions": sorted(exact),
        "listed": listed,
        "list_all": everywhere,
        "seconds": round(time.monotonic() - started, 2),
    }


def upgrade(info: dict[str, Any]) -> dict[str, Any]:
    compute = client(info)
    started = time.monotonic()
    compute.virtual_machine_scale_set_rolling_upgrades.begin_start_os_upgrade(RG, NAME).result()
    lro_seconds = round(time.monotonic() - started, 2)
    latest = compute.virtual_machine_scale_set_rolling_upgrades.get_latest(RG, NAME)
    status = latest.properties.running_status
    progress = latest.properties.progress
    history = list(compute.virtual_machine_scale_sets.get_os_upgrade_history(RG, NAME))
    vms = list(compute.virtual_machine_scale_set_vms.list(RG, NAME))
    errors: dict[str, Any] = {}
    try:  # cancel with nothing running: 409 in Azure's envelope
        compute.virtual_machine_scale_set_rolling_upgrades.begin_cancel(RG, NAME).result()
    except HttpResponseError as exc:
        errors["cancel_idle"] = {
            "status": exc.status_code,
            "code": exc.error.code if exc.error else None,
            "type": type(exc).__name__,
        }
    try:
        compute.virtual_machine_scale_sets.get(RG, "does-not-exist")
    except ResourceNotFoundError as exc:
        errors["missing"] = {"status": exc.status_code, "code": exc.error.code if exc.error else None}
    try:
        client(info, secret="wrong-secret").virtual_machine_scale_sets.get(RG, NAME)
    except ClientAuthenticationError as exc:
        errors["wrong_secret"] = {"message": str(exc)[:300]}
    return {
        "lro_seconds": lro_seconds,
        "latest": {
            "code": status.code,
            "last_action": status.last_action,
            "successful": progress.successful_instance_count,
            "failed": progress.failed_instance_count,
        },
        "history": [
            {
                "code": h.properties.running_status.code,
                "started_by": h.properties.started_by,
                "target": h.properties.target_image_reference.version,
            }
            for h in history
        ],
        "exact_versions": sorted({vm.properties.storage_profile.image_reference.exact_version for vm in vms}),
        "errors": errors,
    }


def _api_error(error: Any) -> dict[str, Any] | None:
    """An ApiError model (azure-behaviour-2 ER-1) as plain data; attribute access proves the shape."""
    if error is None:
        return None
    return {
        "code": error.code,
        "target": error.target,
        "message": error.message,
        "details": [{"code": d.code, "target": d.target, "message": d.message} for d in error.details or []],
    }


def faulted(info: dict[str, Any]) -> dict[str, Any]:
    """A start whose run ends Faulted (instant clock): the LRO fails with the run's error (ER-11), and
    rollingUpgrades/latest and osUpgradeHistory carry it as the SDK's ApiError (ER-1, ER-5); then DELETE (LRO)."""
    compute = client(info)
    upgrades = compute.virtual_machine_scale_set_rolling_upgrades
    lro: dict[str, Any] = {}
    try:
        upgrades.begin_start_os_upgrade(RG, NAME).result()
    except HttpResponseError as exc:
        lro = {"type": type(exc).__name__, "error": _api_error(exc.error)}
    latest = upgrades.get_latest(RG, NAME)
    history = list(compute.virtual_machine_scale_sets.get_os_upgrade_history(RG, NAME))
    compute.virtual_machine_scale_sets.begin_delete(RG, NAME).result()
    try:
        compute.virtual_machine_scale_sets.get(RG, NAME)
        gone = False
    except ResourceNotFoundError:
        gone = True
    return {
        "lro": lro,
        "latest": {"code": latest.properties.running_status.code, "error": _api_error(latest.properties.error)},
        "history_error": _api_error(history[0].properties.error),
        "deleted": gone,
    }


def _refusal(call: Any) -> dict[str, Any]:
    try:
        call()
    except ResourceExistsError as exc:  # the SDK's class for a 409
        return {"status": exc.status_code, "code": exc.error.code if exc.error else None, "message": exc.message}
    return {"status": None}


def conflicts(info: dict[str, Any]) -> dict[str, Any]:
    """A run left RollingForward (manual clock): a second start, a model PUT and a DELETE are 409 (CF-1..CF-3)."""
    compute = client(info)
    upgrades = compute.virtual_machine_scale_set_rolling_upgrades
    upgrades.begin_start_os_upgrade(RG, NAME, polling=False)
    running = upgrades.get_latest(RG, NAME).properties.running_status.code
    changed = body(3)
    changed["properties"]["virtualMachineProfile"]["extensionProfile"] = {
        "extensions": [
            {
                "name": "app",
                "properties": {
                    "publisher": "Microsoft.Azure.Extensions",
                    "type": "CustomScript",
                    "typeHandlerVersion": "2.1",
                },
            }
        ]
    }
    vmss = compute.virtual_machine_scale_sets
    return {
        "running": running,
        "second_start": _refusal(lambda: upgrades.begin_start_os_upgrade(RG, NAME, polling=False)),
        "put": _refusal(lambda: vmss.begin_create_or_update(RG, NAME, changed, polling=False)),
        "delete": _refusal(lambda: vmss.begin_delete(RG, NAME, polling=False)),
    }


def hooks_create(info: dict[str, Any]) -> dict[str, Any]:
    """azure-behaviour-2 LH-2, LH-4: a BatchStarting hook through the SDK's own models (its default api-version)."""
    compute = client(info)
    doc = body(3)
    doc["properties"]["upgradePolicy"]["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] = True
    doc["properties"]["lifecycleHooksProfile"] = {"lifecycleHooks": [{"type": "UpgradeAutoOSRollingBatchStarting"}]}
    vmss = compute.virtual_machine_scale_sets.begin_create_or_update(RG, NAME, doc).result()
    [hook] = vmss.properties.lifecycle_hooks_profile.lifecycle_hooks
    wait = hook.wait_duration.total_seconds()  # the SDK reads the ISO 8601 duration as a timedelta
    return {"hook": {"type": hook.type, "wait_seconds": wait, "default_action": hook.default_action}}


def hooks_decide(info: dict[str, Any]) -> dict[str, Any]:
    """LH-7, LH-8, LH-11: list, get and approve an event, each answer read through the SDK's models."""
    compute = client(info)
    events = compute.virtual_machine_scale_set_life_cycle_hook_events
    [event] = list(events.list(RG, NAME))
    got = events.get(RG, NAME, event.name)
    assert got.id == event.id and got.properties.wait_until == event.properties.wait_until
    target = event.properties.target_resources[0]
    patch = {"properties": {"targetResources": [{"resource": {"id": target.resource.id}, "actionState": "Approved"}]}}
    updated = events.update(RG, NAME, event.name, patch)
    try:
        events.get(RG, NAME, "00000000-0000-0000-0000-000000000000")
        missing: dict[str, Any] = {"status": None}
    except ResourceNotFoundError as exc:
        missing = {"status": exc.status_code, "code": exc.error.code if exc.error else None}
    return {
        "listed": {
            "type": event.type,
            "hook_type": event.properties.type,
            "state": event.properties.state,
            "targets": [(t.resource.id.rsplit("/", 1)[-1], t.action_state) for t in event.properties.target_resources],
            "default_action": event.properties.default_action,
            # Strings in this SDK's model: the timestamps as the endpoint wrote them.
            "times": [event.properties.time_created, event.properties.wait_until, event.properties.max_wait_until],
        },
        "updated": {
            "state": updated.properties.state,
            "targets": [t.action_state for t in updated.properties.target_resources],
        },
        "missing": missing,
    }


def extension(info: dict[str, Any]) -> dict[str, Any]:
    """``begin_start_extension_upgrade`` (azure-behaviour-2 EX-1): the LRO ends, the run is rollingUpgrades/latest
    in the SDK's model, and never an osUpgradeHistory entry (EX-4); a second start while one runs is 409 (EX-5)."""
    compute = client(info)
    upgrades = compute.virtual_machine_scale_set_rolling_upgrades
    upgrades.begin_start_extension_upgrade(RG, NAME).result()
    latest = upgrades.get_latest(RG, NAME)
    history = list(compute.virtual_machine_scale_sets.get_os_upgrade_history(RG, NAME))
    return {
        "latest": {
            "code": latest.properties.running_status.code,
            "successful": latest.properties.progress.successful_instance_count,
            "max_batch": latest.properties.policy.max_batch_instance_percent,
        },
        "history": len(history),
    }


def extension_conflict(info: dict[str, Any]) -> dict[str, Any]:
    """Manual clock: an extension run left RollingForward; an OS start and a second extension start are 409."""
    compute = client(info)
    upgrades = compute.virtual_machine_scale_set_rolling_upgrades
    upgrades.begin_start_extension_upgrade(RG, NAME, polling=False)
    return {
        "running": upgrades.get_latest(RG, NAME).properties.running_status.code,
        "os_start": _refusal(lambda: upgrades.begin_start_os_upgrade(RG, NAME, polling=False)),
        "extension_start": _refusal(lambda: upgrades.begin_start_extension_upgrade(RG, NAME, polling=False)),
    }


def repairs(info: dict[str, Any]) -> dict[str, Any]:
    """azure-behaviour-2 AR-1, AR-8, AR-9: the repairs policy in azure-mgmt-compute's AutomaticRepairsPolicy model,
    the instance view's OrchestrationServiceSummary list, and begin_set_orchestration_service_state."""
    from azure.mgmt.compute.models import AutomaticRepairsPolicy  # pylint: disable=import-outside-toplevel

    compute = client(info)
    vmss = compute.virtual_machine_scale_sets
    current = vmss.get(RG, NAME)
    current.properties.automatic_repairs_policy = AutomaticRepairsPolicy(
        enabled=True, grace_period="PT30M", repair_action="Reimage"
    )
    vmss.begin_create_or_update(RG, NAME, current).result()
    policy = vmss.get(RG, NAME).properties.automatic_repairs_policy
    assert isinstance(policy, AutomaticRepairsPolicy), type(policy)
    before = vmss.get_instance_view(RG, NAME).orchestration_services
    vmss.begin_set_orchestration_service_state(
        RG, NAME, {"serviceName": "AutomaticRepairs", "action": "Suspend"}
    ).result()
    after = vmss.get_instance_view(RG, NAME).orchestration_services
    return {
        "policy": {
            "enabled": policy.enabled,
            "grace_period": policy.grace_period,
            "repair_action": policy.repair_action,
        },
        "services": [[(s.service_name, s.service_state) for s in v or []] for v in (before, after)],
    }


def main() -> int:
    info = json.loads(os.environ["AZSIM_ARM_INFO"])
    phases = {
        "create": create,
        "upgrade": upgrade,
        "faulted": faulted,
        "conflicts": conflicts,
        "extension": extension,
        "extension_conflict": extension_conflict,
        "repairs": repairs,
        "hooks_create": hooks_create,
        "hooks_decide": hooks_decide,
    }
    phase = phases[sys.argv[1]]
    print(json.dumps(phase(info)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
