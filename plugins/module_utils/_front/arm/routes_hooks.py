# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lifecycle-hook event routes (azure-behaviour-2 LH-7): list, get and the synchronous PATCH.

``…/virtualMachineScaleSets/{name}/lifecycleHookEvents[/{event}]`` from api-version 2025-11-01 (LH-1).
The PATCH answers 200 with the event (the SDK accepts nothing else) and is not a long-running
operation, so even the instant clock does not run a started run to its end: the events of its later
batches are the client's to decide.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.lifecycle_hooks import (
    lifecycle_hook_event_get,
    lifecycle_hook_events,
    update_event,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import api_at_least
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.routes_compute import _view, page
from ansible_collections.azsim.vmss.plugins.module_utils._model.lifecycle_hooks import MIN_API_VERSION

_TYPE = "virtualMachineScaleSets/lifecycleHookEvents"


def _check_version(ctx: Ctx) -> None:
    """LH-1: the resource type does not exist before 2025-11-01 (ARM's answer for an unknown api-version)."""
    if not api_at_least(ctx.api_version, MIN_API_VERSION):
        raise ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for API version '{ctx.api_version}' and type '{_TYPE}'. "
            f"The supported api-versions start at '{MIN_API_VERSION}'.",
        )


def list_events(ctx: Ctx, p: dict[str, str]) -> Response:
    _check_version(ctx)
    rg, name = p["resource_group"], p["name"]

    def action(call: Call) -> list[dict[str, Any]]:
        _view(call, rg, name)
        return lifecycle_hook_events(call, rg, name)["events"]

    return Response(200, page(ctx, ctx.run(p["subscription"], action, commit=False)))


def get_event(ctx: Ctx, p: dict[str, str]) -> Response:
    _check_version(ctx)
    rg, name = p["resource_group"], p["name"]

    def action(call: Call) -> dict[str, Any]:
        _view(call, rg, name)
        return lifecycle_hook_event_get(call, rg, name, p["event"])

    return Response(200, ctx.run(p["subscription"], action, commit=False))


def _patch_arguments(body: dict[str, Any]) -> dict[str, Any]:
    """``update_event``'s arguments from the PATCH body (LH-11): targets by ``resource.id``, and ``waitUntil``."""
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise ArmError(400, "InvalidParameter", "The request body needs an object 'properties'.", target="properties")
    args: dict[str, Any] = {}
    if properties.get("waitUntil") is not None:
        args["wait_until"] = properties["waitUntil"]
    listed = properties.get("targetResources")
    if listed is None:
        return args
    if not isinstance(listed, list):
        raise ArmError(400, "InvalidParameter", "targetResources must be a list.", target="properties.targetResources")
    targets: dict[str, str] = {}
    for index, item in enumerate(listed):
        where = f"properties.targetResources[{index}]"
        resource = item.get("resource") if isinstance(item, dict) else None
        rid = resource.get("id") if isinstance(resource, dict) else None
        if not isinstance(rid, str) or not isinstance(item.get("actionState"), str):
            raise ArmError(400, "InvalidParameter", f"{where} needs resource.id and actionState.", target=where)
        targets[rid] = item["actionState"]
    args["targets"] = targets
    return args


def patch_event(ctx: Ctx, p: dict[str, str]) -> Response:
    _check_version(ctx)
    rg, name = p["resource_group"], p["name"]
    args = _patch_arguments(ctx.request.json())

    def action(call: Call) -> dict[str, Any]:
        _view(call, rg, name)
        return update_event(call, rg, name, p["event"], **args)

    return Response(200, ctx.run(p["subscription"], action))
