# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image catalogue (publishers → offers → SKUs → versions), gallery image versions, and VM sizes.

Catalogue lists are bare arrays; versions take ``$orderby=name [asc|desc]``, ``$top`` and
``$expand=properties`` (``az vm image show --urn …:latest`` asks for ``$orderby=name desc&$top=1``,
arm-endpoint-research §2.4). Versions order as versions (1.10.0 after 1.9.0), as Azure resolves latest.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.catalogue_read import (
    PlatformVersion,
    gallery_image_version,
    gallery_image_versions,
    platform_version,
    platform_versions_in,
)
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import rest_catalogue
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.routes_compute import page


def _versions(ctx: Ctx, p: dict[str, str]) -> list[PlatformVersion]:
    def action(call: Call) -> list[PlatformVersion]:
        return platform_versions_in(call, p["location"], p.get("publisher"), p.get("offer"), p.get("sku"))

    return ctx.run(p["subscription"], action, commit=False)


def _distinct(entries: list[PlatformVersion], *fields: str) -> list[tuple[str, ...]]:
    seen: dict[tuple[str, ...], tuple[str, ...]] = {}
    for entry in entries:
        values = tuple(str(dict(entry)[f]) for f in fields)
        seen.setdefault(tuple(v.lower() for v in values), values)
    return list(seen.values())


def _location(entries: list[PlatformVersion], p: dict[str, str]) -> str:
    return entries[0]["location"] if entries else p["location"].lower()


def list_publishers(ctx: Ctx, p: dict[str, str]) -> Response:
    entries = _versions(ctx, p)
    location = _location(entries, p)
    return Response(
        200,
        [rest_catalogue.catalogue_entry(p["subscription"], location, *k) for k in _distinct(entries, "publisher")],
    )


def list_offers(ctx: Ctx, p: dict[str, str]) -> Response:
    entries = _versions(ctx, p)
    location = _location(entries, p)
    keys = _distinct(entries, "publisher", "offer")
    return Response(200, [rest_catalogue.catalogue_entry(p["subscription"], location, *k) for k in keys])


def list_skus(ctx: Ctx, p: dict[str, str]) -> Response:
    entries = _versions(ctx, p)
    location = _location(entries, p)
    keys = _distinct(entries, "publisher", "offer", "sku")
    return Response(200, [rest_catalogue.catalogue_entry(p["subscription"], location, *k) for k in keys])


def _order(ctx: Ctx, entries: list[PlatformVersion]) -> list[PlatformVersion]:
    order = " ".join((ctx.request.param("$orderby") or "name asc").split()).lower()
    if order not in ("name", "name asc", "name desc"):
        raise ArmError(
            400,
            "InvalidParameter",
            f"$orderby: {ctx.request.param('$orderby')!r} is not supported; use 'name', 'name asc' or 'name desc'.",
            target="$orderby",
        )
    ordered = list(reversed(entries)) if order == "name desc" else entries
    top = ctx.request.param("$top")
    if top is not None:
        if not top.isdigit():
            raise ArmError(400, "InvalidParameter", f"$top: {top!r} is not a whole number.", target="$top")
        ordered = ordered[: int(top)]
    return ordered


def list_versions(ctx: Ctx, p: dict[str, str]) -> Response:
    if ctx.request.param("$filter"):
        raise ArmError(
            400,
            "InvalidParameter",
            "$filter is not supported on image versions by this endpoint; use $orderby and $top.",
            target="$filter",
        )
    expand = (ctx.request.param("$expand") or "").lower().startswith("properties")
    entries = _order(ctx, _versions(ctx, p))
    return Response(200, [rest_catalogue.image_version(p["subscription"], e, with_properties=expand) for e in entries])


def get_version(ctx: Ctx, p: dict[str, str]) -> Response:
    def action(call: Call) -> PlatformVersion:
        return platform_version(call, p["location"], p["publisher"], p["offer"], p["sku"], p["version"])

    entry = ctx.run(p["subscription"], action, commit=False)
    return Response(200, rest_catalogue.image_version(p["subscription"], entry))


def _gallery_image_id(p: dict[str, str]) -> str:
    return (
        f"/subscriptions/{p['subscription']}/resourceGroups/{p['resource_group']}/providers/Microsoft.Compute/"
        f"galleries/{p['gallery']}/images/{p['image']}"
    )


def list_gallery_versions(ctx: Ctx, p: dict[str, str]) -> Response:
    image_id = _gallery_image_id(p)
    entries = ctx.run(p["subscription"], lambda call: gallery_image_versions(call, image_id), commit=False)
    return Response(200, page(ctx, [rest_catalogue.gallery_image_version(e) for e in entries]))


def get_gallery_version(ctx: Ctx, p: dict[str, str]) -> Response:
    image_id = _gallery_image_id(p)

    def action(call: Call) -> dict[str, Any]:
        return gallery_image_version(call, image_id, p["version"])

    entry = ctx.run(p["subscription"], action, commit=False)
    return Response(200, rest_catalogue.gallery_image_version(entry))


def list_vm_sizes(ctx: Ctx, p: dict[str, str]) -> Response:
    return Response(200, {"value": rest_catalogue.vm_sizes()})
