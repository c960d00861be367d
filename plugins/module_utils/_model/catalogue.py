# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image catalogue: platform image versions per location, gallery image versions per region.

Azure's rules for "latest": a platform version counts in the locations it is published in; a gallery
version counts in a region once it is replicated there and only while it is not excludeFromLatest.
Versions order numerically by their dotted parts.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import (
    GALLERY_IMAGE_ID_BODY,
    IMAGE_NAME_PATTERN,
    LOCATION_PATTERN,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import parse_version
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

# Where a resource goes when no location is given (design.md: vmss and vm_image default to eastus).
DEFAULT_LOCATION = "eastus"
GALLERY_IMAGE_ID = re.compile(rf"^{GALLERY_IMAGE_ID_BODY}(?!\n)$", re.IGNORECASE)
_VERSIONED_ID = re.compile(r"^(?P<image>.+)/versions/(?P<version>[^/]+)$", re.IGNORECASE)
_LOCATION = re.compile(LOCATION_PATTERN)
_NAME_PART = re.compile(IMAGE_NAME_PATTERN)


def normalize_location(value: object, where: str = "location") -> str:
    """Azure location names are case and space insensitive: ``East US`` is ``eastus``."""
    text = str(value or "").replace(" ", "").lower()
    if not _LOCATION.fullmatch(text):
        raise InvalidInput(f"{where}: {value!r} is not an Azure location name; use a form like eastus or westeurope")
    return text


def gallery_image_id(value: object, where: str = "gallery_image_id") -> str:
    """The gallery image id in canonical form; refuses ids of image versions and other resources."""
    text = str(value or "").rstrip("/")
    match = GALLERY_IMAGE_ID.fullmatch(text)
    if not match:
        raise InvalidInput(
            f"{where}: {value!r} is not a gallery image id; use /subscriptions/<sub>/resourceGroups/<rg>/"
            "providers/Microsoft.Compute/galleries/<gallery>/images/<image>"
        )
    parts = text.split(
        "/"
    )  # '', subscriptions, <sub>, resourceGroups, <rg>, ..., galleries, <gallery>, images, <image>
    sub, rg, gallery, image = parts[2], parts[4], parts[8], parts[10]
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gallery}/images/{image}"


def split_gallery_reference(value: object, where: str) -> tuple[str, str | None]:
    """(gallery image id, version or None) of an image or image version id."""
    text = str(value or "").rstrip("/")
    match = _VERSIONED_ID.match(text)
    if match:
        parse_version(match["version"], where)
        return gallery_image_id(match["image"], where), match["version"]
    return gallery_image_id(text, where), None


def pinned_version(image_reference: dict[str, Any]) -> str | None:
    """The version an image reference pins; None when it follows ``latest``.

    azure-behaviour §2 rule 1 (automatic OS upgrade needs version ``latest``, or a gallery image referenced
    without a version) and §4 "Manual" (osRollingUpgrade is refused when no instance follows latest). A
    platform reference follows latest when its version is ``latest`` in any case; a gallery reference when
    its id has no ``/versions/<version>``.
    """
    if "id" in image_reference:
        match = _VERSIONED_ID.match(str(image_reference["id"] or "").rstrip("/"))
        return match["version"] if match else None
    version = str(image_reference.get("version") or "")
    return None if version.lower() == "latest" else version


def is_gallery_image(image_id: object) -> bool:
    """Whether an image id (with or without /versions/<version>) is an Azure Compute Gallery image (§2 rule 2)."""
    text = str(image_id or "").rstrip("/")
    match = _VERSIONED_ID.match(text)
    return GALLERY_IMAGE_ID.fullmatch(match["image"] if match else text) is not None


def _platform_key(publisher: str, offer: str, sku: str) -> str:
    return f"{publisher}:{offer}:{sku}".lower()


def check_image_name(value: object, where: str) -> str:
    """A publisher, offer or SKU name, as Azure allows them (names.IMAGE_NAME_PATTERN)."""
    if not isinstance(value, str) or not _NAME_PART.fullmatch(value):
        raise InvalidInput(
            f"{where}: {value!r} is not allowed; use 1 to 128 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return value


def platform_image_id(sub: str, location: str, publisher: str, offer: str, sku: str, version: str) -> str:
    return (
        f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{location}/Publishers/{publisher}"
        f"/ArtifactTypes/VMImage/Offers/{offer}/Skus/{sku}/Versions/{version}"
    )


# latest_available's answers for the transaction, by (kind, image, location); publishing forgets them.
_LATEST = "catalogue.latest_available"


# -- publishing ------------------------------------------------------------------------------------


def publish_platform(
    store: Store, publisher: str, offer: str, sku: str, version: str, location: str, present: bool
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Publish (or remove) a platform version in one location; returns (before, after) entries."""
    for where, value in (("publisher", publisher), ("offer", offer), ("sku", sku)):
        check_image_name(value, where)
    parse_version(version, "version")
    location = normalize_location(location)
    key = {"kind": "platform", "image": _platform_key(publisher, offer, sku), "version": version}
    store.extras.pop(_LATEST, None)
    doc = store.get_doc("images", key)
    before = _platform_entry(doc, location) if doc else None
    if present:
        if doc is None:
            doc = {"publisher": publisher, "offer": offer, "sku": sku, "version": version, "locations": {}}
        doc["locations"].setdefault(location, store.now())
        store.put_doc("images", key, doc)
    elif doc is not None and location in doc["locations"]:
        del doc["locations"][location]
        if doc["locations"]:
            store.put_doc("images", key, doc)
        else:
            store.delete_docs("images", key)
    after = _platform_entry(doc, location) if present and doc is not None else None
    return before, after


def publish_gallery(
    store: Store,
    image_id: str,
    version: str,
    target_regions: list[str] | None,
    exclude_from_latest: bool | None,
    present: bool,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Publish, re-replicate or remove a gallery image version; returns (before, after) entries.

    A region newly added to ``target_regions`` becomes available at the current virtual time; regions
    already replicated keep their original time.
    """
    image_id = gallery_image_id(image_id)
    parse_version(version, "version")
    key = {"kind": "gallery", "image": image_id.lower(), "version": version}
    store.extras.pop(_LATEST, None)
    doc = store.get_doc("images", key)
    before = _gallery_entry(doc) if doc else None
    if not present:
        if doc is not None:
            store.delete_docs("images", key)
        return before, None
    if doc is None:
        if not target_regions:
            raise InvalidInput("target_regions: a new gallery image version needs at least one target region")
        doc = {
            "gallery_image_id": image_id,
            "version": version,
            "published": store.now(),
            "regions": {},
            "exclude_from_latest": False,
        }
    if target_regions is not None:
        if not target_regions:
            raise InvalidInput("target_regions: give at least one region; remove the version with state=absent")
        regions = [normalize_location(r, f"target_regions[{i}]") for i, r in enumerate(target_regions)]
        doc["regions"] = {r: doc["regions"].get(r, store.now()) for r in regions}
    if exclude_from_latest is not None:
        _set_excluded(doc, bool(exclude_from_latest), store.now())
    store.put_doc("images", key, doc)
    return before, _gallery_entry(doc)


def _set_excluded(doc: dict[str, Any], excluded: bool, now: int) -> None:
    """excludeFromLatest set or cleared; clearing it is a moment the version can become latest (§4).

    ``included_at`` keeps the last moment the exclusion was cleared, so that a version excluded when it was
    replicated counts from then, not from its replication (see ``latest_available``).
    """
    if doc["exclude_from_latest"] and not excluded:
        doc["included_at"] = now
    doc["exclude_from_latest"] = excluded


def _became_latest_in(doc: dict[str, Any], location: str) -> int:
    """azure-behaviour §4 (gallery images): a gallery version counts in a region from the later of its
    replication there and the last clearing of its excludeFromLatest."""
    replicated: int = doc["regions"][location]
    included: int = doc.get("included_at", 0)
    return max(replicated, included)


# -- reading ---------------------------------------------------------------------------------------


def _platform_entry(doc: dict[str, Any], location: str) -> dict[str, Any] | None:
    if location not in doc["locations"]:
        return None
    return {
        "publisher": doc["publisher"],
        "offer": doc["offer"],
        "sku": doc["sku"],
        "version": doc["version"],
        "location": location,
        "published": format_timestamp(doc["locations"][location]),
        "target_regions": sorted(doc["locations"]),
        "exclude_from_latest": False,
    }


def _gallery_entry(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{doc['gallery_image_id']}/versions/{doc['version']}",
        "gallery_image_id": doc["gallery_image_id"],
        "version": doc["version"],
        "published": format_timestamp(doc["published"]),
        "target_regions": sorted(doc["regions"]),
        "replicated": {r: format_timestamp(t) for r, t in sorted(doc["regions"].items())},
        "exclude_from_latest": doc["exclude_from_latest"],
    }


def _by_version(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(docs, key=lambda d: parse_version(d["version"], "version"))


def platform_versions(store: Store, publisher: str, offer: str, sku: str, location: str) -> list[dict[str, Any]]:
    """Versions published in ``location``, oldest (lowest) first."""
    location = normalize_location(location)
    docs = store.list_docs("images", {"kind": "platform", "image": _platform_key(publisher, offer, sku)})
    entries = [_platform_entry(d, location) for d in _by_version(docs)]
    return [e for e in entries if e is not None]


def gallery_versions(store: Store, image_id: str) -> list[dict[str, Any]]:
    """Every version of a gallery image, wherever replicated, oldest (lowest) first."""
    docs = store.list_docs("images", {"kind": "gallery", "image": gallery_image_id(image_id).lower()})
    return [_gallery_entry(d) for d in _by_version(docs)]


def latest_available(store: Store, image_reference: dict[str, Any], location: str) -> tuple[str, int] | None:
    """(version, virtual time it became available in ``location``) of what ``latest`` resolves to.

    Azure's rule, in this one place (azure-behaviour §4, gallery images): a platform version counts where it
    is published; a gallery version counts where it is replicated, and only while it is not excluded from
    latest, from the later of those two moments (``_became_latest_in``).

    Kept for the rest of the transaction, until it publishes or removes a version: a new image is asked
    about once per scale set of the fleet (issue 14), and most of them share one image and location.
    """
    location = normalize_location(location)
    if "id" in image_reference:
        image_id, _version = split_gallery_reference(image_reference["id"], "image.id")
        source = ("gallery", image_id.lower(), location)
    else:
        source = (
            "platform",
            _platform_key(image_reference["publisher"], image_reference["offer"], image_reference["sku"]),
            location,
        )
    if not store.in_transaction:
        return _latest_available(store, *source)
    known: dict[tuple[str, str, str], tuple[str, int] | None] = store.extras.setdefault(_LATEST, {})
    if source not in known:
        known[source] = _latest_available(store, *source)
    return known[source]


def _latest_available(store: Store, kind: str, image: str, location: str) -> tuple[str, int] | None:
    docs = _by_version(store.list_docs("images", {"kind": kind, "image": image}))
    if kind == "gallery":
        eligible = [
            (d["version"], _became_latest_in(d, location))
            for d in docs
            if location in d["regions"] and not d["exclude_from_latest"]
        ]
    else:
        eligible = [(d["version"], d["locations"][location]) for d in docs if location in d["locations"]]
    return eligible[-1] if eligible else None


def latest_for(store: Store, image_reference: dict[str, Any], location: str) -> str | None:
    """The version ``latest`` resolves to for a REST imageReference in a location, or None."""
    found = latest_available(store, image_reference, location)
    return found[0] if found else None


def resolve(store: Store, image_reference: dict[str, Any], location: str) -> str:
    """The exact version a new OS disk gets from this reference in this location; NotFound if none.

    A pinned version must exist where the scale set is (for a gallery image: be replicated there).
    """
    location = normalize_location(location)
    if "id" in image_reference:
        image_id, pinned = split_gallery_reference(image_reference["id"], "image.id")
        if pinned is None:
            found = latest_for(store, image_reference, location)
        else:
            entries = gallery_versions(store, image_id)
            found = next(
                (e["version"] for e in entries if e["version"] == pinned and location in e["target_regions"]), None
            )
        described = f"gallery image {image_id}" + (f" version {pinned}" if pinned else "")
    else:
        pinned = pinned_version(image_reference)
        if pinned is None:
            found = latest_for(store, image_reference, location)
        else:
            entries = platform_versions(
                store, image_reference["publisher"], image_reference["offer"], image_reference["sku"], location
            )
            found = pinned if any(e["version"] == pinned for e in entries) else None
        described = (
            f"platform image {image_reference['publisher']}:{image_reference['offer']}:{image_reference['sku']}:"
            f"{image_reference['version']}"
        )
    if found is None:
        raise NotFound(
            f"image: the catalogue has no {described} available in {location}; publish it first with "
            "azsim.vmss.vm_image (gallery versions must be replicated to the location and, for latest, not "
            "excluded from latest)"
        )
    return found


# -- module actions --------------------------------------------------------------------------------
