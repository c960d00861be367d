# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of a scale set being created, with Azure's defaults and the simulator's.

Apart from ``_model.scaleset`` so that the calls that only read or upgrade a scale set do not carry the
upgrade-policy table into their AnsiballZ payload: every module_utils file a module imports is parsed by the
controller and compiled in the module's process at each call (issue 14).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
import hashlib

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import DEFAULT_UPGRADE_POLICY
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record, Simulation
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import scale_set_id

DEFAULT_API_VERSION = "2024-11-01"
DEFAULT_SKU = "Standard_D2s_v3"
# The delays of the platform's automatic runs are simulator settings (azure-behaviour §4, simulator rule: the
# first run 3 h after enablement, later ones 30 min after a newer image); the timings design.md's.
DEFAULT_SIMULATION: Simulation = {
    "seed": 0,
    "reimage_duration": "PT3M",
    "boot_duration": "PT1M",
    "first_rollout_delay": "PT3H",
    "rollout_delay": "PT30M",
    "faults": [],
}


def new_record(subscription_id: str, resource_group: str, name: str, location: str, now: int) -> Record:
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
