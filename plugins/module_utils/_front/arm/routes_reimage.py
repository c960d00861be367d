# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reimage routes (the spec's VirtualMachineScaleSets_Reimage/_ReimageAll, VirtualMachineScaleSetVMs_Reimage/
_ReimageAll): ``POST …/virtualMachineScaleSets/{vmss}/reimage|reimageall`` with an optional ``instanceIds``
body, and ``POST …/virtualMachines/{instanceId}/reimage|reimageall``. Each is an LRO: 202 with the LRO
headers; its operation ends when the new OS disks are in place (_engine/reimages.py), at once with the
instant clock. Who may be reimaged (instance protection IP-4/IP-7, a rolling upgrade's batch CF-4) is
``reimage_instances``'s rule.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.reimage import Scope, reimage_instances
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import lro
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.routes_compute import (
    _instance,
    _instance_ids,
    _lro_headers,
    _now,
    _view,
)

# Reimage parameters the simulator has nothing to do with: the temp disk and ephemeral OS disks are not modelled.
_IGNORED = ("tempDisk", "forceUpdateOSDiskForEphemeral")
# Parameters that would change what the instance gets; not modelled, so refused rather than silently dropped.
_REFUSED = ("exactVersion", "osProfile")


def _check_parameters(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in _REFUSED:
        if body.get(key) is not None:
            raise ArmError(
                400,
                "InvalidParameter",
                f"{key}: this simulator reimages an instance with the image version it has and cannot apply {key}; "
                "leave it out.",
                target=key,
            )
    unknown = sorted(set(body) - set(allowed) - set(_IGNORED) - set(_REFUSED))
    if unknown:
        raise ArmError(
            400,
            "InvalidParameter",
            f"{unknown[0]}: not a parameter of this reimage; allowed: {', '.join((*allowed, *_IGNORED))}.",
            target=unknown[0],
        )


def _reimage(ctx: Ctx, p: dict[str, str], ids: list[str] | None, scope: Scope, operation: str) -> Response:
    sub, rg, name = p["subscription"], p["resource_group"], p["name"]

    def action(call: Call) -> tuple[str, lro.Operation]:
        view = _view(call, rg, name)
        for iid in ids or []:
            _instance(view, iid)  # an unknown id is the 404 of that VM, before anything changes
        started = _now(call)
        result = reimage_instances(call, rg, name, instance_ids=ids, scope=scope, operation=operation, wait=ctx.instant)
        until = result["reimaged_at"]
        kind: lro.OpKind = "reimage" if until is not None else "noop"
        return view["vmss"]["location"], lro.Operation(kind, rg, name, None, started, until)

    location, op = ctx.run(sub, action)
    return Response(202, None, _lro_headers(ctx, sub, location, op))


def _scale_set_ids(ctx: Ctx) -> list[str] | None:
    ids = _instance_ids(ctx, required=False)
    return None if ids == ["*"] else ids  # IP-7: ["*"] is every instance, as the list omitted


def reimage_scale_set(ctx: Ctx, p: dict[str, str]) -> Response:
    """VirtualMachineScaleSets_Reimage: the OS disks of ``instanceIds`` (all when omitted; IP-4, IP-7, CF-4)."""
    _check_parameters(ctx.request.json(), ("instanceIds",))
    return _reimage(ctx, p, _scale_set_ids(ctx), "scale_set", "reimage")


def reimage_all_scale_set(ctx: Ctx, p: dict[str, str]) -> Response:
    """VirtualMachineScaleSets_ReimageAll: all disks of ``instanceIds`` (data disks are not modelled)."""
    _check_parameters(ctx.request.json(), ("instanceIds",))
    return _reimage(ctx, p, _scale_set_ids(ctx), "scale_set", "reimageall")


def reimage_vm(ctx: Ctx, p: dict[str, str]) -> Response:
    """VirtualMachineScaleSetVMs_Reimage: one instance, even one protected from scale-set actions (IP-4)."""
    _check_parameters(ctx.request.json(), ())
    return _reimage(ctx, p, [p["instance_id"]], "instance", "reimage")


def reimage_all_vm(ctx: Ctx, p: dict[str, str]) -> Response:
    """VirtualMachineScaleSetVMs_ReimageAll: one instance's disks (IP-4 as reimage)."""
    _check_parameters(ctx.request.json(), ())
    return _reimage(ctx, p, [p["instance_id"]], "instance", "reimageall")
