# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VMs of Flexible scale sets as resources of their own: ``Microsoft.Compute/virtualMachines/{name}``.

azure-behaviour-2 FX-6: a Flexible scale set's VM is named ``{vmss}_{8 hex}`` and addressed by that name; FX-7:
its health is read from its own instance view. The scale set is the part of the name before the last ``_``.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.resources import scale_set_extras
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set_info import scale_set_info
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import rest_model
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError, resource_not_found
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import FLEXIBLE, orchestration_mode


def _not_found(resource_group: str, name: str) -> ArmError:
    return resource_not_found("Microsoft.Compute/virtualMachines", name, resource_group)


def _find(call: Call, resource_group: str, name: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The Flexible scale set (as ARM answers it), the VM's instance and the virtual now; else Azure's 404."""
    vmss_name = name.rsplit("_", 1)[0]
    try:
        info = scale_set_info(call, resource_group, vmss_name) if "_" in name else {}
    except AzsimError as exc:  # a name that cannot be a scale set's is a VM that does not exist
        raise _not_found(resource_group, name) from exc
    vmss = info.get("vmss")
    if not vmss or orchestration_mode(vmss) != FLEXIBLE:
        raise _not_found(resource_group, name)
    instance = next((i for i in info.get("instances") or [] if i["instance_id"] == name), None)
    if instance is None:
        raise _not_found(resource_group, name)
    extras = scale_set_extras(call, vmss["id"], str(vmss["properties"].get("timeCreated", "")))
    return rest_model.overlay(vmss, extras), instance, format_timestamp(call.store.now())


def get_vm(ctx: Ctx, p: dict[str, str]) -> Response:
    """``GET …/virtualMachines/{name}``; ``$expand=instanceView`` adds its instance view, health included (FX-7)."""
    vmss, instance, now = ctx.run(
        p["subscription"], lambda call: _find(call, p["resource_group"], p["vm"]), commit=False
    )
    vm = rest_model.vm_view(vmss, instance)
    if (ctx.request.param("$expand") or "").lower() == "instanceview":
        vm["properties"]["instanceView"] = rest_model.vm_instance_view(vmss, instance, now, standalone=True)
    return Response(200, vm)


def vm_instance_view(ctx: Ctx, p: dict[str, str]) -> Response:
    """``GET …/virtualMachines/{name}/instanceView``: where a Flexible VM reports its health (FX-7)."""
    vmss, instance, now = ctx.run(
        p["subscription"], lambda call: _find(call, p["resource_group"], p["vm"]), commit=False
    )
    return Response(200, rest_model.vm_instance_view(vmss, instance, now, standalone=True))
