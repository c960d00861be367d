# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scale set's instances as the ``instances`` option wants them: new instances, changes to them, and scaling.

The disks every instance change shares (upgrades, reimages, repairs) are _model/instances.py.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
from typing import Any, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_disk_name, check_instance_name
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue
from ansible_collections.azsim.vmss.plugins.module_utils._model.custom_metrics import normalize_custom_metrics
from ansible_collections.azsim.vmss.plugins.module_utils._model.extension_versions import install
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import (
    expired_credentials,
    extensions_of,
    provision,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import initial_health
from ansible_collections.azsim.vmss.plugins.module_utils._model.instances import UPDATE_DOMAINS, os_disk_name
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import check_protection_api, is_flexible
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import normalize_protection, refuse_protected
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import (
    CustomMetrics,
    DataDisk,
    ExtensionState,
    Health,
    Instance,
    PowerState,
    ProtectionPolicy,
    Record,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

INSTANCE_KEYS = ("name", "zone", "update_domain", "health", "power_state", "data_disks", "protection", "custom_metrics")


HEALTH_STATES = ("Healthy", "Unhealthy", "Unknown", "Initializing")


POWER_STATES = ("running", "stopped", "deallocated")


DATA_DISK_KEYS = ("lun", "name", "disk_size_gb")


class WantedDisk(TypedDict):
    lun: int
    name: str | None
    disk_size_gb: int


class WantedInstance(TypedDict):
    """One entry of the ``instances`` option; None where the option leaves it to the simulator."""

    name: str
    zone: str | None
    update_domain: int | None
    health: Health | None
    power_state: PowerState | None
    data_disks: list[WantedDisk] | None
    protection: ProtectionPolicy | None
    custom_metrics: CustomMetrics | None


def normalize_instances(value: list[Any], zones: list[str]) -> list[WantedInstance]:
    """The ``instances`` option as dicts with every key present (None when not given)."""
    out: list[WantedInstance] = []
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
        protection = entry.get("protection")
        if protection is not None:
            protection = normalize_protection(protection, f"{where}.protection", name)
        metrics = entry.get("custom_metrics")
        if metrics is not None:
            metrics = normalize_custom_metrics(metrics, f"{where}.custom_metrics")
        out.append(
            {
                "name": name,
                "zone": zone,
                "update_domain": ud,
                "health": health,
                "power_state": power,
                "data_disks": disks,
                "protection": protection,
                "custom_metrics": metrics,
            }
        )
    return out


def _data_disks(value: Any, where: str) -> list[WantedDisk]:
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: give a list of dicts with {', '.join(DATA_DISK_KEYS)}")
    out: list[WantedDisk] = []
    luns: set[int] = set()
    names: set[str] = set()
    for index, disk in enumerate(value):
        if not isinstance(disk, dict):
            raise InvalidInput(f"{where}[{index}]: give a dict with {', '.join(DATA_DISK_KEYS)}")
        unknown = sorted(set(disk) - set(DATA_DISK_KEYS))
        if unknown:
            raise InvalidInput(
                f"{where}[{index}]: unknown key {', '.join(unknown)}; allowed: {', '.join(DATA_DISK_KEYS)}"
            )
        lun = disk.get("lun")
        if isinstance(lun, bool) or not isinstance(lun, int) or not 0 <= lun <= 63 or lun in luns:
            raise InvalidInput(f"{where}[{index}].lun: {lun!r} is not allowed; use a unique whole number from 0 to 63")
        luns.add(lun)
        size = disk.get("disk_size_gb", 128)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 32767:
            raise InvalidInput(f"{where}[{index}].disk_size_gb: {size!r} is not allowed; use 1 to 32767")
        name = disk.get("name")
        if name is not None:
            check_disk_name(name, f"{where}[{index}].name")
            if name.lower() in names:  # a disk is a resource of its own: Azure's names are unique, ignoring case
                raise InvalidInput(f"{where}[{index}].name: {name!r} is listed twice; data disk names must be unique")
            names.add(name.lower())
        out.append({"lun": lun, "name": name, "disk_size_gb": size})
    return out


def create_instance(
    record: Record, wanted: WantedInstance, image_version: str, extensions: list[ExtensionState]
) -> Instance:
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
    disks = _disks(record, name, wanted["data_disks"] or [])
    power_state: PowerState = wanted["power_state"] or "running"
    states = [state.copy() for state in extensions]
    instance: Instance = {
        "instance_id": str(instance_id),
        "name": name,
        "zone": zone,
        "update_domain": update_domain,
        "os_disk": {"name": os_disk_name(record, instance_id, 1), "image_version": image_version},
        "previous_os_disk": None,
        "data_disks": disks,
        "power_state": power_state,
        "provisioning_state": "Succeeded",
        "extensions": states,
        "model_version": record["model_version"],
        "disk_generation": 1,
        "health": wanted["health"] or initial_health(record, power_state, states),
    }
    if wanted["protection"] is not None:
        instance["protection_policy"] = wanted["protection"]
    if wanted["custom_metrics"] is not None:
        instance["custom_metrics"] = wanted["custom_metrics"]
    install(record, instance)  # a new instance gets the extension versions released now (part 2 EX-1)
    return instance


def _disks(record: Record, instance_name: str, wanted: list[WantedDisk]) -> list[DataDisk]:
    """Data disks as given; an unnamed one gets Azure's pattern of names."""
    return [
        {
            "lun": d["lun"],
            "name": d["name"] or f"{record['model']['name']}_{instance_name}_disk{d['lun']}",
            "disk_size_gb": d["disk_size_gb"],
        }
        for d in wanted
    ]


def update_instance(record: Record, instance: Instance, wanted: WantedInstance, where: str) -> None:
    """Apply the attributes a user may change on a running instance; placement is fixed."""
    for key in ("zone", "update_domain"):
        if wanted[key] is not None and wanted[key] != instance[key]:
            raise InvalidInput(
                f"{where}.{key}: instance {instance['name']} is in {key.replace('_', ' ')} {instance[key]!r}; an "
                "instance cannot move, remove it and add it again"
            )
    power_state = wanted["power_state"]
    power_changed = power_state is not None and power_state != instance["power_state"]
    if power_state is not None:
        instance["power_state"] = power_state
    if wanted["data_disks"] is not None:
        instance["data_disks"] = _disks(record, instance["name"], wanted["data_disks"])
    if wanted["protection"] is not None:
        # IP-1: set on the instance model; a user's own change to its instance, never refused by the protection.
        instance["protection_policy"] = wanted["protection"]
    if wanted["custom_metrics"] is not None:
        # AH-9: what the application reports from now on; a run already going read its metrics at start (AH-12).
        instance["custom_metrics"] = wanted["custom_metrics"]
    if wanted["health"] is not None:
        instance["health"] = wanted["health"]
    elif power_changed:
        # Only a power state that changes is news about health; restating the current one must not reset
        # a health that a run or an earlier task set (idempotence).
        instance["health"] = initial_health(record, instance["power_state"], instance["extensions"])


def check_flexible_instances(record: Record, wanted: list[WantedInstance]) -> None:
    """A Flexible scale set has no update domains (azure-behaviour-2 FX-5), and instance protection there needs
    api-version 2023-09-01 or later (FX-8)."""
    if not is_flexible(record):
        return
    for index, entry in enumerate(wanted):
        if entry["update_domain"] is not None:
            raise InvalidInput(
                f"instances[{index}].update_domain: scale set {record['model']['name']} uses Flexible orchestration, "
                "which has no update domains (its VMs are spread over fault domains); leave update_domain out",
                option=f"instances[{index}].update_domain",
            )
        if entry["protection"] is not None:
            check_protection_api(record)


def reconcile_instances(
    store: Store, record: Record, current: list[Instance], wanted_option: list[Any] | None
) -> list[Instance]:
    """The instance list after scaling to ``wanted_option`` (None keeps the instances as they are)."""
    if wanted_option is None:
        return current
    wanted = normalize_instances(wanted_option, record["model"].get("zones") or [])
    # During a maxSurge batch a host has two instances, the old one and the one replacing it (azure-behaviour-2
    # MS-6, D10): the host name is one slot, and both stay or go together.
    by_name: dict[str, list[Instance]] = {}
    for instance in current:
        by_name.setdefault(instance["name"], []).append(instance)
    # azure-behaviour-2 IP-7: leaving out an instance deletes it by name, a scale-set action that may not name an
    # instance protected from scale-set actions (its protection must be cleared first).
    kept = {w["name"] for w in wanted}
    refuse_protected((i for i in current if i["name"] not in kept), "instances", record)
    check_flexible_instances(record, wanted)
    result: list[Instance] = []
    new = [w for w in wanted if w["name"] not in by_name]
    image_version = (
        catalogue.resolve(
            store,
            record["model"]["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"],
            record["model"]["location"],
        )
        if new
        else ""
    )
    # New instances run the model's extensions now; an expired credential fails its extension.
    extensions = provision(extensions_of(record["model"]), expired_credentials(record, store.now()))
    for index, entry in enumerate(wanted):
        existing = by_name.get(entry["name"])
        if existing is None:
            result.append(create_instance(record, entry, image_version, extensions))
            continue
        for twin in existing:
            instance = copy.deepcopy(twin)
            update_instance(record, instance, entry, f"instances[{index}]")
            result.append(instance)
    return sorted(result, key=lambda i: int(i["instance_id"]))
