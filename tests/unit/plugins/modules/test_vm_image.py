# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azsim.vmss.vm_image through main(): check mode, diff, idempotence, errors that name the option."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.modules import vm_image, vm_image_info
from ansible_collections.azsim.vmss.tests.unit._harness import dump, run

SUB = "00000000-0000-0000-0000-000000000000"
GALLERY = f"/subscriptions/{SUB}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/gal/images/web"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
PLATFORM_ID = (
    f"/Subscriptions/{SUB}/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical/ArtifactTypes/VMImage"
    "/Offers/ubuntu-24_04-lts/Skus/server/Versions/1.0.0"
)


@pytest.fixture
def store(tmp_path: Any) -> str:
    return str(tmp_path / "store.sqlite")


@pytest.fixture
def image(store: str) -> Any:
    def call(check: bool = False, diff: bool = False, **args: Any) -> tuple[int, dict[str, Any]]:
        return run(vm_image, {"store": store, "_ansible_check_mode": check, "_ansible_diff": diff, **args})

    return call


@pytest.fixture
def info(store: str) -> Any:
    def call(**args: Any) -> dict[str, Any]:
        rc, result = run(vm_image_info, {"store": store, **args})
        assert rc == 0, result
        return result

    return call


def test_platform_check_mode_then_real_then_again(store: str, image: Any, info: Any) -> None:
    image(**UBUNTU, version="0.9.0")  # the store exists before the check-mode call
    before = dump(store)

    rc, checked = image(check=True, diff=True, **UBUNTU, version="1.0.0")
    assert rc == 0
    assert checked["changed"] is True
    assert checked["image"]["id"] == PLATFORM_ID
    assert checked["image"]["version"] == "1.0.0"
    assert checked["diff"] == {"before": {}, "after": checked["image"]}
    assert dump(store) == before
    assert info(**UBUNTU)["latest"] == "0.9.0"

    rc, real = image(diff=True, **UBUNTU, version="1.0.0")
    assert rc == 0
    assert real["changed"] is True
    assert real["image"] == checked["image"]
    assert real["image"]["published"] == "2025-01-01T00:00:00Z"
    assert real["image"]["target_regions"] == ["eastus"]
    assert real["image"]["exclude_from_latest"] is False
    assert real["diff"]["before"] == {}
    assert real["diff"]["after"]["version"] == "1.0.0"
    assert info(**UBUNTU)["latest"] == "1.0.0"
    after_real = dump(store)

    rc, again = image(diff=True, **UBUNTU, version="1.0.0")
    assert rc == 0
    assert again["changed"] is False
    assert again["image"] == real["image"]
    assert again["diff"]["before"] == again["diff"]["after"]
    assert dump(store) == after_real


def test_no_diff_without_diff_mode(image: Any) -> None:
    _rc, result = image(**UBUNTU, version="1.0.0")
    assert "diff" not in result


def test_platform_location_is_normalised(image: Any, info: Any) -> None:
    _rc, result = image(**UBUNTU, version="1.0.0", location="West Europe")
    assert result["image"]["location"] == "westeurope"
    _rc, again = image(**UBUNTU, version="1.0.0", location="westeurope")
    assert again["changed"] is False
    assert info(**UBUNTU, location="West Europe")["latest"] == "1.0.0"
    assert info(**UBUNTU, location="eastus")["latest"] is None


def test_platform_absent(store: str, image: Any, info: Any) -> None:
    image(**UBUNTU, version="1.0.0")
    image(**UBUNTU, version="2.0.0")
    before = dump(store)
    _rc, checked = image(check=True, diff=True, **UBUNTU, version="2.0.0", state="absent")
    assert checked["changed"] is True
    assert checked["image"] is None
    assert checked["diff"]["after"] == {}
    assert checked["diff"]["before"]["version"] == "2.0.0"
    assert dump(store) == before
    _rc, removed = image(**UBUNTU, version="2.0.0", state="absent")
    assert removed["changed"] is True
    assert info(**UBUNTU)["latest"] == "1.0.0"
    after = dump(store)
    _rc, again = image(**UBUNTU, version="2.0.0", state="absent")
    assert again["changed"] is False
    assert dump(store) == after


def test_gallery_publish_replicate_exclude_and_remove(store: str, image: Any, info: Any) -> None:
    _rc, first = image(diff=True, gallery_image_id=GALLERY, version="1.0.0", target_regions=["eastus"])
    assert first["changed"] is True
    assert first["image"]["id"] == f"{GALLERY}/versions/1.0.0"
    assert first["image"]["replicated"] == {"eastus": "2025-01-01T00:00:00Z"}

    _rc, same = image(gallery_image_id=GALLERY, version="1.0.0", target_regions=["East US"])
    assert same["changed"] is False
    _rc, same = image(gallery_image_id=GALLERY, version="1.0.0")  # regions not given: kept
    assert same["changed"] is False
    assert same["image"]["target_regions"] == ["eastus"]

    before = dump(store)
    _rc, checked = image(
        check=True, diff=True, gallery_image_id=GALLERY, version="1.0.0", target_regions=["eastus", "westus"]
    )
    assert checked["changed"] is True
    assert checked["diff"]["before"]["target_regions"] == ["eastus"]
    assert checked["diff"]["after"]["target_regions"] == ["eastus", "westus"]
    assert dump(store) == before
    assert info(gallery_image_id=GALLERY, location="westus")["latest"] is None

    _rc, added = image(gallery_image_id=GALLERY, version="1.0.0", target_regions=["eastus", "westus"])
    assert added["changed"] is True
    assert info(gallery_image_id=GALLERY, location="westus")["latest"] == "1.0.0"

    _rc, excluded = image(
        gallery_image_id=GALLERY, version="1.1.0", target_regions=["eastus"], exclude_from_latest=True
    )
    assert excluded["image"]["exclude_from_latest"] is True
    assert info(gallery_image_id=GALLERY, location="eastus")["latest"] == "1.0.0"

    _rc, removed = image(gallery_image_id=GALLERY, version="1.0.0", state="absent")
    assert removed["changed"] is True and removed["image"] is None
    assert [v["version"] for v in info(gallery_image_id=GALLERY)["versions"]] == ["1.1.0"]
    _rc, again = image(gallery_image_id=GALLERY, version="1.0.0", state="absent")
    assert again["changed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({**UBUNTU, "version": "1.0"}, r"^version: '1\.0' is not an image version"),
        ({**UBUNTU, "version": "latest"}, r"^version: 'latest'"),
        ({**UBUNTU, "version": "1.0.0", "location": "east-us"}, r"^location: 'east-us'"),
        ({**UBUNTU, "publisher": "Canonical Ltd", "version": "1.0.0"}, r"^publisher: 'Canonical Ltd'"),
        ({**UBUNTU, "sku": "", "version": "1.0.0"}, r"^sku: "),
        (
            {"gallery_image_id": f"{GALLERY}/versions/1.0.0", "version": "1.0.0", "target_regions": ["eastus"]},
            r"^gallery_image_id: ",
        ),
        ({"gallery_image_id": "web", "version": "1.0.0", "target_regions": ["eastus"]}, r"^gallery_image_id: 'web'"),
        ({"gallery_image_id": GALLERY, "version": "1.0.0"}, r"^target_regions: "),
        ({"gallery_image_id": GALLERY, "version": "1.0.0", "target_regions": []}, r"^target_regions: "),
        (
            {"gallery_image_id": GALLERY, "version": "1.0.0", "target_regions": ["eastus", "no where!"]},
            r"^target_regions\[1\]: 'no where!'",
        ),
        ({"gallery_image_id": GALLERY, "version": "v1", "target_regions": ["eastus"]}, r"^version: 'v1'"),
        # Ansible's own argument checks name the options too
        (
            {"gallery_image_id": GALLERY, **UBUNTU, "version": "1.0.0"},
            r"mutually exclusive: gallery_image_id\|publisher",
        ),
        ({"publisher": "Canonical", "version": "1.0.0"}, r"required together: publisher, offer, sku"),
        ({"version": "1.0.0"}, r"one of the following is required: gallery_image_id, publisher"),
        ({**UBUNTU}, r"missing required arguments: version"),
        ({**UBUNTU, "version": "1.0.0", "state": "gone"}, r"value of state must be one of: present, absent"),
        ({**UBUNTU, "version": "1.0.0", "colour": "red"}, r"Unsupported parameters.*colour"),
    ],
)
def test_bad_input_fails_naming_the_option_and_writes_nothing(
    store: str, image: Any, args: dict[str, Any], message: str
) -> None:
    image(**UBUNTU, version="0.1.0")
    image(gallery_image_id=GALLERY, version="0.1.0", target_regions=["eastus"])
    before = dump(store)
    for check in (False, True):
        rc, result = image(check=check, **args)
        assert rc == 1
        assert result["failed"] is True
        assert "exception" not in result  # an error a person can act on, not a traceback
        assert re.search(message, result["msg"]), result["msg"]
        assert dump(store) == before


def test_other_subscription_in_the_platform_id(image: Any) -> None:
    other = "11111111-1111-1111-1111-111111111111"
    _rc, result = image(**UBUNTU, version="1.0.0", subscription_id=other)
    assert result["image"]["id"] == PLATFORM_ID.replace(SUB, other)
