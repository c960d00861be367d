# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure's REST bodies to the actions' named arguments, and the actions' views to REST bodies.

A PUT of a scale set is Azure's full model; ``ensure_scale_set`` takes the module's options. What a
PUT leaves out of an existing scale set keeps its value where Azure keeps it (arm-endpoint-research §7:
``imageReference``), and a part sent back unchanged, as ``az vmss update`` sends the GET output, changes
nothing (extensions keep their protected settings, which a GET never shows).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError
from ansible_collections.azsim.vmss.plugins.module_utils._model.custom_metrics import (
    metrics_message,
    reads_custom_metrics,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import extensions_of, is_health_extension
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import (
    FLEXIBLE,
    orchestration_mode,
    slot_order,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import POLICY_FIELDS
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import protection_policy, scale_in

VM_TYPE = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
_PROFILE = "properties.virtualMachineProfile"


def _invalid(target: str, message: str) -> ArmError:
    return ArmError(400, "InvalidParameter", message, target=target)


def _object(parent: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid(f"{where}.{key}".lstrip("."), f"{where}.{key}: expected an object, got {type(value).__name__}.")
    return value


def instance_names(capacity: Any, name: str, current: list[dict[str, Any]]) -> list[str] | None:
    """Instances for ``sku.capacity``: existing ones kept (lowest ids first), new ones named ``{vmss}_{i}``."""
    if capacity is None:
        return None
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= 1000:
        raise _invalid("sku.capacity", f"sku.capacity: {capacity!r} is not allowed; use a whole number from 0 to 1000.")
    # Once per host: during a maxSurge batch a host has two instances (azure-behaviour-2 MS-6, D10).
    names = list(dict.fromkeys(i["name"] for i in slot_order(current)))
    if capacity == len(names):
        return None
    if capacity < len(names):
        # azure-behaviour-2 IP-9, D8: a scale-in never picks an instance protected from it.
        firsts = list({i["name"]: i for i in reversed(slot_order(current))}.values())
        return [i["name"] for i in scale_in(firsts, capacity, name)]
    used, index = set(names), 0
    while len(names) < capacity:
        candidate = f"{name}_{index}"
        if candidate not in used:
            names.append(candidate)
            used.add(candidate)
        index += 1
    return names


def _image(reference: dict[str, Any] | None) -> dict[str, Any] | None:
    if reference is None:
        return None
    if reference.get("id"):
        return {"id": reference["id"]}
    image = {k: reference.get(k) for k in ("publisher", "offer", "sku")}
    image["version"] = reference.get("version") or "latest"
    return image


def _extensions(profile: dict[str, Any], current: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    ext_profile = _object(profile, "extensionProfile", _PROFILE)
    if ext_profile is None:
        return None
    given = ext_profile.get("extensions") or []
    if current is not None:
        current_profile = current["properties"]["virtualMachineProfile"].get("extensionProfile") or {}
        if _comparable(given) == _comparable(current_profile.get("extensions") or []):
            return None  # sent back as read: keep, protected settings included
    out = []
    for index, ext in enumerate(given):
        where = f"{_PROFILE}.extensionProfile.extensions[{index}]"
        props = ext.get("properties") if isinstance(ext, dict) else None
        if not isinstance(props, dict):
            raise _invalid(where, f"{where}: expected an object with name and properties.")
        for required in ("publisher", "type", "typeHandlerVersion"):
            if not props.get(required):
                raise _invalid(f"{where}.properties.{required}", f"{where}.properties.{required}: required.")
        if not ext.get("name"):
            raise _invalid(f"{where}.name", f"{where}.name: required.")
        out.append(
            {
                "name": ext["name"],
                "publisher": props["publisher"],
                "type": props["type"],
                "type_handler_version": props["typeHandlerVersion"],
                "settings": props.get("settings"),
                "protected_settings": props.get("protectedSettings"),
                "provision_after_extensions": props.get("provisionAfterExtensions"),
                "enable_automatic_upgrade": props.get("enableAutomaticUpgrade"),
            }
        )
    return out


def _comparable(extensions: list[Any]) -> list[Any]:
    keys = ("publisher", "type", "typeHandlerVersion", "settings", "provisionAfterExtensions", "enableAutomaticUpgrade")
    return sorted(
        (
            [e.get("name"), [(k, (e.get("properties") or {}).get(k)) for k in keys]]
            for e in extensions
            if isinstance(e, dict)
        ),
        key=repr,
    )


def _health_probe(profile: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | None:
    network = _object(profile, "networkProfile", _PROFILE)
    if network is None:
        return None
    probe = _object(network, "healthProbe", f"{_PROFILE}.networkProfile")
    current_id = None
    if current is not None:
        current_id = (
            (current["properties"]["virtualMachineProfile"].get("networkProfile") or {}).get("healthProbe") or {}
        ).get("id")
    wanted = (probe or {}).get("id")
    if wanted is not None and current_id is not None and str(wanted).lower() == str(current_id).lower():
        return None
    return {"id": wanted} if wanted else ({} if current_id else None)


def _os(profile: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    storage = profile.get("storageProfile") or {}
    os_type = ((storage.get("osDisk") or {}).get("osType") or "").lower() or None
    windows = (profile.get("osProfile") or {}).get("windowsConfiguration")
    if windows is not None and os_type is None:
        os_type = "windows"
    config = None
    if isinstance(windows, dict) and windows:
        config = {
            "enable_automatic_updates": windows.get("enableAutomaticUpdates"),
            "patch_mode": (windows.get("patchSettings") or {}).get("patchMode"),
        }
    return os_type, config


def scale_set_options(
    body: dict[str, Any], name: str, api_version: str, current: dict[str, Any] | None, instances: list[dict[str, Any]]
) -> dict[str, Any]:
    """``ensure_scale_set``'s options from a PUT body (``current``: the scale set's REST model, if it exists)."""
    location = body.get("location")
    if current is None and not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    properties = _object(body, "properties", "") or {}
    profile = _object(properties, "virtualMachineProfile", "properties") or {}
    storage = _object(profile, "storageProfile", _PROFILE) or {}
    sku = _object(body, "sku", "") or {}
    os_type, windows = _os(profile)
    options: dict[str, Any] = {
        "location": location,
        "api_version": api_version,
        "image": _image(_object(storage, "imageReference", f"{_PROFILE}.storageProfile")),
        "instances": instance_names(sku.get("capacity"), name, instances) if current or "capacity" in sku else None,
        "extensions": _extensions(profile, current),
        "health_probe": _health_probe(profile, current),
        "zones": body.get("zones"),
        "single_placement_group": properties.get("singlePlacementGroup"),
        # azure-behaviour-2 LH-2: Azure's names are accepted as they are; absent keeps the hooks.
        "lifecycle_hooks": (_object(properties, "lifecycleHooksProfile", "properties") or {}).get("lifecycleHooks"),
        "automatic_repairs": _repairs_policy(properties),
        # azure-behaviour-2 §11: chosen at creation (absent: Uniform), refused as a change afterwards.
        "orchestration_mode": properties.get("orchestrationMode"),
    }
    if os_type in ("windows", "linux"):
        options["os_type"] = os_type
    if windows:
        options["windows_configuration"] = windows
    return {k: v for k, v in options.items() if v is not None}


def _repairs_policy(properties: dict[str, Any]) -> dict[str, Any] | None:
    """``automatic_repairs`` from ``properties.automaticRepairsPolicy`` (azure-behaviour-2 AR-1); the core checks
    the values and the requirements, as for the module."""
    policy = _object(properties, "automaticRepairsPolicy", "properties")
    if policy is None:
        return None
    return {
        "enabled": policy.get("enabled"),
        "grace_period": policy.get("gracePeriod"),
        "repair_action": policy.get("repairAction"),
    }


def policy_arguments(body: dict[str, Any]) -> dict[str, Any] | None:
    """``set_upgrade_policy``'s arguments from ``properties.upgradePolicy`` (None if the body has none)."""
    policy = _object(_object(body, "properties", "") or {}, "upgradePolicy", "properties")
    if policy is None:
        return None
    args: dict[str, Any] = {}
    for field in POLICY_FIELDS:
        source = policy if field.group is None else _object(policy, field.group, "properties.upgradePolicy")
        if not source or source.get(field.name) is None:
            continue
        value = source[field.name]
        if field.group is None:
            if isinstance(value, str):
                value = value[:1].upper() + value[1:].lower()
            args["mode"] = value
        else:
            group_option, key = field.option.split(".", 1)
            args.setdefault(group_option, {})[key] = value
    return args


def vm_view(vmss: dict[str, Any], instance: dict[str, Any]) -> dict[str, Any]:
    """One instance as ``GET .../virtualMachines`` lists it."""
    iid = str(instance["instance_id"])
    profile = vmss["properties"]["virtualMachineProfile"]
    reference = dict(profile.get("storageProfile", {}).get("imageReference") or {})
    reference["exactVersion"] = instance["os_disk"]["image_version"]
    flexible = orchestration_mode(vmss) == FLEXIBLE
    vm: dict[str, Any] = {
        # azure-behaviour-2 FX-6: on Flexible the instance id is already the VM's name, and the VM a resource of
        # its own (Microsoft.Compute/virtualMachines/{name}).
        "name": iid if flexible else f"{vmss['name']}_{iid}",
        "id": flexible_vm_id(vmss, iid) if flexible else f"{vmss['id']}/virtualMachines/{iid}",
        "type": VM_TYPE,
        "instanceId": iid,
        "location": vmss["location"],
        "sku": {"name": vmss["sku"]["name"], "tier": vmss["sku"].get("tier", "Standard")},
        "properties": {
            "latestModelApplied": bool(instance.get("latest_model_applied")),
            # azure-behaviour-2 IP-1: on the instance model, both false until set (api-version 2019-03-01 on).
            "protectionPolicy": dict(protection_policy(instance)),
            "provisioningState": instance.get("provisioning_state") or "Succeeded",
            "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, vmss["id"].lower() + "/" + iid)),
            "osProfile": {"computerName": instance["name"]},
            "storageProfile": {
                "imageReference": reference,
                "osDisk": {
                    "name": instance["os_disk"]["name"],
                    "osType": (profile.get("storageProfile", {}).get("osDisk") or {}).get("osType", "Linux"),
                },
            },
        },
    }
    if flexible:
        vm["properties"]["virtualMachineScaleSet"] = {"id": vmss["id"]}
    if instance.get("zone") is not None:
        vm["zones"] = [str(instance["zone"])]
    return vm


def flexible_vm_id(vmss: dict[str, Any], name: str) -> str:
    """A Flexible scale set's VM as a resource of its own (azure-behaviour-2 FX-6, LH-14)."""
    return f"{vmss['id'].split('/providers/')[0]}/providers/Microsoft.Compute/virtualMachines/{name}"


def merge_patch(target: Any, patch: Any) -> Any:
    """Azure's PATCH of a resource: objects merge key by key, anything else (lists too) replaces (RFC 7396)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


# -- instance views --------------------------------------------------------------------------------

_POWER = {"running": "VM running", "stopped": "VM stopped", "deallocated": "VM deallocated"}
_HEALTH = {
    "Healthy": "The VM is reporting healthy",
    "Unhealthy": "The VM is reporting unhealthy",
    "Initializing": "The VM is initializing",
    "Unknown": "The VM health is unknown",
}


def _status(code: str, display: str, time: str | None = None, level: str = "Info") -> dict[str, Any]:
    status: dict[str, Any] = {"code": code, "level": level, "displayStatus": display}
    if time is not None:
        status["time"] = time
    return status


def _provisioning(state: str, time: str | None = None) -> dict[str, Any]:
    level = "Error" if state == "Failed" else "Info"
    return _status(f"ProvisioningState/{state.lower()}", f"Provisioning {state.lower()}", time, level)


def _reports_health(vmss: dict[str, Any]) -> bool:
    """Azure shows vmHealth where application health is monitored: a health extension or a probe."""
    profile = vmss["properties"]["virtualMachineProfile"]
    if (profile.get("networkProfile") or {}).get("healthProbe"):
        return True
    return any(is_health_extension(e) for e in extensions_of(vmss))


def _custom_metrics(vmss: dict[str, Any], instance: dict[str, Any], extension: str) -> dict[str, Any]:
    """azure-behaviour-2 AH-10: the health extension's ``substatuses`` carry the application's custom metrics."""
    metrics = instance.get("custom_metrics")
    health = next((e for e in extensions_of(vmss) if e["name"] == extension and is_health_extension(e)), None)
    if metrics is None or health is None or not reads_custom_metrics(vmss):
        return {}
    substatus = _status("ComponentStatus/CustomMetrics/succeeded", "Provisioning succeeded")
    return {"substatuses": [{**substatus, "message": metrics_message(metrics)}]}


def vm_instance_view(
    vmss: dict[str, Any], instance: dict[str, Any], now: str, standalone: bool = False
) -> dict[str, Any]:
    """``GET .../virtualMachines/{id}/instanceView``: statuses, health, extensions and disks of one instance.

    azure-behaviour-2 FX-7: a Flexible VM reports its health only on its own VM view (``standalone``,
    ``Microsoft.Compute/virtualMachines/{name}/instanceView``), not under the scale set's path."""
    power = str(instance.get("power_state") or "running")
    view: dict[str, Any] = {
        "platformUpdateDomain": int(instance.get("update_domain") or 0),
        # azure-behaviour-2 CZ-7, FX-5: a Flexible VM's fault domain is the one its batches follow.
        "platformFaultDomain": int(instance.get("fault_domain") or 0),
        "computerName": instance["name"],
        "statuses": [
            _provisioning(str(instance.get("provisioning_state") or "Succeeded"), now),
            _status(f"PowerState/{power}", _POWER.get(power, power)),
        ],
        "extensions": [
            {
                "name": ext["name"],
                "type": next(
                    (
                        f"{e['properties']['publisher']}.{e['properties']['type']}"
                        for e in extensions_of(vmss)
                        if e["name"] == ext["name"]
                    ),
                    None,
                ),
                "statuses": [_provisioning(str(ext.get("provisioning_state") or "Succeeded"))],
                **_custom_metrics(vmss, instance, ext["name"]),
            }
            for ext in instance.get("extensions") or []
        ],
        "disks": [{"name": instance["os_disk"]["name"], "statuses": [_provisioning("Succeeded")]}],
    }
    if _reports_health(vmss) and (standalone or orchestration_mode(vmss) != FLEXIBLE):
        health = str(instance.get("health") or "Unknown")
        view["vmHealth"] = {"status": _status(f"HealthState/{health.lower()}", _HEALTH.get(health, health))}
    return view


def _summary(codes: list[str]) -> list[dict[str, Any]]:
    return [{"code": code, "count": codes.count(code)} for code in sorted(set(codes))]


def scale_set_instance_view(vmss: dict[str, Any], instances: list[dict[str, Any]], now: str) -> dict[str, Any]:
    """``GET .../virtualMachineScaleSets/{vmss}/instanceView``: counts of the instances' states."""
    states = [str(i.get("provisioning_state") or "Succeeded") for i in instances]
    extensions = []
    for ext in extensions_of(vmss):
        codes = [
            f"ProvisioningState/{str(e.get('provisioning_state') or 'Succeeded').lower()}"
            for i in instances
            for e in i.get("extensions") or []
            if e["name"] == ext["name"]
        ]
        extensions.append({"name": ext["name"], "statusesSummary": _summary(codes)})
    overall = "Failed" if "Failed" in states else ("Updating" if "Updating" in states else "Succeeded")
    return {
        "virtualMachine": {"statusesSummary": _summary([f"ProvisioningState/{s.lower()}" for s in states])},
        "extensions": extensions,
        "statuses": [_provisioning(overall, now)],
    }


# -- the parts of a PUT the simulator does not model -----------------------------------------------

# Paths the collection's model answers for (from scale_set_options and the resource's own fields), and
# secrets Azure never returns: never kept as extras.
_MODEL_PATHS: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("name",),
    ("type",),
    ("location",),
    ("etag",),
    ("zones",),
    ("sku", "capacity"),
    ("properties", "provisioningState"),
    ("properties", "uniqueId"),
    ("properties", "timeCreated"),
    ("properties", "singlePlacementGroup"),
    ("properties", "upgradePolicy"),
    ("properties", "lifecycleHooksProfile"),
    ("properties", "virtualMachineProfile", "storageProfile", "imageReference"),
    ("properties", "virtualMachineProfile", "storageProfile", "osDisk", "osType"),
    ("properties", "virtualMachineProfile", "extensionProfile"),
    ("properties", "virtualMachineProfile", "networkProfile", "healthProbe"),
    ("properties", "virtualMachineProfile", "osProfile", "windowsConfiguration"),
    ("properties", "virtualMachineProfile", "osProfile", "adminPassword"),
    ("properties", "virtualMachineProfile", "osProfile", "customData"),
)


def extras_of(body: dict[str, Any]) -> dict[str, Any]:
    """What a scale set body holds beyond the model (VM size, network interfaces, OS disk settings...)."""
    extras = copy.deepcopy(body)
    for path in _MODEL_PATHS:
        parent: Any = extras
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    pruned: dict[str, Any] = _prune(extras)
    return pruned


def _prune(doc: Any) -> Any:
    if not isinstance(doc, dict):
        return doc
    pruned = {k: _prune(v) for k, v in doc.items() if v is not None}
    return {k: v for k, v in pruned.items() if v != {}}


def overlay(view: dict[str, Any], extras: dict[str, Any] | None) -> dict[str, Any]:
    """The model's view with the kept extras laid over it (objects merge; the extras never hold model paths)."""
    if not extras:
        return view
    merged = copy.deepcopy(view)
    for key, value in extras.items():
        current = merged.get(key)
        merged[key] = overlay(current, value) if isinstance(current, dict) and isinstance(value, dict) else value
    return merged
