# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azure-mgmt-compute against a Flexible scale set (azure-behaviour-2 §11); run by the SDK venv's python.

``python sdk_flexible_client.py flexible`` with the endpoint's JSON line in ``AZSIM_ARM_INFO``. The scale set is
created with ``orchestrationMode: Flexible``; its VMs are read as ``Microsoft.Compute/virtualMachines`` through
``virtual_machines.get`` and ``instance_view``, whose answers the SDK deserialises into its own models.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from azure.core.exceptions import HttpResponseError
from sdk_common import IMAGE, LOCATION, client  # type: ignore[import-not-found]

RG, NAME = "rg-sdk", "flexvmss"


def flexible(info: dict[str, Any]) -> dict[str, Any]:
    compute = client(info)
    health = {
        "name": "health",
        "properties": {
            "publisher": "Microsoft.ManagedServices",
            "type": "ApplicationHealthLinux",
            "typeHandlerVersion": "2.0",
            "settings": {"protocol": "http", "port": 80, "requestPath": "/health"},
        },
    }
    body: dict[str, Any] = {
        "location": LOCATION,
        "sku": {"name": "Standard_D2s_v3", "capacity": 2},
        "properties": {
            "orchestrationMode": "Flexible",
            "upgradePolicy": {"mode": "Rolling"},
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": IMAGE},
                "extensionProfile": {"extensions": [health]},
            },
        },
    }
    vmss = compute.virtual_machine_scale_sets.begin_create_or_update(RG, NAME, body).result()
    assert vmss.properties.orchestration_mode == "Flexible", vmss.properties.orchestration_mode
    names = [vm.name for vm in compute.virtual_machine_scale_set_vms.list(RG, NAME)]
    vm = compute.virtual_machines.get(RG, names[0])
    view = compute.virtual_machines.instance_view(RG, names[0])
    body["properties"]["orchestrationMode"] = "Uniform"
    try:
        compute.virtual_machine_scale_sets.begin_create_or_update(RG, NAME, body).result()
        refused = None
    except HttpResponseError as exc:
        refused = [exc.status_code, exc.error.code if exc.error else None]
    return {
        "mode": vmss.properties.orchestration_mode,
        "names": names,
        "vm": [vm.name, vm.id, vm.properties.virtual_machine_scale_set.id],
        "health": view.vm_health.status.code if view.vm_health else None,
        "fault_domain": view.platform_fault_domain,
        "refused": refused,
    }


def main() -> int:
    info = json.loads(os.environ["AZSIM_ARM_INFO"])
    print(json.dumps({"flexible": flexible}[sys.argv[1]](info)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
