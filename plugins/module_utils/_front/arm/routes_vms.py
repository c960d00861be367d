# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One VMSS VM's model: ``PUT``/``PATCH …/virtualMachineScaleSets/{vmss}/virtualMachines/{instanceId}``.

Azure's ``VirtualMachineScaleSetVMs_Update`` (the spec's PUT; the SDK's ``begin_update``) is where instance
protection is set (azure-behaviour-2 IP-1). The route calls ``ensure_scale_set`` with the instance's
``protection``, the same action the ``vmss`` module's ``instances[].protection`` calls, so both doors share
IP-2's consistency rule and IP-3/IP-4's effects.

SIMULATOR CHOICE: of the instance model only ``properties.protectionPolicy`` is settable; the rest of the body
(what a client sends back from its GET: ids, ``latestModelApplied``, ``storageProfile``, ``osProfile``…) is
read-only here and ignored, as Azure ignores read-only properties in a PUT. A PUT without ``protectionPolicy``
keeps the instance's protection; a PATCH merges the booleans it sends into the current ones.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import api_at_least
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import lro, rest_model
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.routes_compute import (
    _instance,
    _lro_headers,
    _now,
    _view,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import (
    normalize_protection,
    protection_policy,
)

# azure-behaviour-2 IP-1: protectionPolicy exists on Uniform scale sets from this api-version on.
PROTECTION_API_VERSION = "2019-03-01"
_WHERE = "properties.protectionPolicy"
_REST_TO_OPTION = {"protectFromScaleIn": "from_scale_in", "protectFromScaleSetActions": "from_scale_set_actions"}


def _sent_policy(body: dict[str, Any], api_version: str) -> dict[str, bool] | None:
    """The ``protectionPolicy`` booleans of the body (only those sent), or None when it has none."""
    properties = body.get("properties")
    if properties is None:
        return None
    if not isinstance(properties, dict):
        raise ArmError(400, "InvalidParameter", "properties: give a JSON object.", target="properties")
    policy = properties.get("protectionPolicy")
    if policy is None:
        return None
    if not api_at_least(api_version, PROTECTION_API_VERSION):
        # IP-1 with azure-behaviour §1 (a field the api-version predates is an error). SIMULATOR CHOICE: the code.
        raise ArmError(
            400,
            "InvalidParameter",
            f"{_WHERE} needs api-version {PROTECTION_API_VERSION} or later; the request uses '{api_version}'.",
            target=_WHERE,
        )
    if not isinstance(policy, dict):
        raise ArmError(400, "InvalidParameter", f"{_WHERE}: give a JSON object.", target=_WHERE)
    unknown = sorted(set(policy) - set(_REST_TO_OPTION))
    if unknown:
        allowed = ", ".join(_REST_TO_OPTION)
        raise ArmError(
            400, "InvalidParameter", f"{_WHERE}: unknown property {', '.join(unknown)}; allowed: {allowed}.",
            target=f"{_WHERE}.{unknown[0]}",
        )  # fmt: skip
    sent: dict[str, bool] = {}
    for key, value in policy.items():
        if value is None:
            continue
        if not isinstance(value, bool):
            raise ArmError(
                400, "InvalidParameter", f"{_WHERE}.{key}: {value!r} is not allowed; give true or false.",
                target=f"{_WHERE}.{key}",
            )  # fmt: skip
        sent[key] = value
    return sent


def _protection_option(current: dict[str, Any], sent: dict[str, bool], patch: bool) -> dict[str, bool]:
    """The ``vmss`` module's ``protection`` option for the instance: a PATCH keeps what it does not send; a PUT
    sends the whole object, so an omitted boolean is false, but for IP-2's reading of an omitted
    protectFromScaleIn (true when protectFromScaleSetActions is true), which ``normalize_protection`` applies."""
    policy = protection_policy(current)
    merged: dict[str, bool] = {}
    if patch:
        merged = {
            "protectFromScaleIn": policy["protectFromScaleIn"],
            "protectFromScaleSetActions": policy["protectFromScaleSetActions"],
        }
    merged.update(sent)
    return {_REST_TO_OPTION[k]: v for k, v in merged.items()}


def _update_vm(ctx: Ctx, p: dict[str, str], patch: bool) -> Response:
    sub, rg, name, instance_id = p["subscription"], p["resource_group"], p["name"], p["instance_id"]
    sent = _sent_policy(ctx.request.json(), ctx.api_version)

    def action(call: Call) -> tuple[dict[str, Any], str]:
        view = _view(call, rg, name)
        target = _instance(view, instance_id)
        if sent is not None:
            protection = _protection_option(target, sent, patch)
            # IP-2's consistency rule, the module's own check (400 naming the option, nothing written).
            if protection_policy(target) != normalize_protection(protection, _WHERE, str(target["name"])):
                # The module's instance list: every host once, this one with its new protection (IP-1).
                names = list(dict.fromkeys(str(i["name"]) for i in sorted(view["instances"], key=_order)))
                wanted: list[Any] = [{"name": n, "protection": protection} if n == target["name"] else n for n in names]
                ensure_scale_set(call, rg, name, instances=wanted)
                view = _view(call, rg, name)
        return rest_model.vm_view(view["vmss"], _instance(view, instance_id)), _now(call)

    vm, now = ctx.run(sub, action)
    return Response(200, vm, _lro_headers(ctx, sub, vm["location"], lro.Operation("put", rg, name, None, now)))


def _order(instance: dict[str, Any]) -> int:
    return int(instance["instance_id"])


def put_vm(ctx: Ctx, p: dict[str, str]) -> Response:
    """``VirtualMachineScaleSetVMs_Update``: set the instance's ``protectionPolicy`` (azure-behaviour-2 IP-1)."""
    return _update_vm(ctx, p, patch=False)


def patch_vm(ctx: Ctx, p: dict[str, str]) -> Response:
    """The instance's ``protectionPolicy`` merged with what the body sends (IP-1: Azure documents PUT or PATCH)."""
    return _update_vm(ctx, p, patch=True)
