# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azsim.vmss.vm_image_info through main(): lists like az vm image list, says latest, never writes."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.plugins.modules import vm_image, vm_image_info
from ansible_collections.azsim.vmss.tests.unit._harness import dump, run

SUB = "00000000-0000-0000-0000-000000000000"
GALLERY = f"/subscriptions/{SUB}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/gal/images/web"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}


def set_clock(path: str, seconds: int) -> None:
    store = Store.open(path)
    try:
        with store.transaction():
            store.set_now(seconds)
    finally:
        store.close()


@pytest.fixture
def store(tmp_path: Any) -> str:
    return str(tmp_path / "store.sqlite")


@pytest.fixture
def publish(store: str) -> Any:
    def call(**args: Any) -> None:
        rc, result = run(vm_image, {"store": store, **args})
        assert rc == 0, result

    return call


@pytest.fixture
def info(store: str) -> Any:
    def call(check: bool = False, diff: bool = False, **args: Any) -> tuple[int, dict[str, Any]]:
        return run(vm_image_info, {"store": store, "_ansible_check_mode": check, "_ansible_diff": diff, **args})

    return call


@pytest.fixture
def stocked(store: str, publish: Any) -> str:
    publish(**UBUNTU, version="1.10.0")
    set_clock(store, EPOCH + 3600)
    publish(**UBUNTU, version="1.9.0")
    publish(**UBUNTU, version="1.2.0", location="East US")
    publish(**UBUNTU, version="2.0.0", location="westus")
    publish(gallery_image_id=GALLERY, version="1.0.0", target_regions=["eastus", "westus"])
    publish(gallery_image_id=GALLERY, version="1.1.0", target_regions=["westus"])
    publish(gallery_image_id=GALLERY, version="1.2.0", target_regions=["eastus"], exclude_from_latest=True)
    return store


def test_platform_versions_oldest_first_and_latest(stocked: str, info: Any) -> None:
    rc, result = info(**UBUNTU, location="East US")
    assert rc == 0
    assert result["changed"] is False
    assert result["location"] == "eastus"
    assert result["versions"] == [
        {
            "version": "1.2.0",
            "published": "2025-01-01T01:00:00Z",
            "target_regions": ["eastus"],
            "exclude_from_latest": False,
        },
        {
            "version": "1.9.0",
            "published": "2025-01-01T01:00:00Z",
            "target_regions": ["eastus"],
            "exclude_from_latest": False,
        },
        {
            "version": "1.10.0",
            "published": "2025-01-01T00:00:00Z",
            "target_regions": ["eastus"],
            "exclude_from_latest": False,
        },
    ]
    assert result["latest"] == "1.10.0"


@pytest.mark.parametrize(
    ("args", "versions", "latest"),
    [
        ({**UBUNTU}, ["1.2.0", "1.9.0", "1.10.0"], "1.10.0"),  # location defaults to eastus
        ({**UBUNTU, "location": "westus"}, ["2.0.0"], "2.0.0"),
        ({**UBUNTU, "location": "northeurope"}, [], None),
        ({"publisher": "Canonical", "offer": "other", "sku": "server"}, [], None),
        ({"gallery_image_id": GALLERY, "location": "eastus"}, ["1.0.0", "1.1.0", "1.2.0"], "1.0.0"),
        ({"gallery_image_id": GALLERY, "location": "West US"}, ["1.0.0", "1.1.0", "1.2.0"], "1.1.0"),
        ({"gallery_image_id": GALLERY, "location": "centralus"}, ["1.0.0", "1.1.0", "1.2.0"], None),
    ],
)
def test_versions_and_latest_table(
    stocked: str, info: Any, args: dict[str, Any], versions: list[str], latest: str | None
) -> None:
    _rc, result = info(**args)
    assert [v["version"] for v in result["versions"]] == versions
    assert result["latest"] == latest


def test_gallery_entries_say_regions_and_exclusion(stocked: str, info: Any) -> None:
    _rc, result = info(gallery_image_id=GALLERY)
    assert [(v["target_regions"], v["exclude_from_latest"]) for v in result["versions"]] == [
        (["eastus", "westus"], False),
        (["westus"], False),
        (["eastus"], True),
    ]


def test_read_only_in_every_mode(stocked: str, info: Any) -> None:
    before = dump(stocked)
    _rc, plain = info(**UBUNTU)
    _rc, checked = info(check=True, diff=True, **UBUNTU)
    assert checked == plain
    assert checked["changed"] is False
    assert "diff" not in checked  # read only: nothing to show
    assert dump(stocked) == before


def test_info_on_a_new_store_lists_nothing(store: str, info: Any) -> None:
    Store.open(store).close()
    _rc, result = info(**UBUNTU)
    assert result["versions"] == [] and result["latest"] is None
    _rc, result = info(gallery_image_id=GALLERY)
    assert result["versions"] == [] and result["latest"] is None


def test_info_on_a_store_that_does_not_exist_says_so_and_creates_nothing(store: str, info: Any) -> None:
    rc, result = info(**UBUNTU)
    assert rc == 1 and result["msg"].startswith(f"store {store}: does not exist")
    assert not os.path.exists(store)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({**UBUNTU, "location": "east_us"}, r"^location: 'east_us'"),
        ({"gallery_image_id": f"{GALLERY}/versions/1.0.0"}, r"^gallery_image_id: "),
        ({"gallery_image_id": "/subscriptions/x/resourceGroups/y"}, r"^gallery_image_id: "),
        ({"gallery_image_id": GALLERY, **UBUNTU}, r"mutually exclusive: gallery_image_id\|publisher"),
        ({"publisher": "Canonical", "sku": "server"}, r"required together: publisher, offer, sku"),
        ({}, r"one of the following is required: gallery_image_id, publisher"),
        ({**UBUNTU, "version": "1.0.0"}, r"Unsupported parameters.*version"),
    ],
)
def test_bad_input_fails_naming_the_option(stocked: str, info: Any, args: dict[str, Any], message: str) -> None:
    before = dump(stocked)
    rc, result = info(**args)
    assert rc == 1
    assert result["failed"] is True
    assert "exception" not in result
    assert re.search(message, result["msg"]), result["msg"]
    assert dump(stocked) == before
