# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azsim.vmss.vmss_upgrade_history through main() (conventions habit 8): Azure's osUpgradeHistory and
rollingUpgrades/latest shapes (azure-behaviour §5), newest first, five, two months, read only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.modules import (
    sim_clock,
    vm_image,
    vmss,
    vmss_os_rolling_upgrade,
    vmss_upgrade_history,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._harness import dump, run

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
PROBE = {"protocol": "http", "port": 80, "request_path": "/health"}
TYPE = "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades"
Call = Callable[..., dict[str, Any]]


@pytest.fixture
def store(tmp_path: Any) -> str:
    return str(tmp_path / "vmss.sqlite")


@pytest.fixture
def call(store: str) -> Call:
    def invoke(module: Any, check: bool = False, expect_rc: int = 0, **args: Any) -> dict[str, Any]:
        if module not in (vm_image, sim_clock):
            args = {"resource_group": "rg", "name": "web", **args}
        rc, result = run(module, {"store": store, "_ansible_check_mode": check, **args})
        assert rc == expect_rc, result
        return result

    return invoke


@pytest.fixture
def fleet(call: Call) -> None:
    call(vm_image, **UBUNTU, version="1.0.0")
    call(
        vmss,
        image={**UBUNTU, "version": "latest"},
        health_probe=PROBE,
        instances=[f"w{i}" for i in range(10)],
        simulation={"faults": [{"type": "boot_unhealthy", "instances": ["w3"], "image_version": "1.1.0"}]},
    )


def test_no_runs_yet_design_modules(call: Call, fleet: None) -> None:
    result = call(vmss_upgrade_history)
    assert result["changed"] is False
    assert result["history"] == []
    assert result["latest"] is None


def test_manual_run_shapes_azure_5(call: Call, fleet: None) -> None:
    call(vm_image, **UBUNTU, version="1.1.0")
    call(vmss_os_rolling_upgrade)
    result = call(vmss_upgrade_history)
    assert len(result["history"]) == 1
    item = result["history"][0]
    assert (item["type"], item["location"]) == (TYPE, "eastus")
    props = item["properties"]
    assert props["runningStatus"] == {
        "code": "Completed",
        "startTime": "2025-01-01T00:00:00Z",
        "endTime": "2025-01-01T00:24:00Z",
    }
    assert "completedTime" not in props["runningStatus"]
    assert props["startedBy"] == "User"
    assert props["targetImageReference"] == {**UBUNTU, "version": "1.1.0"}
    assert props["progress"] == {
        "successfulInstanceCount": 9,
        "failedInstanceCount": 1,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 0,
    }
    assert props["rollbackInfo"] == {
        "successfullyRolledbackInstanceCount": 0,
        "failedRolledbackInstanceCount": 0,
        "rollbackError": None,
    }
    latest = result["latest"]
    assert (latest["type"], latest["location"]) == (TYPE, "eastus")
    assert set(latest["properties"]) >= {"policy", "runningStatus", "progress"}
    assert set(latest["properties"]["runningStatus"]) == {"code", "startTime", "lastAction", "lastActionTime"}


def test_platform_run_rolls_back_and_reports_started_by_platform_azure_4(call: Call, fleet: None) -> None:
    call(vmss_upgrade_policy, automatic_os_upgrade={"enabled": True})
    call(vm_image, **UBUNTU, version="1.1.0")
    call(sim_clock, advance="PT4H")
    props = call(vmss_upgrade_history)["history"][0]["properties"]
    assert props["startedBy"] == "Platform"
    assert props["runningStatus"]["code"] == "Completed"
    assert props["runningStatus"]["startTime"] == "2025-01-01T03:00:00Z"
    assert props["rollbackInfo"]["successfullyRolledbackInstanceCount"] == 1
    result = call(vmss_upgrade_history)
    w3 = next(i for i in result["instances"] if i["name"] == "w3")
    assert (w3["result"], w3["os_disk"]["image_version"]) == ("rolled_back", "1.0.0")


def test_newest_first_at_most_five_all_returns_every_run_azure_5(call: Call, fleet: None) -> None:
    call(vmss, simulation={"faults": []})
    for minor in range(1, 7):
        call(vm_image, **UBUNTU, version=f"1.{minor}.0")
        call(vmss_os_rolling_upgrade)
        call(sim_clock, advance="PT1H")
    history = call(vmss_upgrade_history)["history"]
    assert [h["properties"]["targetImageReference"]["version"] for h in history] == [
        "1.6.0",
        "1.5.0",
        "1.4.0",
        "1.3.0",
        "1.2.0",
    ]
    everything = call(vmss_upgrade_history, all=True)["history"]
    assert len(everything) == 6
    assert everything[-1]["properties"]["targetImageReference"]["version"] == "1.1.0"


def test_only_the_past_two_months_azure_5(call: Call, fleet: None) -> None:
    call(vm_image, **UBUNTU, version="1.1.0")
    call(vmss_os_rolling_upgrade, fail_on_fault=False)
    call(sim_clock, advance="P59D")
    assert len(call(vmss_upgrade_history)["history"]) == 1
    call(sim_clock, advance="P4D")  # P63D after the run
    result = call(vmss_upgrade_history)
    assert result["history"] == []
    assert result["latest"] is not None
    assert len(call(vmss_upgrade_history, all=True)["history"]) == 1


def test_model_rollout_is_in_latest_not_in_history_azure_4(call: Call, fleet: None) -> None:
    call(vmss_upgrade_policy, mode="Rolling")
    call(
        vmss,
        extensions=[
            {
                "name": "cfg",
                "publisher": "Microsoft.Azure.Extensions",
                "type": "CustomScript",
                "type_handler_version": "2.1",
            }
        ],
    )
    call(sim_clock, advance="PT1H")
    result = call(vmss_upgrade_history)
    assert result["history"] == []
    assert result["latest"]["properties"]["runningStatus"]["code"] == "Completed"
    assert result["latest"]["properties"]["progress"]["successfulInstanceCount"] == 10


def test_read_only_in_and_out_of_check_mode_conventions_4(call: Call, fleet: None, store: str) -> None:
    call(vm_image, **UBUNTU, version="1.1.0")
    call(vmss_os_rolling_upgrade, wait=False)
    before = dump(store)
    plain = call(vmss_upgrade_history)
    checked = call(vmss_upgrade_history, check=True)
    assert dump(store) == before, "reading moves no clock and writes nothing"
    assert plain["changed"] is False and checked["changed"] is False
    assert plain["history"] == checked["history"]
    assert plain["history"][0]["properties"]["runningStatus"] == {
        "code": "RollingForward",
        "startTime": "2025-01-01T00:00:00Z",
        "endTime": None,
    }


def test_unknown_scale_set_fails_with_a_message_conventions_12(call: Call, fleet: None) -> None:
    result = call(vmss_upgrade_history, name="nope", expect_rc=1)
    assert "nope" in result["msg"]
