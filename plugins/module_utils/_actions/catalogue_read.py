# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions that read the image catalogue as Azure's image routes walk it: publishers, offers, SKUs, versions.

The catalogue is the one ``vm_image`` publishes to; a platform version is in the catalogue of the
locations it was published in (azure-behaviour §4), so every list here is per location.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import parse_version
from ansible_collections.azsim.vmss.plugins.module_utils._model.catalogue import (
    gallery_image_id,
    gallery_versions,
    normalize_location,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.supported_images import is_supported


class PlatformVersion(TypedDict):
    publisher: str
    offer: str
    sku: str
    version: str
    location: str
    published: str
    automatic_os_upgrade_supported: bool


def _matches(value: str, wanted: str | None) -> bool:
    return wanted is None or value.lower() == wanted.lower()


def platform_versions_in(
    call: Call, location: str, publisher: str | None = None, offer: str | None = None, sku: str | None = None
) -> list[PlatformVersion]:
    """Platform image versions published in ``location``, narrowed by publisher, offer and SKU (any case).

    Ordered by publisher, offer, SKU (case-insensitively), then version, lowest first.
    """
    location = normalize_location(location)
    out: list[PlatformVersion] = []
    for doc in call.store.list_docs("images", {"kind": "platform"}):
        if location not in doc["locations"]:
            continue
        if not (_matches(doc["publisher"], publisher) and _matches(doc["offer"], offer) and _matches(doc["sku"], sku)):
            continue
        out.append(
            {
                "publisher": doc["publisher"],
                "offer": doc["offer"],
                "sku": doc["sku"],
                "version": doc["version"],
                "location": location,
                "published": format_timestamp(doc["locations"][location]),
                # azure-behaviour §2 rule 2: only the listed platform images support automatic OS upgrade.
                "automatic_os_upgrade_supported": is_supported(doc["publisher"], doc["offer"], doc["sku"]),
            }
        )
    return sorted(
        out,
        key=lambda v: (
            v["publisher"].lower(),
            v["offer"].lower(),
            v["sku"].lower(),
            parse_version(v["version"], "version"),
        ),
    )


def platform_version(call: Call, location: str, publisher: str, offer: str, sku: str, version: str) -> PlatformVersion:
    """One platform image version in a location; NotFound (Azure's 404) when it is not published there."""
    for entry in platform_versions_in(call, location, publisher, offer, sku):
        if entry["version"] == version:
            return entry
    raise NotFound(
        f"Artifact: VMImage was not found (publisher {publisher}, offer {offer}, sku {sku}, version {version}, "
        f"location {location}); publish it with azsim.vmss.vm_image.",
        code="NotFound",
    )


def gallery_image_versions(call: Call, image_id: str) -> list[dict[str, Any]]:
    """Every version of a gallery image, lowest first, with its regions and excludeFromLatest."""
    return gallery_versions(call.store, gallery_image_id(image_id, "image"))


def gallery_image_version(call: Call, image_id: str, version: str) -> dict[str, Any]:
    for entry in gallery_image_versions(call, image_id):
        if entry["version"] == version:
            return entry
    raise NotFound(
        f"The Resource 'Microsoft.Compute/galleries/images/versions' '{image_id}/versions/{version}' was not found; "
        "publish it with azsim.vmss.vm_image (gallery_image_id).",
        code="ResourceNotFound",
    )
