# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real SDK calls on one VMSS VM's model and the provider unregistration; run by the SDK venv's python.

``python sdk_instances_client.py PHASE`` with the endpoint's JSON line in ``AZSIM_ARM_INFO``, as
sdk_routes_client.py. Every answer goes through azure-mgmt-compute's / azure-mgmt-resource's models; each
phase prints one JSON line of what it saw.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute.models import VirtualMachineScaleSetReimageParameters, VirtualMachineScaleSetVMProtectionPolicy
from azure.mgmt.resource.resources import ResourceManagementClient

# Run as a script beside it (tests/arm), in the SDK venv; mypy sees the file only as part of the package.
from sdk_common import client, credential  # type: ignore[import-not-found]
from sdk_routes_client import RG, body  # type: ignore[import-not-found]

NAME = "protected"


def flags(policy: VirtualMachineScaleSetVMProtectionPolicy | None) -> list[bool | None] | None:
    """The model's attributes (not a dict of it): a wrong REST name would read as None here."""
    return None if policy is None else [policy.protect_from_scale_in, policy.protect_from_scale_set_actions]


def protection(info: dict[str, Any]) -> dict[str, Any]:
    """``virtual_machine_scale_set_vms.begin_update`` with a protectionPolicy (azure-behaviour-2 IP-1, IP-2),
    then a manual upgrade naming the protected instance (IP-7)."""
    compute = client(info)
    compute.virtual_machine_scale_sets.begin_create_or_update(RG, NAME, body(3)).result()
    vm = compute.virtual_machine_scale_set_vms.get(RG, NAME, "1")
    before = flags(vm.protection_policy)
    vm.protection_policy = VirtualMachineScaleSetVMProtectionPolicy(protect_from_scale_set_actions=True)
    updated = compute.virtual_machine_scale_set_vms.begin_update(RG, NAME, "1", vm).result()
    listed = {
        v.instance_id: v.protection_policy.protect_from_scale_in
        for v in compute.virtual_machine_scale_set_vms.list(RG, NAME)
    }
    conflict: dict[str, Any] = {}
    try:
        compute.virtual_machine_scale_sets.begin_update_instances(RG, NAME, {"instanceIds": ["1"]}).result()
    except HttpResponseError as exc:
        conflict = {"status": exc.status_code, "code": exc.error.code if exc.error else None}
    vm.protection_policy = VirtualMachineScaleSetVMProtectionPolicy(
        protect_from_scale_in=False, protect_from_scale_set_actions=True
    )
    refused: dict[str, Any] = {}
    try:
        compute.virtual_machine_scale_set_vms.begin_update(RG, NAME, "1", vm).result()
    except HttpResponseError as exc:
        refused = {"status": exc.status_code, "code": exc.error.code if exc.error else None}
    return {
        "before": before,
        "updated": flags(updated.protection_policy),
        "type": type(updated).__name__,
        "scale_in": listed,
        "conflict": conflict,
        "refused": refused,
    }


def reimage(info: dict[str, Any]) -> dict[str, Any]:
    """``begin_reimage``/``begin_reimage_all`` of the scale set and of one VM; a protected instance named
    explicitly is refused (azure-behaviour-2 IP-7) but reimaged by its own VM call (IP-4)."""
    compute = client(info)
    compute.virtual_machine_scale_sets.begin_create_or_update(RG, "reimaged", body(3)).result()
    vms = compute.virtual_machine_scale_set_vms

    def os_disks() -> dict[str, str]:
        return {
            v.instance_id: v.storage_profile.os_disk.name.split("_OsDisk_")[1][:1] for v in vms.list(RG, "reimaged")
        }

    vm = vms.get(RG, "reimaged", "2")
    vm.protection_policy = VirtualMachineScaleSetVMProtectionPolicy(protect_from_scale_set_actions=True)
    vms.begin_update(RG, "reimaged", "2", vm).result()
    compute.virtual_machine_scale_sets.begin_reimage(RG, "reimaged").result()
    after_all = os_disks()
    compute.virtual_machine_scale_sets.begin_reimage_all(RG, "reimaged", {"instanceIds": ["0"]}).result()
    refused: dict[str, Any] = {}
    try:
        compute.virtual_machine_scale_sets.begin_reimage(
            RG, "reimaged", VirtualMachineScaleSetReimageParameters(instance_ids=["2"])
        ).result()
    except HttpResponseError as exc:
        refused = {"status": exc.status_code, "code": exc.error.code if exc.error else None}
    vms.begin_reimage(RG, "reimaged", "2").result()
    vms.begin_reimage_all(RG, "reimaged", "1").result()
    return {"after_all": after_all, "refused": refused, "final": os_disks()}


def providers(info: dict[str, Any]) -> dict[str, Any]:
    """``providers.register`` then ``providers.unregister`` (the spec's Providers_Unregister)."""
    resources = ResourceManagementClient(
        credential(info), info["subscription_id"], base_url=info["base_url"].rstrip("/"),
        connection_verify=info["ca_cert"],
    )  # fmt: skip
    registered = resources.providers.register("Microsoft.Compute")
    unregistered = resources.providers.unregister("Microsoft.Compute")
    after = resources.providers.get("Microsoft.Compute")
    return {
        "registered": registered.registration_state,
        "unregistered": unregistered.registration_state,
        "after": after.registration_state,
    }


PHASES = {"protection": protection, "providers": providers, "reimage": reimage}


def main() -> int:
    info = json.loads(os.environ["AZSIM_ARM_INFO"])
    print(json.dumps(PHASES[sys.argv[1]](info)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
