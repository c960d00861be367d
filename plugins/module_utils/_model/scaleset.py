# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated scale set: its REST model, its simulator settings and its instances.

A scale set is stored as one record (``scale_sets`` table) and one row per instance. The record::

    model                 the VirtualMachineScaleSet resource in Azure's REST shape (camelCase)
    api_version           the Compute API version the model is written against
    os_type               linux | windows
    health_probe          {id, protocol, port, request_path, load_balancer_sku} or None
    service_fabric        {durability, extension_durability, stateless_only} or None
    extension_secrets     {name: {credential_expiry, protected_settings_hmac}}; secrets are never kept
    simulation            {seed, reimage_duration, boot_duration, first_rollout_delay, rollout_delay, faults}
    instance_ids          {host name: instance id}, kept after scale-in so a name keeps its id
    next_instance_id      the next id for a name never seen before
    model_version         bumped on every change of the model that instances must take

Instances are plain dicts with the public keys of design.md, plus ``model_version`` (what the instance
runs) and ``disk_generation`` (for new OS disk names).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import (
    extensions_of,
    is_service_fabric_extension,
    provision,
    sequence,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import initial_health
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_duration, parse_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import (
    check_instance_name,
    check_resource_group,
    check_scale_set_name,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.schema import SIMULATION_SCHEMA, VMSS_SCHEMA, validate
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import parse_version

DEFAULT_API_VERSION = "2024-11-01"
DEFAULT_LOCATION = "eastus"
DEFAULT_SKU = "Standard_D2s_v3"
DEFAULT_UPGRADE_POLICY: dict[str, Any] = {
    "mode": "Manual",
    "automaticOSUpgradePolicy": {
        "enableAutomaticOSUpgrade": False,
        "disableAutomaticRollback": False,
        "useRollingUpgradePolicy": False,
        "osRollingUpgradeDeferral": False,
    },
    "rollingUpgradePolicy": {
        "maxBatchInstancePercent": 20,
        "maxUnhealthyInstancePercent": 20,
        "maxUnhealthyUpgradedInstancePercent": 20,
        "pauseTimeBetweenBatches": "PT0S",
        "enableCrossZoneUpgrade": False,
        "prioritizeUnhealthyInstances": False,
        "rollbackFailedInstancesOnPolicyBreach": False,
        "maxSurge": False,
    },
}
DEFAULT_SIMULATION: dict[str, Any] = {
    "seed": 0,
    "reimage_duration": "PT3M",
    "boot_duration": "PT1M",
    "first_rollout_delay": "PT3H",
    "rollout_delay": "PT30M",
    "faults": [],
}
INSTANCE_KEYS = ("name", "zone", "update_domain", "health", "power_state", "data_disks")
HEALTH_STATES = ("Healthy", "Unhealthy", "Unknown", "Initializing")
POWER_STATES = ("running", "stopped", "deallocated")
DATA_DISK_KEYS = ("lun", "name", "disk_size_gb")
UPDATE_DOMAINS = 5
_API_VERSION_FORM = "YYYY-MM-DD, e.g. 2024-11-01"


def scale_set_id(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/"
        f"Microsoft.Compute/virtualMachineScaleSets/{name}"
    )


def record_key(record: dict[str, Any]) -> str:
    return str(record["model"]["id"]).lower()


# -- persistence -----------------------------------------------------------------------------------


def load(store: Store, subscription_id: str, resource_group: str, name: str) -> dict[str, Any] | None:
    return store.get_doc("scale_sets", {"key": scale_set_id(subscription_id, resource_group, name).lower()})


def load_or_fail(store: Store, subscription_id: str, resource_group: str, name: str) -> dict[str, Any]:
    record = load(store, subscription_id, resource_group, name)
    if record is None:
        raise NotFound(
            f"scale set {name} in resource group {resource_group} (subscription {subscription_id}) does not exist "
            "in the store; create it with azsim.vmss.vmss"
        )
    return record


def list_records(store: Store, subscription_id: str, resource_group: str) -> list[dict[str, Any]]:
    return store.list_docs(
        "scale_sets", {"subscription_id": subscription_id.lower(), "resource_group": resource_group.lower()}, "key"
    )


def save(store: Store, record: dict[str, Any]) -> None:
    model = record["model"]
    sub = model["id"].split("/")[2]
    rg = model["id"].split("/")[4]
    store.put_doc(
        "scale_sets",
        {"key": record_key(record), "subscription_id": sub.lower(), "resource_group": rg.lower()},
        record,
    )
    _adopt(store, record_key(record), record=record)


def load_instances(store: Store, key: str) -> list[dict[str, Any]]:
    return store.list_docs("instances", {"scale_set": key}, "instance_id")


def save_instances(store: Store, key: str, instances: list[dict[str, Any]]) -> None:
    """Replace the scale set's instances with ``instances``."""
    store.delete_docs("instances", {"scale_set": key})
    store.put_docs(
        "instances", [({"scale_set": key, "instance_id": int(i["instance_id"])}, i) for i in instances]
    )
    _adopt(store, key, instances=instances)


def delete(store: Store, key: str) -> None:
    store.delete_docs("scale_sets", {"key": key})
    store.delete_docs("instances", {"scale_set": key})
    fleet = store.extras.get("fleet")
    if fleet is not None:
        fleet.forget(key)


def _adopt(store: Store, key: str, **saved: Any) -> None:
    """Keep the call's in-memory fleet (_fleet.py), if any, in step with what was just written."""
    fleet = store.extras.get("fleet")
    if fleet is not None:
        fleet.adopt(key, **saved)


# -- what the user sees ----------------------------------------------------------------------------


def public_instance(instance: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in instance.items() if k not in ("model_version", "disk_generation")}
    out["latest_model_applied"] = instance.get("model_version") == record["model_version"]
    return out


def public_view(record: dict[str, Any], instances: list[dict[str, Any]]) -> dict[str, Any]:
    """The module result: ``vmss`` (REST), ``instances`` and ``simulator`` (settings with no REST home)."""
    vmss = copy.deepcopy(record["model"])
    vmss["sku"]["capacity"] = len(instances)
    secrets = record["extension_secrets"]
    return {
        "vmss": vmss,
        "instances": [public_instance(i, record) for i in instances],
        "simulator": {
            "api_version": record["api_version"],
            "os_type": record["os_type"],
            "health_probe": record["health_probe"],
            "service_fabric": record["service_fabric"],
            "simulation": record["simulation"],
            "credential_expiry": {
                name: format_timestamp(s["credential_expiry"]) if s.get("credential_expiry") is not None else None
                for name, s in sorted(secrets.items())
            },
            "model_version": record["model_version"],
        },
    }


def _snapshot(record: dict[str, Any] | None, instances: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``changed`` and ``diff`` compare: the public view. A change of protected settings or a credential
    shows there as a new ``simulator.model_version``, never as the secret or its fingerprint."""
    if record is None:
        return {}
    return public_view(record, instances)


# -- building the model from module options ----------------------------------------------------------


def _image_reference(image: dict[str, Any], subscription_id: str) -> dict[str, Any]:
    if image.get("id"):
        if any(image.get(k) for k in ("publisher", "offer", "sku", "version")):
            raise InvalidInput("image: give either id, or publisher, offer, sku and version, not both")
        gallery_id, version = catalogue.split_gallery_reference(image["id"], "image.id")
        return {"id": gallery_id + (f"/versions/{version}" if version else "")}
    missing = [k for k in ("publisher", "offer", "sku") if not image.get(k)]
    if missing:
        raise InvalidInput(
            f"image: {', '.join(missing)} missing; give publisher, offer, sku (and version, default latest), or id"
        )
    version = image.get("version") or "latest"
    if version.lower() == "latest":
        version = "latest"
    else:
        parse_version(version, "image.version")
    return {"publisher": image["publisher"], "offer": image["offer"], "sku": image["sku"], "version": version}


def _extension_models(
    extensions: list[dict[str, Any]], fingerprint_key: bytes
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """REST extensions and their secret fingerprints from the ``extensions`` option.

    A fingerprint is an HMAC under the store's own random key, so that reading the store does not
    let anyone test guesses of a protected setting; it only tells that the settings changed.
    """
    models: list[dict[str, Any]] = []
    secrets: dict[str, dict[str, Any]] = {}
    for index, ext in enumerate(extensions):
        where = f"extensions[{index}]"
        for required in ("name", "publisher", "type", "type_handler_version"):
            if not ext.get(required):
                raise InvalidInput(f"{where}.{required}: required")
        props: dict[str, Any] = {
            "publisher": ext["publisher"],
            "type": ext["type"],
            "typeHandlerVersion": ext["type_handler_version"],
            "autoUpgradeMinorVersion": True,
        }
        if ext.get("provision_after_extensions"):
            props["provisionAfterExtensions"] = list(ext["provision_after_extensions"])
        if ext.get("settings") is not None:
            props["settings"] = ext["settings"]
        models.append({"name": ext["name"], "properties": props})
        expiry = ext.get("credential_expiry")
        protected = ext.get("protected_settings")
        secrets[ext["name"]] = {
            "credential_expiry": parse_timestamp(expiry, f"{where}.credential_expiry") if expiry else None,
            "protected_settings_hmac": (
                hmac.new(fingerprint_key, json.dumps(protected, sort_keys=True).encode(), hashlib.sha256).hexdigest()
                if protected
                else None
            ),
        }
    sequence(models)
    return models, secrets


def _health_probe(probe: dict[str, Any] | None, record: dict[str, Any]) -> dict[str, Any] | None:
    if not probe or all(v is None for k, v in probe.items() if k != "load_balancer_sku"):
        return None
    sku = probe.get("load_balancer_sku") or "Standard"
    if probe.get("id"):
        if probe.get("protocol") or probe.get("port") or probe.get("request_path"):
            raise InvalidInput("health_probe: give either id, or protocol, port and request_path, not both")
        return {"id": probe["id"], "protocol": None, "port": None, "request_path": None, "load_balancer_sku": sku}
    protocol = (probe.get("protocol") or "").lower()
    port = probe.get("port")
    if protocol not in ("tcp", "http", "https") or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidInput(
            "health_probe: give id, or protocol (tcp, http or https) and port (1 to 65535), and request_path for "
            "http and https"
        )
    if protocol != "tcp" and not probe.get("request_path"):
        raise InvalidInput(f"health_probe.request_path: required for protocol {protocol}, e.g. /health")
    base = record["model"]["id"].split("/providers/")[0]
    name = record["model"]["name"]
    return {
        "id": f"{base}/providers/Microsoft.Network/loadBalancers/{name}-lb/probes/{protocol}-{port}",
        "protocol": protocol,
        "port": port,
        "request_path": probe.get("request_path") if protocol != "tcp" else None,
        "load_balancer_sku": sku,
    }


def _service_fabric(value: dict[str, Any] | None, os_type: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Cluster settings and the Service Fabric node extension the model must carry."""
    if not value or all(v is None for v in value.values()):
        return None, None
    durability = value.get("durability") or "Silver"
    settings = {
        "durability": durability,
        "extension_durability": value.get("extension_durability") or durability,
        "stateless_only": bool(value.get("stateless_only")),
    }
    extension = {
        "name": "ServiceFabricNode",
        "properties": {
            "publisher": "Microsoft.Azure.ServiceFabric",
            "type": "ServiceFabricNode" if os_type == "windows" else "ServiceFabricLinuxNode",
            "typeHandlerVersion": "1.1",
            "autoUpgradeMinorVersion": True,
            "settings": {"durabilityLevel": settings["extension_durability"]},
        },
    }
    return settings, extension


def _new_record(subscription_id: str, resource_group: str, name: str, location: str, now: int) -> dict[str, Any]:
    vmss_id = scale_set_id(subscription_id, resource_group, name)
    unique = hashlib.sha256(vmss_id.lower().encode()).hexdigest()
    return {
        "model": {
            "id": vmss_id,
            "name": name,
            "type": "Microsoft.Compute/virtualMachineScaleSets",
            "location": location,
            "sku": {"name": DEFAULT_SKU, "tier": "Standard", "capacity": 0},
            "properties": {
                "singlePlacementGroup": True,
                "upgradePolicy": copy.deepcopy(DEFAULT_UPGRADE_POLICY),
                "virtualMachineProfile": {},
                "provisioningState": "Succeeded",
                "uniqueId": f"{unique[:8]}-{unique[8:12]}-{unique[12:16]}-{unique[16:20]}-{unique[20:32]}",
                "timeCreated": format_timestamp(now),
            },
        },
        "api_version": DEFAULT_API_VERSION,
        "os_type": "linux",
        "health_probe": None,
        "service_fabric": None,
        "extension_secrets": {},
        "simulation": copy.deepcopy(DEFAULT_SIMULATION),
        "instance_ids": {},
        "next_instance_id": 0,
        "model_version": 1,
    }


def _check_api_version(value: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", value):
        raise InvalidInput(f"api_version: {value!r} is not a Compute API version; use {_API_VERSION_FORM}")
    return value


def apply_options(
    record: dict[str, Any], params: dict[str, Any], subscription_id: str, fingerprint_key: bytes, creating: bool
) -> None:
    """Write the given options into the record; options left unset keep their current value."""
    model = record["model"]
    props = model["properties"]
    profile = props["virtualMachineProfile"]
    if params.get("api_version"):
        record["api_version"] = _check_api_version(params["api_version"])
    if params.get("os_type"):
        record["os_type"] = params["os_type"]
    if params.get("image"):
        profile.setdefault("storageProfile", {})["imageReference"] = _image_reference(params["image"], subscription_id)
    elif creating:
        raise InvalidInput(f"image: required to create scale set {model['name']}")
    storage = profile["storageProfile"]
    storage["osDisk"] = {
        "osType": record["os_type"].capitalize(),
        "createOption": "FromImage",
        "caching": "ReadWrite",
        "managedDisk": {"storageAccountType": "Premium_LRS"},
    }
    os_profile = profile.setdefault("osProfile", {"computerNamePrefix": model["name"][:9]})
    windows = params.get("windows_configuration")
    if windows and any(v is not None for v in windows.values()):
        if record["os_type"] != "windows":
            raise InvalidInput("windows_configuration: only for os_type windows")
        config: dict[str, Any] = {}
        if windows.get("enable_automatic_updates") is not None:
            config["enableAutomaticUpdates"] = windows["enable_automatic_updates"]
        if windows.get("patch_mode"):
            config["patchSettings"] = {"patchMode": windows["patch_mode"]}
        os_profile["windowsConfiguration"] = config
    if record["os_type"] == "windows":
        os_profile.pop("linuxConfiguration", None)
        os_profile.setdefault("windowsConfiguration", {})
    else:
        os_profile.pop("windowsConfiguration", None)
        os_profile["linuxConfiguration"] = {"disablePasswordAuthentication": True}
    if params.get("extensions") is not None:
        extensions, secrets = _extension_models(params["extensions"], fingerprint_key)
        record["extension_secrets"] = secrets
        profile["extensionProfile"] = {"extensions": extensions}
    if params.get("service_fabric") is not None:
        record["service_fabric"], sf_extension = _service_fabric(params["service_fabric"], record["os_type"])
        current = [e for e in extensions_of(model) if not is_service_fabric_extension(e) or e["name"] != "ServiceFabricNode"]
        if sf_extension is not None and not any(is_service_fabric_extension(e) for e in current):
            current.append(sf_extension)
        elif sf_extension is not None:
            for ext in current:
                if is_service_fabric_extension(ext):
                    ext["properties"].setdefault("settings", {})["durabilityLevel"] = record["service_fabric"][
                        "extension_durability"
                    ]
        profile["extensionProfile"] = {"extensions": current}
    if params.get("health_probe") is not None:
        record["health_probe"] = _health_probe(params["health_probe"], record)
    if record["health_probe"]:
        profile["networkProfile"] = {"healthProbe": {"id": record["health_probe"]["id"]}}
    else:
        profile.pop("networkProfile", None)
    if params.get("single_placement_group") is not None:
        props["singlePlacementGroup"] = params["single_placement_group"]
    if params.get("zones") is not None:
        zones = [str(z) for z in params["zones"]]
        if zones:
            model["zones"] = zones
        else:
            model.pop("zones", None)
    if params.get("simulation") is not None:
        simulation = copy.deepcopy(record["simulation"])
        simulation.update({k: v for k, v in params["simulation"].items() if v is not None})
        validate(simulation, SIMULATION_SCHEMA, "simulation")
        for option in ("reimage_duration", "boot_duration", "first_rollout_delay", "rollout_delay"):
            parse_duration(simulation[option], f"simulation.{option}")
        record["simulation"] = simulation
    validate(model, VMSS_SCHEMA)
    sequence(extensions_of(model), "properties.virtualMachineProfile.extensionProfile.extensions")


# -- instances -------------------------------------------------------------------------------------


def normalize_instances(value: list[Any], zones: list[str]) -> list[dict[str, Any]]:
    """The ``instances`` option as dicts with every key present (None when not given)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"instances[{index}]"
        entry = {"name": item} if isinstance(item, str) else item
        if not isinstance(entry, dict):
            raise InvalidInput(f"{where}: give a host name or a dict with {', '.join(INSTANCE_KEYS)}")
        unknown = sorted(set(entry) - set(INSTANCE_KEYS))
        if unknown:
            raise InvalidInput(f"{where}: unknown key {', '.join(unknown)}; allowed: {', '.join(INSTANCE_KEYS)}")
        name = check_instance_name(entry.get("name"), f"{where}.name")
        if name in seen:
            raise InvalidInput(f"{where}.name: {name!r} is listed twice; instance names must be unique")
        seen.add(name)
        zone = entry.get("zone")
        if zone is not None:
            zone = str(zone)
            if zone not in zones:
                allowed = ", ".join(zones) if zones else "none; set zones on the scale set"
                raise InvalidInput(f"{where}.zone: {zone!r} is not one of the scale set's zones ({allowed})")
        ud = entry.get("update_domain")
        if ud is not None and (isinstance(ud, bool) or not isinstance(ud, int) or not 0 <= ud < 20):
            raise InvalidInput(f"{where}.update_domain: {ud!r} is not allowed; use a whole number from 0 to 19")
        health = entry.get("health")
        if health is not None and health not in HEALTH_STATES:
            raise InvalidInput(f"{where}.health: {health!r} is not allowed; allowed: {', '.join(HEALTH_STATES)}")
        power = entry.get("power_state")
        if power is not None and power not in POWER_STATES:
            raise InvalidInput(f"{where}.power_state: {power!r} is not allowed; allowed: {', '.join(POWER_STATES)}")
        disks = entry.get("data_disks")
        if disks is not None:
            disks = _data_disks(disks, f"{where}.data_disks")
        out.append({"name": name, "zone": zone, "update_domain": ud, "health": health, "power_state": power,
                    "data_disks": disks})
    return out


def _data_disks(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: give a list of dicts with {', '.join(DATA_DISK_KEYS)}")
    out = []
    luns: set[int] = set()
    for index, disk in enumerate(value):
        if not isinstance(disk, dict):
            raise InvalidInput(f"{where}[{index}]: give a dict with {', '.join(DATA_DISK_KEYS)}")
        unknown = sorted(set(disk) - set(DATA_DISK_KEYS))
        if unknown:
            raise InvalidInput(f"{where}[{index}]: unknown key {', '.join(unknown)}; allowed: {', '.join(DATA_DISK_KEYS)}")
        lun = disk.get("lun")
        if isinstance(lun, bool) or not isinstance(lun, int) or not 0 <= lun <= 63 or lun in luns:
            raise InvalidInput(f"{where}[{index}].lun: {lun!r} is not allowed; use a unique whole number from 0 to 63")
        luns.add(lun)
        size = disk.get("disk_size_gb", 128)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 32767:
            raise InvalidInput(f"{where}[{index}].disk_size_gb: {size!r} is not allowed; use 1 to 32767")
        out.append({"lun": lun, "name": disk.get("name"), "disk_size_gb": size})
    return out


def os_disk_name(record: dict[str, Any], instance_id: int, generation: int) -> str:
    """A new OS disk name, Azure's pattern, with a suffix drawn from the scale set's seed."""
    seed = record["simulation"]["seed"]
    digest = hashlib.sha256(f"{seed}:{record_key(record)}:{instance_id}:osdisk:{generation}".encode()).hexdigest()
    return f"{record['model']['name']}_{instance_id}_OsDisk_{generation}_{digest[:32]}"


def _expired_extensions(record: dict[str, Any], now: int) -> set[str]:
    return {
        name
        for name, secret in record["extension_secrets"].items()
        if secret.get("credential_expiry") is not None and secret["credential_expiry"] <= now
    }


def create_instance(
    record: dict[str, Any], wanted: dict[str, Any], image_version: str, extensions: list[dict[str, str]]
) -> dict[str, Any]:
    """A new instance on ``image_version`` whose extensions ended in the states ``extensions``."""
    name = wanted["name"]
    instance_id = record["instance_ids"].get(name)
    if instance_id is None:
        instance_id = record["next_instance_id"]
        record["instance_ids"][name] = instance_id
        record["next_instance_id"] = instance_id + 1
    zones = record["model"].get("zones") or []
    zone = wanted["zone"] if wanted["zone"] is not None else (zones[instance_id % len(zones)] if zones else None)
    update_domain = wanted["update_domain"] if wanted["update_domain"] is not None else instance_id % UPDATE_DOMAINS
    disks = [
        {"lun": d["lun"], "name": d["name"] or f"{record['model']['name']}_{name}_disk{d['lun']}",
         "disk_size_gb": d["disk_size_gb"]}
        for d in (wanted["data_disks"] or [])
    ]
    instance = {
        "instance_id": str(instance_id),
        "name": name,
        "zone": zone,
        "update_domain": update_domain,
        "os_disk": {"name": os_disk_name(record, instance_id, 1), "image_version": image_version},
        "previous_os_disk": None,
        "data_disks": disks,
        "power_state": wanted["power_state"] or "running",
        "provisioning_state": "Succeeded",
        "extensions": [dict(state) for state in extensions],
        "model_version": record["model_version"],
        "disk_generation": 1,
    }
    instance["health"] = wanted["health"] or initial_health(record, instance)
    return instance


def update_instance(record: dict[str, Any], instance: dict[str, Any], wanted: dict[str, Any], where: str) -> None:
    """Apply the attributes a user may change on a running instance; placement is fixed."""
    for key in ("zone", "update_domain"):
        if wanted[key] is not None and wanted[key] != instance[key]:
            raise InvalidInput(
                f"{where}.{key}: instance {instance['name']} is in {key.replace('_', ' ')} {instance[key]!r}; an "
                "instance cannot move, remove it and add it again"
            )
    power_changed = wanted["power_state"] is not None and wanted["power_state"] != instance["power_state"]
    if power_changed:
        instance["power_state"] = wanted["power_state"]
    if wanted["data_disks"] is not None:
        instance["data_disks"] = [
            {"lun": d["lun"], "name": d["name"] or f"{record['model']['name']}_{instance['name']}_disk{d['lun']}",
             "disk_size_gb": d["disk_size_gb"]}
            for d in wanted["data_disks"]
        ]
    if wanted["health"] is not None:
        instance["health"] = wanted["health"]
    elif power_changed:
        # Only a power state that changes is news about health; restating the current one must not reset
        # a health that a run or an earlier task set (idempotence).
        instance["health"] = initial_health(record, instance)


def reconcile_instances(
    store: Store, record: dict[str, Any], current: list[dict[str, Any]], wanted_option: list[Any] | None
) -> list[dict[str, Any]]:
    """The instance list after scaling to ``wanted_option`` (None keeps the instances as they are)."""
    if wanted_option is None:
        return current
    wanted = normalize_instances(wanted_option, record["model"].get("zones") or [])
    by_name = {i["name"]: i for i in current}
    result: list[dict[str, Any]] = []
    new = [w for w in wanted if w["name"] not in by_name]
    image_version = (
        catalogue.resolve(
            store, record["model"]["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"],
            record["model"]["location"],
        )
        if new
        else ""
    )
    # New instances run the model's extensions now; an expired credential fails its extension.
    extensions = provision(extensions_of(record["model"]), _expired_extensions(record, store.now()))
    for index, entry in enumerate(wanted):
        existing = by_name.get(entry["name"])
        if existing is not None:
            instance = copy.deepcopy(existing)
            update_instance(record, instance, entry, f"instances[{index}]")
        else:
            instance = create_instance(record, entry, image_version, extensions)
        result.append(instance)
    return sorted(result, key=lambda i: int(i["instance_id"]))


# -- the module actions ----------------------------------------------------------------------------


def _image_reference_of(record: dict[str, Any]) -> dict[str, Any]:
    return dict(record["model"]["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"])


def _model_fingerprint(record: dict[str, Any]) -> str:
    """What instances must take when it changes: the VM profile and the extensions' secrets."""
    return json.dumps(
        [record["model"]["properties"]["virtualMachineProfile"], record["extension_secrets"]], sort_keys=True
    )


def ensure(store: Store, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The vmss module: create, update or delete one scale set and its instances."""
    resource_group = check_resource_group(params["resource_group"])
    name = check_scale_set_name(params["name"])
    record = load(store, subscription_id, resource_group, name)
    key = scale_set_id(subscription_id, resource_group, name).lower()
    current = load_instances(store, key) if record else []
    before = _snapshot(record, current)
    if params["state"] == "absent":
        if record is not None:
            delete(store, key)
        return {"before": before, "after": {}, "vmss": None, "instances": []}
    now = store.now()
    creating = record is None
    if creating:
        location = catalogue.normalize_location(params.get("location") or DEFAULT_LOCATION)
        record = _new_record(subscription_id, resource_group, name, location, now)
    else:
        if record is None:  # pragma: no cover - creating is False here
            raise AssertionError("no scale set record to update")
        record = copy.deepcopy(record)
        if params.get("location") and catalogue.normalize_location(params["location"]) != record["model"]["location"]:
            raise InvalidInput(
                f"location: scale set {name} is in {record['model']['location']}; a scale set cannot move to "
                f"{params['location']}"
            )
    fingerprint = None if creating else _model_fingerprint(record)
    old_reference = None if creating else _image_reference_of(record)
    apply_options(record, params, subscription_id, store.fingerprint_key(), creating)
    if fingerprint is not None and _model_fingerprint(record) != fingerprint:
        record["model_version"] += 1
    if creating or _image_reference_of(record) != old_reference:
        # Resolving the image now makes a reference the catalogue lacks an error even before any instance,
        # on creation and when an update points the model at another image, as Azure refuses such a model.
        catalogue.resolve(store, _image_reference_of(record), record["model"]["location"])
    instances = reconcile_instances(store, record, current, params.get("instances"))
    zones = record["model"].get("zones") or []
    for instance in instances:
        if zones and instance["zone"] not in zones or not zones and instance["zone"] is not None:
            raise InvalidInput(
                f"zones: instance {instance['name']} is in zone {instance['zone']}, which this change would remove "
                f"(zones: {', '.join(zones) or 'none'}); remove or move such instances first"
            )
    record["model"]["sku"]["capacity"] = len(instances)
    save(store, record)
    save_instances(store, key, instances)
    after = _snapshot(record, instances)
    return {"before": before, "after": after, **public_view(record, instances)}


def info(store: Store, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """vmss_info: one scale set, or every scale set of a resource group."""
    resource_group = check_resource_group(params["resource_group"])
    if params.get("name") is not None:
        name = check_scale_set_name(params["name"])
        record = load(store, subscription_id, resource_group, name)
        records = [record] if record else []
    else:
        records = list_records(store, subscription_id, resource_group)
    views = [public_view(r, load_instances(store, record_key(r))) for r in records]
    result: dict[str, Any] = {"changed": False, "scale_sets": views}
    if params.get("name") is not None:
        result["exists"] = bool(views)
        result.update(views[0] if views else {"vmss": None, "instances": []})
    return result
