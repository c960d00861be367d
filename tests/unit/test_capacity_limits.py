# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity limits and bounded module output (issue 11 item 10).

azure-behaviour-2 D9: a Uniform scale set holds at most 100 instances while singlePlacementGroup is true (the
default) and at most 1,000 when it is false; true may become false, never the reverse; beyond the limit 400
InvalidParameter and nothing written. The same action serves the module and an ARM PUT of ``sku.capacity``.

Module output: a scale set of more than 100 instances is returned as its first 100 and ``instances_summary``
unless ``return_all_instances: true``; smaller ones are returned whole, as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._model import capacity
from ansible_collections.azsim.vmss.plugins.modules import (
    vm_image,
    vmss,
    vmss_info,
    vmss_os_rolling_upgrade,
    vmss_upgrade_history,
)
from ansible_collections.azsim.vmss.tests.unit._arm import SUBSCRIPTION, WsgiClient, make_app, state_files
from ansible_collections.azsim.vmss.tests.unit._harness import call

IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
WEB = {"resource_group": "rg", "name": "web"}
VMSS_PATH = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web"


def hosts(n: int) -> list[str]:
    return [f"h{i:04d}" for i in range(n)]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "vmss.sqlite"
    assert call(vm_image, {"store": str(path), "location": "eastus", **IMAGE, "version": "1.0.0"})["rc"] == 0
    return path


def scale_set(store: Path, n: int, **options: Any) -> dict[str, Any]:
    return call(vmss, {"store": str(store), **WEB, "image": IMAGE, "instances": hosts(n), **options})


def refused_unchanged(store: Path, result: dict[str, Any], limit: str) -> None:
    assert result["rc"] == 1 and result["code"] == "InvalidParameter", result
    assert result["msg"].startswith("instances: ") and f"may hold ({limit})" in result["msg"], result["msg"]
    assert "Nothing was changed" in result["msg"]


# -- the limits -----------------------------------------------------------------------------------------


def test_a_single_placement_group_holds_at_most_100(store: Path) -> None:
    before = store.read_bytes()
    refused_unchanged(store, scale_set(store, 101), "100")
    assert store.read_bytes() == before
    assert scale_set(store, 100)["rc"] == 0
    grown = call(vmss, {"store": str(store), **WEB, "instances": [*hosts(100), "one-more"]})
    refused_unchanged(store, grown, "100")
    assert len(call(vmss_info, {"store": str(store), **WEB})["instances"]) == 100


def test_several_placement_groups_hold_at_most_1000(store: Path) -> None:
    refused_unchanged(store, scale_set(store, 1001, single_placement_group=False), "1,000")
    result = scale_set(store, 1000, single_placement_group=False, return_all_instances=True)
    assert result["rc"] == 0 and len(result["instances"]) == 1000 and result["vmss"]["sku"]["capacity"] == 1000


def test_single_placement_group_may_become_false_never_true_again(store: Path) -> None:
    assert scale_set(store, 3)["rc"] == 0
    assert call(vmss, {"store": str(store), **WEB, "single_placement_group": False})["rc"] == 0
    back = call(vmss, {"store": str(store), **WEB, "single_placement_group": True})
    assert back["rc"] == 1 and back["code"] == "InvalidParameter", back
    assert back["msg"].startswith("single_placement_group: ")
    assert call(vmss_info, {"store": str(store), **WEB})["vmss"]["properties"]["singlePlacementGroup"] is False


def test_a_scale_set_stored_above_the_limit_keeps_working_and_may_shrink(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store made beyond the limit (an older version, or the benchmarks) is not locked: it may stay or shrink."""
    monkeypatch.setattr(capacity, "MAX_INSTANCES_SINGLE_PLACEMENT_GROUP", 1000)
    assert scale_set(store, 150)["rc"] == 0
    monkeypatch.undo()
    assert call(vmss, {"store": str(store), **WEB, "simulation": {"seed": 3}})["rc"] == 0
    assert call(vmss, {"store": str(store), **WEB, "instances": hosts(120)})["rc"] == 0
    refused_unchanged(store, call(vmss, {"store": str(store), **WEB, "instances": hosts(121)}), "100")


def test_a_million_names_are_refused_before_any_instance_is_built(store: Path) -> None:
    result = scale_set(store, 1_000_000, single_placement_group=False)
    refused_unchanged(store, result, "1,000")
    # (Ansible's own invocation echo repeats the arguments; the module's message does not.)
    assert len(result["msg"]) < 400 and "h0000" not in result["msg"]


def test_an_arm_put_of_sku_capacity_goes_through_the_same_limit(store: Path, tmp_path: Path) -> None:
    client = WsgiClient(make_app(store, state_files(tmp_path / "arm-state")))

    def body(capacity_: int, single: bool | None = None) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "virtualMachineProfile": {"storageProfile": {"imageReference": {**IMAGE, "version": "latest"}}}
        }
        if single is not None:
            properties["singlePlacementGroup"] = single
        return {
            "location": "eastus",
            "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity_},
            "properties": properties,
        }

    before = store.read_bytes()
    answer = client.arm("PUT", VMSS_PATH, body(101))
    assert answer.status == 400, answer
    assert answer.json["error"]["code"] == "InvalidParameter" and "(100)" in answer.json["error"]["message"]
    assert store.read_bytes() == before
    assert client.arm("PUT", VMSS_PATH, body(150, single=False)).status in (200, 201)
    got = client.arm("GET", VMSS_PATH).json
    assert got["sku"]["capacity"] == 150 and got["properties"]["singlePlacementGroup"] is False


# -- bounded output ---------------------------------------------------------------------------------------


def test_up_to_100_instances_are_returned_whole_as_before(store: Path) -> None:
    result = scale_set(store, 100)
    assert len(result["instances"]) == 100 and "instances_summary" not in result
    info = call(vmss_info, {"store": str(store), **WEB})
    assert len(info["instances"]) == 100 and "instances_summary" not in info


def test_more_than_100_instances_are_summarised_unless_all_are_asked_for(store: Path) -> None:
    created = scale_set(store, 600, single_placement_group=False)
    assert created["rc"] == 0 and created["changed"] is True
    assert [i["name"] for i in created["instances"]] == hosts(100)
    summary = created["instances_summary"]
    assert summary["total"] == 600 and summary["returned"] == 100
    assert summary["by_health"] == {"Healthy": 600} and summary["by_image_version"] == {"1.0.0": 600}
    assert created["vmss"]["sku"]["capacity"] == 600
    assert len(json.dumps(created)) < 200_000

    info = call(vmss_info, {"store": str(store), **WEB})
    assert len(info["instances"]) == 100 and info["instances_summary"]["total"] == 600
    assert "scale_sets" not in info, "a named scale set is returned once, as vmss and instances"
    everything = call(vmss_info, {"store": str(store), **WEB, "return_all_instances": True})
    assert len(everything["instances"]) == 600 and "instances_summary" not in everything
    listing = call(vmss_info, {"store": str(store), "resource_group": "rg"})
    assert len(listing["scale_sets"][0]["instances"]) == 100
    assert listing["scale_sets"][0]["instances_summary"]["total"] == 600

    again = scale_set(store, 600, single_placement_group=False)
    assert again["changed"] is False, "a cut list must not make an unchanged set look changed"
    changed_far = call(vmss, {"store": str(store), **WEB, "instances": [*hosts(599), "late-host"]})
    assert changed_far["changed"] is True, "a change past the first 100 is still seen"


def test_a_runs_per_instance_results_are_bounded_too(store: Path) -> None:
    assert scale_set(store, 150, single_placement_group=False, health_probe={"protocol": "tcp", "port": 22})["rc"] == 0
    assert call(vm_image, {"store": str(store), "location": "eastus", **IMAGE, "version": "1.1.0"})["rc"] == 0
    run = call(vmss_os_rolling_upgrade, {"store": str(store), **WEB, "wait": True})
    assert run["rc"] == 0 and len(run["instances"]) == 100, run.get("msg")
    assert run["instances_summary"]["by_result"] == {"upgraded": 150}
    history = call(vmss_upgrade_history, {"store": str(store), **WEB})
    assert len(history["instances"]) == 100 and history["instances_summary"]["total"] == 150
    assert history["instances_summary"]["by_result"] == {"upgraded": 150}, history["instances_summary"]
    full = call(vmss_upgrade_history, {"store": str(store), **WEB, "return_all_instances": True})
    assert len(full["instances"]) == 150 and "instances_summary" not in full
