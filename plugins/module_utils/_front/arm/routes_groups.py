# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource groups, and the generic store for the network resources clients create before a scale set.

azure.azcollection creates a resource group, a virtual network and a subnet before
``azure_rm_virtualmachinescaleset`` (which reads the subnet back); the SDK's ``check_existence`` is a
HEAD answered 204 or 404 (arm-endpoint-research §3.2, §3.3). Networks and subnets are kept as given
(``_actions.resources``); a network's ``properties.subnets`` is its stored subnets, and subnets given
inline in a network PUT are stored as its subnets, as Azure does.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, RestDoc
from ansible_collections.azsim.vmss.plugins.module_utils._actions.resources import (
    delete_resource,
    delete_resource_group,
    get_resource,
    group_resources,
    list_resource_groups,
    list_resources,
    put_resource,
    put_resource_group,
    resource_group,
    resource_group_id,
)
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError, resource_not_found
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response

VNET_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"


def _group_missing(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


# -- resource groups -------------------------------------------------------------------------------


def put_group(ctx: Ctx, p: dict[str, str]) -> Response:
    body = ctx.request.json()
    tags = body.get("tags")

    def action(call: Call) -> tuple[bool, RestDoc]:
        result = put_resource_group(call, p["resource_group"], location=str(body.get("location") or ""), tags=tags)
        return result["created"], result["resource"]

    created, doc = ctx.run(p["subscription"], action)
    return Response(201 if created else 200, doc)


def get_group(ctx: Ctx, p: dict[str, str]) -> Response:
    doc = ctx.run(p["subscription"], lambda call: resource_group(call, p["resource_group"]), commit=False)
    if doc is None:
        raise _group_missing(p["resource_group"])
    return Response(200, doc)


def head_group(ctx: Ctx, p: dict[str, str]) -> Response:
    """``check_existence``: 204 when the group exists, else 404, both without a body."""
    doc = ctx.run(p["subscription"], lambda call: resource_group(call, p["resource_group"]), commit=False)
    return Response(204 if doc is not None else 404)


def delete_group(ctx: Ctx, p: dict[str, str]) -> Response:
    if not ctx.run(p["subscription"], lambda call: delete_resource_group(call, p["resource_group"])):
        raise _group_missing(p["resource_group"])
    return Response(200)


def list_groups(ctx: Ctx, p: dict[str, str]) -> Response:
    return Response(200, {"value": ctx.run(p["subscription"], list_resource_groups, commit=False)})


def list_group_resources(ctx: Ctx, p: dict[str, str]) -> Response:
    docs = ctx.run(p["subscription"], lambda call: group_resources(call, p["resource_group"]), commit=False)
    return Response(200, {"value": docs})


# -- virtual networks and subnets ------------------------------------------------------------------


def _vnet_id(p: dict[str, str]) -> str:
    return (
        f"{resource_group_id(p['subscription'], p['resource_group'])}/providers/Microsoft.Network/"
        f"virtualNetworks/{p['vnet']}"
    )


def _with_subnets(call: Call, vnet: RestDoc) -> RestDoc:
    out = copy.deepcopy(vnet)
    out["properties"]["subnets"] = list_resources(call, vnet["id"], SUBNET_TYPE)
    return out


def put_vnet(ctx: Ctx, p: dict[str, str]) -> Response:
    body = ctx.request.json()
    vnet_id = _vnet_id(p)
    properties = body.get("properties") if isinstance(body.get("properties"), dict) else None
    inline = (properties or {}).get("subnets")
    if inline is not None and not isinstance(inline, list):
        raise ArmError(400, "InvalidRequestFormat", "properties.subnets: expected a list.", target="properties.subnets")

    def action(call: Call) -> tuple[bool, RestDoc]:
        stored_body = copy.deepcopy(body)
        if properties is not None:
            stored_body["properties"].pop("subnets", None)
        result = put_resource(
            call,
            vnet_id,
            VNET_TYPE,
            stored_body,
            parent_id=resource_group_id(call.subscription_id, p["resource_group"]),
        )
        if inline is not None:
            wanted = set()
            for index, subnet in enumerate(inline):
                if not isinstance(subnet, dict) or not subnet.get("name"):
                    raise ArmError(
                        400,
                        "InvalidRequestFormat",
                        f"properties.subnets[{index}]: expected an object with a name.",
                        target=f"properties.subnets[{index}]",
                    )
                subnet_id = f"{result['resource']['id']}/subnets/{subnet['name']}"
                wanted.add(subnet_id.lower())
                put_resource(call, subnet_id, SUBNET_TYPE, subnet, parent_id=result["resource"]["id"])
            for existing in list_resources(call, result["resource"]["id"], SUBNET_TYPE):
                if existing["id"].lower() not in wanted:
                    delete_resource(call, existing["id"])
        return result["created"], _with_subnets(call, result["resource"])

    created, doc = ctx.run(p["subscription"], action)
    return Response(201 if created else 200, doc)


def get_vnet(ctx: Ctx, p: dict[str, str]) -> Response:
    def action(call: Call) -> RestDoc | None:
        doc = get_resource(call, _vnet_id(p))
        return None if doc is None else _with_subnets(call, doc)

    doc = ctx.run(p["subscription"], action, commit=False)
    if doc is None:
        raise resource_not_found(VNET_TYPE, p["vnet"], p["resource_group"])
    return Response(200, doc)


def list_vnets(ctx: Ctx, p: dict[str, str]) -> Response:
    def action(call: Call) -> list[RestDoc]:
        group = resource_group_id(call.subscription_id, p["resource_group"])
        return [_with_subnets(call, d) for d in list_resources(call, group, VNET_TYPE)]

    return Response(200, {"value": ctx.run(p["subscription"], action, commit=False)})


def delete_vnet(ctx: Ctx, p: dict[str, str]) -> Response:
    deleted = ctx.run(p["subscription"], lambda call: delete_resource(call, _vnet_id(p)))
    return Response(200 if deleted else 204)


def put_subnet(ctx: Ctx, p: dict[str, str]) -> Response:
    body = ctx.request.json()

    def action(call: Call) -> tuple[bool, RestDoc]:
        vnet = get_resource(call, _vnet_id(p))
        if vnet is None:
            raise resource_not_found(VNET_TYPE, p["vnet"], p["resource_group"])
        result = put_resource(call, f"{vnet['id']}/subnets/{p['subnet']}", SUBNET_TYPE, body, parent_id=vnet["id"])
        return result["created"], result["resource"]

    created, doc = ctx.run(p["subscription"], action)
    return Response(201 if created else 200, doc)


def get_subnet(ctx: Ctx, p: dict[str, str]) -> Response:
    doc: dict[str, Any] | None = ctx.run(
        p["subscription"], lambda call: get_resource(call, f"{_vnet_id(p)}/subnets/{p['subnet']}"), commit=False
    )
    if doc is None:
        raise resource_not_found(SUBNET_TYPE, f"{p['vnet']}/{p['subnet']}", p["resource_group"])
    return Response(200, doc)


def list_subnets(ctx: Ctx, p: dict[str, str]) -> Response:
    def action(call: Call) -> list[RestDoc]:
        if get_resource(call, _vnet_id(p)) is None:
            raise resource_not_found(VNET_TYPE, p["vnet"], p["resource_group"])
        return list_resources(call, _vnet_id(p), SUBNET_TYPE)

    return Response(200, {"value": ctx.run(p["subscription"], action, commit=False)})


def delete_subnet(ctx: Ctx, p: dict[str, str]) -> Response:
    deleted = ctx.run(p["subscription"], lambda call: delete_resource(call, f"{_vnet_id(p)}/subnets/{p['subnet']}"))
    return Response(200 if deleted else 204)
