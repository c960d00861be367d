# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azsim.vmss.vmss_info through main(): what vmss returns, for one set or a resource group; never writes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.modules import vm_image, vmss, vmss_info
from ansible_collections.azsim.vmss.tests.unit._harness import dump
from ansible_collections.azsim.vmss.tests.unit._harness import run_printed as run

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-web"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
SECRET = "c2VjcmV0LWtleS1mb3ItaW5mbw=="


@pytest.fixture
def store(tmp_path: Any) -> str:
    path = str(tmp_path / "store.sqlite")
    rc, result, _out = run(vm_image, {"store": path, **UBUNTU, "version": "1.0.0"})
    assert rc == 0, result
    return path


@pytest.fixture
def made(store: str) -> dict[str, dict[str, Any]]:
    """Three scale sets: web and api in rg-web, db in rg-db; returns what vmss said about each."""
    out = {}
    for rg, name, instances in ((RG, "web", ["web-01", "web-02"]), (RG, "api", ["api-01"]), ("rg-db", "db", [])):
        rc, result, _printed = run(
            vmss,
            {
                "store": store,
                "resource_group": rg,
                "name": name,
                "image": {**UBUNTU},
                "instances": instances,
                "extensions": [
                    {
                        "name": "agent",
                        "publisher": "Contoso",
                        "type": "Agent",
                        "type_handler_version": "1.0",
                        "protected_settings": {"token": SECRET},
                    }
                ],
            },
        )
        assert rc == 0, result
        out[name] = result
    return out


@pytest.fixture
def info(store: str) -> Any:
    def call(check: bool = False, diff: bool = False, **args: Any) -> tuple[int, dict[str, Any], str]:
        return run(vmss_info, {"store": store, "_ansible_check_mode": check, "_ansible_diff": diff, **args})

    return call


def test_one_scale_set_is_what_vmss_returned(made: dict[str, dict[str, Any]], info: Any) -> None:
    rc, result, printed = info(resource_group=RG, name="web")
    assert rc == 0, result
    assert result["changed"] is False
    assert result["exists"] is True
    assert result["vmss"] == made["web"]["vmss"]
    assert result["instances"] == made["web"]["instances"]
    assert result["simulator"] == made["web"]["simulator"]
    # Returned once: a named scale set is not repeated in scale_sets (issue 14, keep results compact).
    assert "scale_sets" not in result
    assert SECRET not in printed
    assert "token" not in json.dumps({k: v for k, v in result.items() if k != "invocation"})


def test_every_scale_set_of_a_resource_group(made: dict[str, dict[str, Any]], info: Any) -> None:
    _rc, result, printed = info(resource_group=RG)
    assert result["changed"] is False
    assert sorted(s["vmss"]["name"] for s in result["scale_sets"]) == ["api", "web"]
    assert "exists" not in result and "vmss" not in result
    by_name = {s["vmss"]["name"]: s for s in result["scale_sets"]}
    assert by_name["api"]["vmss"] == made["api"]["vmss"]
    assert [i["name"] for i in by_name["web"]["instances"]] == ["web-01", "web-02"]
    assert SECRET not in printed
    _rc, other, _printed = info(resource_group="RG-DB")  # resource group names are case-insensitive
    assert [s["vmss"]["name"] for s in other["scale_sets"]] == ["db"]
    _rc, empty, _printed = info(resource_group="rg-none")
    assert empty["scale_sets"] == []


def test_a_missing_scale_set(made: dict[str, dict[str, Any]], info: Any) -> None:
    rc, result, _printed = info(resource_group=RG, name="nope")
    assert rc == 0, result
    assert result == {**result, "changed": False, "exists": False, "vmss": None, "instances": []}
    assert "scale_sets" not in result
    _rc, other_sub, _printed = info(
        resource_group=RG, name="web", subscription_id="11111111-1111-1111-1111-111111111111"
    )
    assert other_sub["exists"] is False


def test_read_only_in_every_mode(store: str, made: dict[str, dict[str, Any]], info: Any) -> None:
    before = dump(store)
    _rc, plain, _printed = info(resource_group=RG, name="web")
    _rc, checked, _printed = info(check=True, diff=True, resource_group=RG, name="web")
    assert checked == plain
    assert checked["changed"] is False
    assert "diff" not in checked
    assert dump(store) == before


def test_reflects_a_later_change(store: str, made: dict[str, dict[str, Any]], info: Any) -> None:
    rc, _changed, _printed = run(
        vmss, {"store": store, "resource_group": RG, "name": "web", "instances": ["web-01", "web-02", "web-03"]}
    )
    assert rc == 0
    _rc, result, _printed = info(resource_group=RG, name="web")
    assert result["vmss"]["sku"]["capacity"] == 3
    assert [i["instance_id"] for i in result["instances"]] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"resource_group": "rg."}, r"^resource_group: 'rg\.'"),
        ({"resource_group": "rg/x", "name": "web"}, r"^resource_group: 'rg/x'"),
        ({"resource_group": RG, "name": "web-"}, r"^name: 'web-'"),
        ({"resource_group": RG, "name": "a" * 65}, r"^name: 'a{65}'"),
        ({"name": "web"}, r"missing required arguments: resource_group"),
        ({"resource_group": RG, "state": "absent"}, r"Unsupported parameters.*state"),
    ],
)
def test_bad_input_fails_naming_the_option(
    store: str, made: dict[str, dict[str, Any]], info: Any, args: dict[str, Any], message: str
) -> None:
    before = dump(store)
    rc, result, _printed = info(**args)
    assert rc == 1, result
    assert result["failed"] is True
    assert "exception" not in result
    assert re.search(message, result["msg"]), result["msg"]
    assert dump(store) == before
