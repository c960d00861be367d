# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: the simulated instances as inventory hosts (the inventory plugin azsim.vmss.vmss).

Each instance becomes one host with the variables azure.azcollection's ``azure_rm`` inventory plugin gives a
scale set VM (same names, same value forms, e.g. ``provisioning_state`` in lower case and
``availability_zone`` as Azure's ``zones`` list), plus the simulator's own under the prefix ``azsim_``. The
names of the last two match the facts the os_rolling_upgrade role sets (``azsim_os_image_version``,
``azsim_upgrade_result``, ``azsim_batch``), so a play written for the role's facts works on this inventory.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import is_flexible
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import list_records, record_key
from ansible_collections.azsim.vmss.plugins.module_utils._views.runs import instance_results

# The resource type azure_rm reports for a scale set VM.
VM_TYPE = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
# What the instance reports when the scale set has no protection policy (Azure's protectionPolicy defaults).
NO_PROTECTION = {"protectFromScaleSetActions": False, "protectFromScaleIn": False}


class InventoryHost(TypedDict):
    """One instance: its inventory name (the instance's host name) and its host variables."""

    name: str
    hostvars: dict[str, Any]


def inventory_hosts(call: Call, resource_groups: list[str] | None = None) -> list[InventoryHost]:
    """The instances of every scale set of the call's subscription in ``resource_groups`` (None or ``*``: all).

    Read only: ordered by scale set id, then instance id, so that the inventory is the same on every read.
    """
    wanted = _resource_groups(resource_groups)
    fleet = fleet_of(call.store)
    hosts: list[InventoryHost] = []
    for record in list_records(call.store, call.subscription_id):
        resource_group = record["model"]["id"].split("/")[4]
        if wanted is not None and resource_group.lower() not in wanted:
            continue
        key = record_key(record)
        # The last OS upgrade is the run the os_rolling_upgrade role's facts describe (azure-behaviour §5: the
        # newest osUpgradeHistory entry); model rollouts and extension runs are not OS upgrades.
        last = next(iter(fleet.recent_runs(key, "os", None, 1)), None)
        for view in instance_results(last, record, fleet.instances(key)):
            hosts.append({"name": view["name"], "hostvars": host_variables(call, record, view, last)})
    return hosts


def _resource_groups(names: list[str] | None) -> set[str] | None:
    """Azure's resource group names compare without case; ``*`` (azure_rm's wildcard) or nothing means all."""
    if names is not None and not isinstance(names, list):
        raise InvalidInput(f"resource_groups: {names!r} is not allowed; give a list of resource group names, or '*'")
    if not names or "*" in names:
        return None
    return {check_resource_group(n, f"resource_groups[{i}]").lower() for i, n in enumerate(names)}


def host_variables(call: Call, record: Record, view: dict[str, Any], last: Run | None) -> dict[str, Any]:
    """azure_rm's variables of a scale set VM, then the simulator's under ``azsim_``."""
    model = record["model"]
    vmss_id: str = model["id"]
    resource_group = vmss_id.split("/")[4]
    iid = str(view["instance_id"])
    zone = view.get("zone")
    profile = model["properties"].get("virtualMachineProfile", {})
    reference = dict(profile.get("storageProfile", {}).get("imageReference") or {})
    disks = f"/subscriptions/{call.subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.Compute/disks"
    flexible = is_flexible(record)
    hostvars: dict[str, Any] = {
        # azure_rm (azure.azcollection plugins/inventory/azure_rm.py, AzureHost.hostvars), for a VM of a scale set;
        # a Flexible scale set's VM is a VM resource of its own, its id already its name (azure-behaviour-2 FX-6).
        "id": f"{vmss_id.split('/providers/')[0]}/providers/Microsoft.Compute/virtualMachines/{iid}"
        if flexible
        else f"{vmss_id}/virtualMachines/{iid}",
        "name": iid if flexible else f"{model['name']}_{iid}",
        # As the simulator's Azure endpoint reports osProfile.computerName: the instance's host name.
        "computer_name": view["name"],
        "location": model["location"],
        "availability_zone": [str(zone)] if zone is not None else None,
        "powerstate": view["power_state"],
        "provisioning_state": str(view["provisioning_state"]).lower(),
        "tags": dict(model.get("tags") or {}),
        "resource_group": resource_group.lower(),
        "resource_type": VM_TYPE,
        # The same vmId the endpoint's GET .../virtualMachines shows.
        "vmid": str(uuid.uuid5(uuid.NAMESPACE_URL, vmss_id.lower() + "/" + iid)),
        "vmss": {"id": vmss_id, "name": model["name"]},
        "os_profile": {"system": record["os_type"]},
        "image": _image(reference),
        "os_disk": {
            "name": view["os_disk"]["name"],
            "operating_system_type": record["os_type"],
            "id": f"{disks}/{view['os_disk']['name']}",
        },
        "data_disks": [{"name": d["name"], "lun": d["lun"], "id": f"{disks}/{d['name']}"} for d in view["data_disks"]],
        "virtual_machine_size": model.get("sku", {}).get("name"),
        "plan": None,
        "default_inventory_hostname": view["name"],
        # The simulator has no network: azure_rm's always-present address lists are empty.
        "public_ipv4_addresses": [],
        "public_dns_hostnames": [],
        "private_ipv4_addresses": [],
    }
    hostvars.update(_simulator_variables(call, record, view, last))
    return hostvars


def _image(reference: dict[str, Any]) -> dict[str, Any]:
    if reference.get("publisher"):
        return {k: reference.get(k) for k in ("publisher", "offer", "sku", "version")}
    if reference.get("id"):
        return {"id": reference["id"]}
    return {}


def _simulator_variables(call: Call, record: Record, view: dict[str, Any], last: Run | None) -> dict[str, Any]:
    model = record["model"]
    return {
        "azsim_subscription_id": call.subscription_id,
        "azsim_resource_group": model["id"].split("/")[4],
        "azsim_scale_set": model["name"],
        "azsim_instance_id": str(view["instance_id"]),
        "azsim_zone": view.get("zone"),
        "azsim_update_domain": view["update_domain"],
        "azsim_os_image_version": view["os_disk"]["image_version"],
        "azsim_latest_model_applied": bool(view["latest_model_applied"]),
        "azsim_health": view["health"],
        "azsim_extensions": [dict(e) for e in view.get("extensions", [])],
        "azsim_protection_policy": dict(view.get("protection_policy") or NO_PROTECTION),
        # No OS upgrade yet: no result (the role's facts are unset then too).
        "azsim_upgrade_result": view["result"] if last is not None else None,
        "azsim_batch": view["batch"] if last is not None else None,
        "azsim_last_upgrade": _last_upgrade(last),
    }


def _last_upgrade(run: Run | None) -> dict[str, Any] | None:
    """The scale set's last OS upgrade as its osUpgradeHistory entry says it: status, times, target, who started it."""
    if run is None:
        return None
    return {
        "status": run["status"],
        "start": format_timestamp(run["start"]),
        "end": format_timestamp(run["end"]) if run["end"] is not None else None,
        "target_image_version": run["target_version"],
        "started_by": run["started_by"],
    }
