# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions on the image catalogue: publish or remove a version, list an image's versions.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._engine import platform
from ansible_collections.azsim.vmss.plugins.module_utils._model.catalogue import (
    DEFAULT_LOCATION,
    gallery_versions,
    latest_for,
    normalize_location,
    platform_image_id,
    platform_versions,
    publish_gallery,
    publish_platform,
)

Presence = Literal["present", "absent"]


class ImageResult(Outcome):
    image: dict[str, Any] | None


class VersionEntry(TypedDict):
    version: str
    published: str
    target_regions: list[str] | None
    exclude_from_latest: bool | None


class ImageInfoResult(Outcome):
    location: str
    versions: list[VersionEntry]
    latest: str | None


def _require_platform_image(publisher: str | None, offer: str | None, sku: str | None, what: str) -> None:
    for option, value in (("publisher", publisher), ("offer", offer), ("sku", sku)):
        if not value:
            raise InvalidInput(f"{option}: required {what} (or give gallery_image_id)")


def publish_image(
    call: Call,
    *,
    version: str,
    publisher: str | None = None,
    offer: str | None = None,
    sku: str | None = None,
    location: str = DEFAULT_LOCATION,
    gallery_image_id: str | None = None,
    target_regions: list[str] | None = None,
    exclude_from_latest: bool | None = None,
    state: Presence = "present",
) -> ImageResult:
    """Publish or remove one platform or gallery image version; the platform then looks for a newer latest."""
    store = call.store
    present = state == "present"
    if gallery_image_id:
        before, after = publish_gallery(store, gallery_image_id, version, target_regions, exclude_from_latest, present)
    else:
        _require_platform_image(publisher, offer, sku, "for a platform image")
        for option, value in (("target_regions", target_regions), ("exclude_from_latest", exclude_from_latest)):
            if value is not None:
                raise InvalidInput(
                    f"{option}: only for gallery images (gallery_image_id); a platform image is published in one "
                    "location at a time (location)"
                )
        before, after = publish_platform(
            store, str(publisher), str(offer), str(sku), version, location or DEFAULT_LOCATION, present
        )
        for entry in (before, after):
            if entry is not None:
                entry["id"] = platform_image_id(
                    call.subscription_id,
                    entry["location"],
                    entry["publisher"],
                    entry["offer"],
                    entry["sku"],
                    entry["version"],
                )
    if before != after:
        platform.reschedule_all(store)
    return {"before": before or {}, "after": after or {}, "image": after}


def image_versions(
    call: Call,
    *,
    location: str = DEFAULT_LOCATION,
    publisher: str | None = None,
    offer: str | None = None,
    sku: str | None = None,
    gallery_image_id: str | None = None,
) -> ImageInfoResult:
    """The versions of one image, oldest first, and what latest is in a location."""
    store = call.store
    location = normalize_location(location or DEFAULT_LOCATION)
    reference: dict[str, Any]
    if gallery_image_id:
        entries = gallery_versions(store, gallery_image_id)
        reference = {"id": gallery_image_id}
    else:
        _require_platform_image(publisher, offer, sku, "to list a platform image")
        entries = platform_versions(store, str(publisher), str(offer), str(sku), location)
        reference = {"publisher": publisher, "offer": offer, "sku": sku}
    versions: list[VersionEntry] = [
        {
            "version": e["version"],
            "published": e["published"],
            "target_regions": e["target_regions"],
            "exclude_from_latest": e["exclude_from_latest"],
        }
        for e in entries
    ]
    return {
        "changed": False,
        "location": location,
        "versions": versions,
        "latest": latest_for(store, reference, location),
    }
