# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image catalogue as plain Python: what "latest" means, per location, for platform and gallery images."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import image_versions, publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.tests.unit._call import act

SUB = "00000000-0000-0000-0000-000000000000"
GALLERY = f"/subscriptions/{SUB}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/gal/images/web"
UBUNTU = ("Canonical", "ubuntu-24_04-lts", "server")
HOUR = 3600


@pytest.fixture
def store(tmp_path: Any) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "store.sqlite"))
    try:
        with opened.transaction():
            yield opened
    finally:
        opened.close()


def publish(store: Store, version: str, location: str = "eastus", present: bool = True) -> Any:
    return catalogue.publish_platform(store, *UBUNTU, version, location, present)


def platform_ref(version: str = "latest") -> dict[str, str]:
    publisher, offer, sku = UBUNTU
    return {"publisher": publisher, "offer": offer, "sku": sku, "version": version}


def gallery(
    store: Store, version: str, regions: list[str] | None, exclude: bool | None = None, present: bool = True
) -> Any:
    return catalogue.publish_gallery(store, GALLERY, version, regions, exclude, present)


def latest_platform(store: Store, location: str) -> str | None:
    return catalogue.latest_for(store, platform_ref(), location)


def latest_gallery(store: Store, location: str) -> str | None:
    return catalogue.latest_for(store, {"id": GALLERY}, location)


def image_rows(store: Store) -> list[tuple[Any, ...]]:
    return list(store.conn.execute("SELECT kind, image, version, doc FROM images ORDER BY kind, image, version"))


# -- version ordering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "latest"),
    [
        (["1.9.0", "1.10.0"], "1.10.0"),
        (["1.10.0", "1.9.0"], "1.10.0"),  # publish order does not matter
        (["1.2.0", "1.10.0", "1.9.0"], "1.10.0"),
        (["2.0.0", "10.0.0"], "10.0.0"),
        (["1.0.10", "1.0.9"], "1.0.10"),
        (["1.1.0", "1.0.99"], "1.1.0"),
        (["24.04.202501010", "24.04.202412020"], "24.04.202501010"),
        (["0.0.1"], "0.0.1"),
    ],
)
def test_latest_is_the_numerically_highest_version(store: Store, published: list[str], latest: str) -> None:
    for version in published:
        publish(store, version)
    assert latest_platform(store, "eastus") == latest
    assert catalogue.resolve(store, platform_ref(), "eastus") == latest
    listed = [e["version"] for e in catalogue.platform_versions(store, *UBUNTU, "eastus")]
    assert listed == sorted(published, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert listed[-1] == latest


def test_latest_does_not_depend_on_publication_time(store: Store) -> None:
    publish(store, "1.10.0")
    store.set_now(EPOCH + HOUR)
    publish(store, "1.9.0")  # published later, but older
    assert latest_platform(store, "eastus") == "1.10.0"


@pytest.mark.parametrize(
    "bad",
    [
        "1.0",
        "1.0.0.0",
        "v1.0.0",
        "latest",
        "1.0.x",
        "",
        "1..0",
        " 1.0.0",
        "1.0.0-beta",
        "12345678901.0.0",
        "2147483648.0.0",
    ],
)
def test_bad_versions_are_refused_naming_the_option(store: Store, bad: str) -> None:
    before = image_rows(store)
    with pytest.raises(InvalidInput, match=r"^version: "):
        publish(store, bad)
    with pytest.raises(InvalidInput, match=r"^version: "):
        gallery(store, bad, ["eastus"])
    assert image_rows(store) == before


def test_largest_allowed_version_part(store: Store) -> None:
    publish(store, "2147483647.0.0")
    assert latest_platform(store, "eastus") == "2147483647.0.0"


# -- platform images: per location -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("eastus", "eastus"),
        ("East US", "eastus"),
        ("EASTUS", "eastus"),
        ("West Europe", "westeurope"),
        ("East US 2", "eastus2"),
        ("  eastus  ", "eastus"),
    ],
)
def test_location_names_are_normalised(given: str, normal: str) -> None:
    assert catalogue.normalize_location(given) == normal


@pytest.mark.parametrize("bad", ["", "east-us", "east_us", "1eastus", "e", "east/us", None])
def test_bad_location_names_are_refused(bad: Any) -> None:
    with pytest.raises(InvalidInput, match=r"^location: "):
        catalogue.normalize_location(bad)


def test_platform_versions_count_only_where_published(store: Store) -> None:
    publish(store, "1.0.0", "westus")
    assert latest_platform(store, "westus") == "1.0.0"
    assert latest_platform(store, "eastus") is None
    assert catalogue.platform_versions(store, *UBUNTU, "eastus") == []
    with pytest.raises(NotFound):
        catalogue.resolve(store, platform_ref(), "eastus")
    with pytest.raises(NotFound):
        catalogue.resolve(store, platform_ref("1.0.0"), "eastus")


def test_latest_is_per_location(store: Store) -> None:
    publish(store, "1.0.0", "eastus")
    publish(store, "1.0.0", "westus")
    publish(store, "2.0.0", "westus")
    assert latest_platform(store, "eastus") == "1.0.0"
    assert latest_platform(store, "westus") == "2.0.0"
    assert catalogue.resolve(store, platform_ref(), "eastus") == "1.0.0"


def test_location_spelling_does_not_matter(store: Store) -> None:
    publish(store, "1.0.0", "East US")
    assert latest_platform(store, "eastus") == "1.0.0"
    assert catalogue.resolve(store, platform_ref(), "EAST US") == "1.0.0"
    entry = catalogue.platform_versions(store, *UBUNTU, "eastus")[0]
    assert entry["location"] == "eastus"
    assert entry["target_regions"] == ["eastus"]
    before, after = publish(store, "1.0.0", "eastus")
    assert before == after  # the same publication, not a second one


def test_publication_time_is_per_location_and_kept_on_republish(store: Store) -> None:
    publish(store, "1.0.0", "eastus")
    store.set_now(EPOCH + HOUR)
    publish(store, "1.0.0", "westus")
    store.set_now(EPOCH + 2 * HOUR)
    before, after = publish(store, "1.0.0", "eastus")
    assert before == after
    assert after["published"] == "2025-01-01T00:00:00Z"
    west = catalogue.platform_versions(store, *UBUNTU, "westus")[0]
    assert west["published"] == "2025-01-01T01:00:00Z"
    assert west["target_regions"] == ["eastus", "westus"]


def test_platform_absent_removes_from_that_location_only(store: Store) -> None:
    publish(store, "1.0.0", "eastus")
    publish(store, "2.0.0", "eastus")
    publish(store, "2.0.0", "westus")
    before, after = publish(store, "2.0.0", "eastus", present=False)
    assert before is not None and before["version"] == "2.0.0"
    assert after is None
    assert latest_platform(store, "eastus") == "1.0.0"
    assert latest_platform(store, "westus") == "2.0.0"
    publish(store, "2.0.0", "westus", present=False)
    assert latest_platform(store, "westus") is None
    assert [r[2] for r in image_rows(store)] == ["1.0.0"]  # the last location gone: the version is gone


def test_platform_absent_of_something_missing_changes_nothing(store: Store) -> None:
    publish(store, "1.0.0", "eastus")
    rows = image_rows(store)
    assert publish(store, "1.0.0", "westus", present=False) == (None, None)
    assert publish(store, "9.0.0", "eastus", present=False) == (None, None)
    assert image_rows(store) == rows


@pytest.mark.parametrize(
    ("publisher", "offer", "sku", "option"),
    [
        ("", "o", "s", "publisher"),
        ("p", "bad offer", "s", "offer"),
        ("p", "o", "-s", "sku"),
        ("p/x", "o", "s", "publisher"),
        ("p", "o", "s" * 129, "sku"),
    ],
)
def test_bad_platform_names_name_the_option(store: Store, publisher: str, offer: str, sku: str, option: str) -> None:
    with pytest.raises(InvalidInput, match=rf"^{option}: "):
        catalogue.publish_platform(store, publisher, offer, sku, "1.0.0", "eastus", True)
    assert image_rows(store) == []


def test_platform_image_names_are_case_insensitive(store: Store) -> None:
    publish(store, "1.0.0")
    ref = {"publisher": "canonical", "offer": "UBUNTU-24_04-LTS", "sku": "Server", "version": "latest"}
    assert catalogue.resolve(store, ref, "eastus") == "1.0.0"


# -- gallery images ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("versions", "location", "latest"),
    [
        # (version, regions, exclude_from_latest)
        ([("1.0.0", ["eastus"], False), ("1.1.0", ["eastus"], False)], "eastus", "1.1.0"),
        ([("1.1.0", ["eastus"], False), ("1.0.0", ["eastus"], False)], "eastus", "1.1.0"),
        ([("1.9.0", ["eastus"], False), ("1.10.0", ["eastus"], False)], "eastus", "1.10.0"),
        ([("1.0.0", ["eastus"], False), ("1.1.0", ["westus"], False)], "eastus", "1.0.0"),
        ([("1.0.0", ["eastus"], False), ("1.1.0", ["westus"], False)], "westus", "1.1.0"),
        ([("1.0.0", ["eastus"], False), ("1.1.0", ["eastus"], True)], "eastus", "1.0.0"),
        ([("1.0.0", ["eastus"], True)], "eastus", None),
        ([("1.0.0", ["westus"], False)], "eastus", None),
        (
            [("1.0.0", ["eastus", "westus"], False), ("2.0.0", ["eastus"], True), ("1.5.0", ["westus"], False)],
            "eastus",
            "1.0.0",
        ),
        (
            [("1.0.0", ["eastus", "westus"], False), ("2.0.0", ["eastus"], True), ("1.5.0", ["westus"], False)],
            "westus",
            "1.5.0",
        ),
        ([("1.0.0", ["East US"], False)], "eastus", "1.0.0"),
    ],
)
def test_gallery_latest_counts_replicated_and_not_excluded(
    store: Store, versions: list[tuple[str, list[str], bool]], location: str, latest: str | None
) -> None:
    for version, regions, exclude in versions:
        gallery(store, version, regions, exclude)
    assert latest_gallery(store, location) == latest
    if latest is None:
        with pytest.raises(NotFound):
            catalogue.resolve(store, {"id": GALLERY}, location)
    else:
        assert catalogue.resolve(store, {"id": GALLERY}, location) == latest


def test_gallery_republish_with_added_region_is_available_there_from_then(store: Store) -> None:
    gallery(store, "1.0.0", ["eastus"])
    assert latest_gallery(store, "westus") is None
    store.set_now(EPOCH + 2 * HOUR)
    before, after = gallery(store, "1.0.0", ["eastus", "West US"])
    assert before["target_regions"] == ["eastus"]
    assert after["target_regions"] == ["eastus", "westus"]
    assert after["replicated"] == {"eastus": "2025-01-01T00:00:00Z", "westus": "2025-01-01T02:00:00Z"}
    assert after["published"] == "2025-01-01T00:00:00Z"  # still the original publication
    assert latest_gallery(store, "westus") == "1.0.0"
    assert catalogue.resolve(store, {"id": GALLERY}, "westus") == "1.0.0"
    # publishing again with the same regions later keeps every replication time
    store.set_now(EPOCH + 5 * HOUR)
    again_before, again_after = gallery(store, "1.0.0", ["westus", "eastus"])
    assert again_before == again_after == after


def test_gallery_removing_a_region(store: Store) -> None:
    gallery(store, "1.0.0", ["eastus", "westus"])
    gallery(store, "2.0.0", ["eastus", "westus"])
    store.set_now(EPOCH + HOUR)
    _before, after = gallery(store, "2.0.0", ["eastus"])
    assert after["target_regions"] == ["eastus"]
    assert after["replicated"] == {"eastus": "2025-01-01T00:00:00Z"}
    assert latest_gallery(store, "westus") == "1.0.0"
    assert latest_gallery(store, "eastus") == "2.0.0"
    with pytest.raises(NotFound, match="westus"):
        catalogue.resolve(store, {"id": f"{GALLERY}/versions/2.0.0"}, "westus")
    # and adding it back replicates it again, from that moment
    store.set_now(EPOCH + 3 * HOUR)
    _before, after = gallery(store, "2.0.0", ["eastus", "westus"])
    assert after["replicated"]["westus"] == "2025-01-01T03:00:00Z"


def test_gallery_exclude_from_latest_can_be_toggled_keeping_regions(store: Store) -> None:
    gallery(store, "1.0.0", ["eastus"])
    gallery(store, "2.0.0", ["eastus", "westus"], exclude=True)
    assert latest_gallery(store, "eastus") == "1.0.0"
    _before, after = gallery(store, "2.0.0", None, exclude=False)  # regions not given: kept
    assert after["target_regions"] == ["eastus", "westus"]
    assert after["exclude_from_latest"] is False
    assert latest_gallery(store, "eastus") == "2.0.0"
    _before, after = gallery(store, "2.0.0", ["eastus"])  # exclude not given: kept
    assert after["exclude_from_latest"] is False
    _before, after = gallery(store, "2.0.0", None, exclude=True)
    assert after["exclude_from_latest"] is True
    assert latest_gallery(store, "eastus") == "1.0.0"


def test_gallery_new_version_needs_target_regions(store: Store) -> None:
    missing: list[list[str] | None] = [None, []]
    for regions in missing:
        with pytest.raises(InvalidInput, match=r"^target_regions: "):
            gallery(store, "1.0.0", regions)
    assert image_rows(store) == []
    gallery(store, "1.0.0", ["eastus"])
    rows = image_rows(store)
    with pytest.raises(InvalidInput, match=r"^target_regions: "):
        gallery(store, "1.0.0", [])
    assert image_rows(store) == rows


def test_gallery_bad_target_region_names_its_index(store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"^target_regions\[1\]: 'west_us'"):
        gallery(store, "1.0.0", ["eastus", "west_us"])
    assert image_rows(store) == []


def test_gallery_absent_removes_the_version(store: Store) -> None:
    gallery(store, "1.0.0", ["eastus"])
    gallery(store, "2.0.0", ["eastus"])
    before, after = gallery(store, "2.0.0", None, present=False)
    assert before is not None and before["version"] == "2.0.0"
    assert after is None
    assert [e["version"] for e in catalogue.gallery_versions(store, GALLERY)] == ["1.0.0"]
    assert latest_gallery(store, "eastus") == "1.0.0"
    assert gallery(store, "2.0.0", None, present=False) == (None, None)


def test_gallery_ids_are_case_insensitive(store: Store) -> None:
    gallery(store, "1.0.0", ["eastus"])
    upper = GALLERY.replace("resourceGroups/rg-img", "RESOURCEGROUPS/RG-IMG")
    assert catalogue.resolve(store, {"id": upper}, "eastus") == "1.0.0"
    _before, after = catalogue.publish_gallery(store, upper + "/", "1.0.0", None, None, True)
    assert after is not None and after["target_regions"] == ["eastus"]
    assert len(image_rows(store)) == 1


GOOD_PREFIX = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "web",
        f"{GOOD_PREFIX}/galleries/gal/images/web/versions/1.0.0",  # a version id, not an image id
        f"{GOOD_PREFIX}/galleries/gal",
        f"{GOOD_PREFIX}/images/web",  # a managed image, not a gallery image
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/galleries/gal/images/web",
        "/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal/images/web",
    ],
)
def test_bad_gallery_ids_name_the_option(store: Store, bad: str) -> None:
    with pytest.raises(InvalidInput, match=r"^gallery_image_id: "):
        catalogue.publish_gallery(store, bad, "1.0.0", ["eastus"], None, True)
    if bad:  # an empty id is no id: image_info then asks for a platform image
        with pytest.raises(InvalidInput, match=r"^gallery_image_id: "):
            act(image_versions, store, SUB, {"gallery_image_id": bad, "location": "eastus"})
    assert image_rows(store) == []


@pytest.mark.parametrize(
    "bad",
    [f"{GOOD_PREFIX}/galleries/gal/images/web/versions/1.0", f"{GOOD_PREFIX}/galleries/gal", "nonsense"],
)
def test_bad_image_reference_ids_name_image_id(store: Store, bad: str) -> None:
    with pytest.raises(InvalidInput, match=r"^image\.id: "):
        catalogue.resolve(store, {"id": bad}, "eastus")


# -- resolve -------------------------------------------------------------------------------------------


@pytest.fixture
def stocked(store: Store) -> Store:
    for version in ("1.0.0", "1.10.0", "1.9.0"):
        publish(store, version, "eastus")
    publish(store, "3.0.0", "westus")
    gallery(store, "1.0.0", ["eastus", "westus"])
    gallery(store, "1.1.0", ["eastus"])
    gallery(store, "2.0.0", ["eastus"], exclude=True)
    return store


@pytest.mark.parametrize(
    ("reference", "location", "expected"),
    [
        (platform_ref(), "eastus", "1.10.0"),
        (platform_ref("latest"), "westus", "3.0.0"),
        (platform_ref("LATEST"), "eastus", "1.10.0"),
        (platform_ref("1.9.0"), "eastus", "1.9.0"),
        (platform_ref("1.0.0"), "East US", "1.0.0"),
        ({"id": GALLERY}, "eastus", "1.1.0"),
        ({"id": GALLERY}, "westus", "1.0.0"),
        ({"id": f"{GALLERY}/versions/1.0.0"}, "eastus", "1.0.0"),
        ({"id": f"{GALLERY}/versions/1.0.0"}, "westus", "1.0.0"),
        # a pinned version is usable even when excluded from latest
        ({"id": f"{GALLERY}/versions/2.0.0"}, "eastus", "2.0.0"),
    ],
)
def test_resolve(stocked: Store, reference: dict[str, str], location: str, expected: str) -> None:
    assert catalogue.resolve(stocked, reference, location) == expected


@pytest.mark.parametrize(
    ("reference", "location", "named"),
    [
        (platform_ref("3.0.0"), "eastus", "platform image Canonical:ubuntu-24_04-lts:server:3.0.0"),
        (platform_ref("1.2.0"), "eastus", "platform image Canonical:ubuntu-24_04-lts:server:1.2.0"),
        (
            {"publisher": "Canonical", "offer": "other", "sku": "server", "version": "latest"},
            "eastus",
            "platform image Canonical:other:server:latest",
        ),
        (platform_ref(), "northeurope", "platform image Canonical:ubuntu-24_04-lts:server:latest"),
        ({"id": GALLERY}, "northeurope", f"gallery image {GALLERY}"),
        ({"id": f"{GALLERY}/versions/1.1.0"}, "westus", f"gallery image {GALLERY} version 1.1.0"),
        ({"id": f"{GALLERY}/versions/9.0.0"}, "eastus", f"gallery image {GALLERY} version 9.0.0"),
    ],
)
def test_resolve_not_found_names_image_and_location(
    stocked: Store, reference: dict[str, str], location: str, named: str
) -> None:
    with pytest.raises(NotFound) as caught:
        catalogue.resolve(stocked, reference, location)
    message = caught.value.message
    assert message.startswith("image: ")
    assert named in message
    assert f"available in {location}" in message
    assert "azsim.vmss.vm_image" in message


def test_resolve_on_an_empty_catalogue(store: Store) -> None:
    with pytest.raises(NotFound, match="eastus"):
        catalogue.resolve(store, platform_ref(), "eastus")
    with pytest.raises(NotFound, match="eastus"):
        catalogue.resolve(store, {"id": GALLERY}, "eastus")


# -- the module actions --------------------------------------------------------------------------------


def action_params(**given: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "publisher": None,
        "offer": None,
        "sku": None,
        "location": "eastus",
        "gallery_image_id": None,
        "version": "1.0.0",
        "target_regions": None,
        "exclude_from_latest": None,
        "state": "present",
    }
    params.update(given)
    return params


def test_image_action_platform_returns_the_resource_id(store: Store) -> None:
    publisher, offer, sku = UBUNTU
    result = act(
        publish_image, store, SUB, action_params(publisher=publisher, offer=offer, sku=sku, location="West US")
    )
    assert result["before"] == {}
    assert result["image"] == result["after"]
    assert result["image"]["id"] == (
        f"/Subscriptions/{SUB}/Providers/Microsoft.Compute/Locations/westus/Publishers/Canonical"
        "/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions/1.0.0"
    )
    assert result["image"]["published"] == format_timestamp(EPOCH)
    again = act(publish_image, store, SUB, action_params(publisher=publisher, offer=offer, sku=sku, location="westus"))
    assert again["before"] == again["after"]
    gone = act(
        publish_image,
        store,
        SUB,
        action_params(publisher=publisher, offer=offer, sku=sku, location="westus", state="absent"),
    )
    assert gone["before"] == result["after"]
    assert gone["after"] == {}
    assert gone["image"] is None


@pytest.mark.parametrize("missing", ["publisher", "offer", "sku"])
def test_image_action_platform_needs_publisher_offer_sku(store: Store, missing: str) -> None:
    given: dict[str, str | None] = dict(zip(("publisher", "offer", "sku"), UBUNTU))
    given[missing] = None
    with pytest.raises(InvalidInput, match=rf"^{missing}: "):
        act(publish_image, store, SUB, action_params(**given))
    assert image_rows(store) == []


def test_image_action_gallery(store: Store) -> None:
    result = act(
        publish_image, store, SUB, action_params(gallery_image_id=GALLERY, target_regions=["eastus"], version="1.2.0")
    )
    assert result["image"]["id"] == f"{GALLERY}/versions/1.2.0"
    assert result["image"]["exclude_from_latest"] is False


def test_image_info_lists_oldest_first_and_says_latest(store: Store) -> None:
    for version in ("1.10.0", "1.2.0", "1.9.0"):
        publish(store, version, "eastus")
    publish(store, "2.0.0", "westus")
    publisher, offer, sku = UBUNTU
    info = act(image_versions, store, SUB, {"publisher": publisher, "offer": offer, "sku": sku, "location": "East US"})
    assert info["location"] == "eastus"
    assert [v["version"] for v in info["versions"]] == ["1.2.0", "1.9.0", "1.10.0"]
    assert set(info["versions"][0]) == {"version", "published", "target_regions", "exclude_from_latest"}
    assert info["latest"] == "1.10.0"
    assert info["changed"] is False
    empty = act(
        image_versions, store, SUB, {"publisher": publisher, "offer": offer, "sku": sku, "location": "northeurope"}
    )
    assert empty["versions"] == [] and empty["latest"] is None


def test_image_info_gallery_lists_every_version_but_latest_is_per_location(store: Store) -> None:
    gallery(store, "1.0.0", ["eastus"])
    gallery(store, "1.1.0", ["westus"])
    gallery(store, "1.2.0", ["eastus"], exclude=True)
    info = act(image_versions, store, SUB, {"gallery_image_id": GALLERY, "location": "eastus"})
    assert [v["version"] for v in info["versions"]] == ["1.0.0", "1.1.0", "1.2.0"]
    assert [v["exclude_from_latest"] for v in info["versions"]] == [False, False, True]
    assert info["latest"] == "1.0.0"
    assert act(image_versions, store, SUB, {"gallery_image_id": GALLERY, "location": "westus"})["latest"] == "1.1.0"
    assert act(image_versions, store, SUB, {"gallery_image_id": GALLERY, "location": "centralus"})["latest"] is None


@pytest.mark.parametrize("option", ["target_regions", "exclude_from_latest"])
def test_gallery_only_options_are_refused_for_platform_images(store: Store, option: str) -> None:
    params = {
        "publisher": "Canonical",
        "offer": "ubuntu",
        "sku": "server",
        "version": "1.0.0",
        "location": "eastus",
        "gallery_image_id": None,
        "target_regions": None,
        "exclude_from_latest": None,
        "state": "present",
        option: ["westus"] if option == "target_regions" else True,
    }
    with pytest.raises(InvalidInput, match=rf"^{option}: only for gallery images"):
        act(publish_image, store, "sub", params)
    assert image_rows(store) == []
