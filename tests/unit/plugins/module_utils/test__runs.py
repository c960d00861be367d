# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs as Azure shows them (azure-behaviour §5) and check mode's plan (design.md, precise points)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run
from ansible_collections.azsim.vmss.plugins.module_utils._views import runs
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    GALLERY_IMAGE,
    Sim,
    at,
    batch_names,
    by_name,
    fault,
    latest_props,
    sim,
)

TYPE = "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades"
POLICY_KEYS = {
    "maxBatchInstancePercent",
    "maxUnhealthyInstancePercent",
    "maxUnhealthyUpgradedInstancePercent",
    "pauseTimeBetweenBatches",
    "enableCrossZoneUpgrade",
    "prioritizeUnhealthyInstances",
    "rollbackFailedInstancesOnPolicyBreach",
    "maxSurge",
}
PROGRESS_KEYS = {"successfulInstanceCount", "failedInstanceCount", "inProgressInstanceCount", "pendingInstanceCount"}
INSTANCE_KEYS = {
    "instance_id",
    "name",
    "zone",
    "update_domain",
    "os_disk",
    "previous_os_disk",
    "data_disks",
    "power_state",
    "health",
    "provisioning_state",
    "extensions",
    "result",
    "batch",
}


def manual(sim: Sim, n: int = 10, faults: list[dict[str, Any]] | None = None, **kwargs: Any) -> dict[str, Any]:
    sim.vmss(n, simulation={"faults": faults} if faults else None)
    sim.publish("1.1.0")
    return sim.start(**kwargs)


# -- rollingUpgrades/latest ------------------------------------------------------------------------


def test_latest_shape_azure_5(sim: Sim) -> None:
    result = manual(sim)
    latest = result["rolling_upgrade"]
    assert set(latest) == {"properties", "type", "location"}
    assert (latest["type"], latest["location"]) == (TYPE, "eastus")
    props = latest["properties"]
    assert set(props) == {"policy", "runningStatus", "progress"}, "no error key on a run without one"
    assert set(props["policy"]) == POLICY_KEYS
    assert props["runningStatus"] == {
        "code": "Completed",
        "startTime": at(0),
        "lastAction": "Start",
        "lastActionTime": at(0),
    }
    assert props["progress"] == {
        "successfulInstanceCount": 10,
        "failedInstanceCount": 0,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 0,
    }


def test_latest_while_running_counts_in_progress_and_pending_azure_5(sim: Sim) -> None:
    started = manual(sim, wait=False)
    assert latest_props(started)["runningStatus"]["code"] == "RollingForward"
    sim.advance("PT5M")
    props = sim.history()["latest"]["properties"]
    assert props["progress"] == {
        "successfulInstanceCount": 2,
        "failedInstanceCount": 0,
        "inProgressInstanceCount": 2,
        "pendingInstanceCount": 6,
    }
    view = sim.view()
    assert {n for n, i in by_name(view).items() if i["result"] == "pending"} == {
        "w1",
        "w6",
        "w2",
        "w7",
        "w3",
        "w8",
        "w4",
        "w9",
    }
    assert view["batches"][-1]["result"] == "in_progress"


def test_error_is_an_api_error_with_one_detail_per_unhealthy_instance_azure_5(sim: Sim) -> None:
    sim.vmss(
        names=[f"w{i}" for i in range(7)]
        + [
            {"name": "w7", "health": "Unhealthy"},
            {"name": "w8", "health": "Unknown"},
            {"name": "w9", "power_state": "stopped"},
        ]
    )
    sim.publish("1.1.0")
    error = latest_props(sim.start())["error"]
    assert set(error) == {"code", "target", "message", "details"}  # azure-behaviour-2 ER-1: no innererror
    assert error["target"] is None
    assert "30%" in error["message"] and "20%" in error["message"]
    assert len(error["details"]) == 3
    for detail, iid in zip(error["details"], ("7", "8", "9")):
        assert detail == {
            "code": "RollingUpgradeInstanceUnhealthyError",
            "target": f"web/virtualMachines/{iid}",
            "message": "Instance found to be unhealthy or unreachable.",
        }


def test_latest_is_the_most_recent_run_model_rollouts_included_azure_5(sim: Sim) -> None:
    manual(sim)
    sim.policy(mode="Automatic")
    from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import extension

    sim.vmss(extensions=[extension("cfg")])
    read = sim.history()
    assert read["latest"]["properties"]["runningStatus"]["startTime"] == at(20)
    assert len(read["history"]) == 1


# -- osUpgradeHistory --------------------------------------------------------------------------------


def test_history_item_shape_uses_end_time_not_completed_time_azure_5(sim: Sim) -> None:
    manual(sim)
    history = sim.history()["history"]
    assert len(history) == 1
    item = history[0]
    assert set(item) == {"properties", "type", "location"}
    assert (item["type"], item["location"]) == (TYPE, "eastus")
    props = item["properties"]
    assert set(props) == {"runningStatus", "progress", "startedBy", "targetImageReference", "rollbackInfo"}
    assert props["runningStatus"] == {"code": "Completed", "startTime": at(0), "endTime": at(20)}
    assert "completedTime" not in str(item)
    assert set(props["progress"]) == PROGRESS_KEYS
    assert props["startedBy"] == "User"
    assert props["targetImageReference"] == {
        "publisher": "Canonical",
        "offer": "ubuntu-24_04-lts",
        "sku": "server",
        "version": "1.1.0",
    }


def test_history_rollback_info_always_present_with_zeros_for_manual_runs_design_precise(sim: Sim) -> None:
    manual(sim, faults=[fault("boot_unhealthy", instances=["w0"])])
    props = sim.history()["history"][0]["properties"]
    assert props["rollbackInfo"] == {
        "successfullyRolledbackInstanceCount": 0,
        "failedRolledbackInstanceCount": 0,
        "rollbackError": None,
    }
    assert props["progress"]["failedInstanceCount"] == 1


def test_history_item_of_a_faulted_run_carries_the_error_azure_5(sim: Sim) -> None:
    manual(sim, faults=[fault("boot_unhealthy", instances=["w0", "w5", "w1"])])
    props = sim.history()["history"][0]["properties"]
    assert props["runningStatus"]["code"] == "Faulted"
    assert props["error"]["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    assert props["runningStatus"]["endTime"] == at(16)


def test_history_gallery_target_is_the_exact_version_id_design_precise(sim: Sim) -> None:
    sim.publish_gallery("1.0.0", regions=["eastus"])
    sim.vmss(4, image={"id": GALLERY_IMAGE})
    sim.publish_gallery("1.1.0", regions=["eastus"])
    sim.start()
    assert sim.history()["history"][0]["properties"]["targetImageReference"] == {
        "id": f"{GALLERY_IMAGE}/versions/1.1.0"
    }


def five_more_runs(sim: Sim) -> None:
    """Runs towards 1.1.0 ... 1.6.0, one per day."""
    sim.vmss(3)
    for minor in range(1, 7):
        sim.publish(f"1.{minor}.0")
        sim.start()
        sim.advance("P1D")


def test_history_newest_first_at_most_five_azure_5(sim: Sim) -> None:
    five_more_runs(sim)
    history = sim.history()["history"]
    assert [h["properties"]["targetImageReference"]["version"] for h in history] == [
        "1.6.0",
        "1.5.0",
        "1.4.0",
        "1.3.0",
        "1.2.0",
    ]
    starts = [h["properties"]["runningStatus"]["startTime"] for h in history]
    assert starts == sorted(starts, reverse=True)


def test_history_all_returns_every_run_azure_5(sim: Sim) -> None:
    five_more_runs(sim)
    assert len(sim.history(everything=True)["history"]) == 6


def test_history_only_within_two_months_azure_5(sim: Sim) -> None:
    five_more_runs(sim)
    sim.advance("P52D")  # the newest run (day 5) is 53 days old, the oldest 58
    assert len(sim.history()["history"]) == 5
    sim.advance("P11D")  # day 69: even the newest run is 64 days old, more than two months
    read = sim.history()
    assert read["history"] == []
    assert read["latest"] is not None, "rollingUpgrades/latest is not limited to two months"
    assert len(sim.history(everything=True)["history"]) == 6


def test_history_excludes_model_rollouts_azure_5(sim: Sim) -> None:
    from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import extension

    sim.vmss(4)
    sim.policy(mode="Automatic")
    sim.vmss(extensions=[extension("cfg")])
    sim.advance("PT10M")
    read = sim.history(everything=True)
    assert read["history"] == []
    assert read["latest"]["properties"]["runningStatus"]["code"] == "Completed"


def test_history_of_a_scale_set_without_runs_is_empty_azure_5(sim: Sim) -> None:
    sim.vmss(2)
    read = sim.history()
    assert read["history"] == [] and read["latest"] is None and read["changed"] is False


# -- per-instance and per-batch results (design.md) ---------------------------------------------------


def test_instance_results_shape_and_values_design_results(sim: Sim) -> None:
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w0"])]})
    sim.publish("1.1.0")
    sim.vmss(11)  # w10 starts on 1.1.0
    result = sim.start()
    for instance in result["instances"]:
        assert INSTANCE_KEYS <= set(instance)
        assert set(instance["os_disk"]) == {"name", "image_version"}
    results = {n: (i["result"], i["batch"]) for n, i in by_name(result).items()}
    assert results["w0"] == ("failed", 1)
    assert results["w5"] == ("upgraded", 1)
    assert results["w10"] == ("skipped", None)


def test_batches_view_shape_design(sim: Sim) -> None:
    result = manual(sim, faults=[fault("boot_unhealthy", instances=["w1"])])
    assert result["batches"][0] == {
        "index": 1,
        "instances": ["w0", "w5"],
        "zone": None,
        "update_domain": 0,
        "start": at(0),
        "end": at(4),
        "result": "succeeded",
    }
    assert result["batches"][1]["result"] == "partially_failed"


def test_progress_and_rollback_info_from_outcomes_design_precise() -> None:
    run = cast(
        Run,
        {
            "outcome": {
                "0": {"result": "upgraded"},
                "1": {"result": "failed"},
                "2": {"result": "rolled_back"},
                "3": {"result": "rollback_failed"},
                "4": {"result": "in_progress"},
            },
            "pending": ["5", "6"],
            "rollback_errors": ["3"],
        },
    )
    assert runs.progress(run) == {
        "successfulInstanceCount": 1,
        "failedInstanceCount": 3,
        "inProgressInstanceCount": 1,
        "pendingInstanceCount": 2,
    }
    info = runs.rollback_info(run)
    assert (info["successfullyRolledbackInstanceCount"], info["failedRolledbackInstanceCount"]) == (1, 1)
    assert set(info["rollbackError"]) >= {"code", "message"}


# -- check mode's plan ---------------------------------------------------------------------------------


PLAN_BATCH_KEYS = {"index", "instances", "zone", "update_domain", "start", "end"}


@pytest.mark.parametrize(
    ("faults", "policy"),
    [
        (None, {}),
        ([fault("boot_unhealthy", instances=["w1"])], {"pause_time_between_batches": "PT10M"}),
        ([fault("boot_unhealthy", instances=["w0", "w5", "w1"])], {}),
        ([fault("slow_boot", instances=["w3"], delay="PT4M")], {"max_batch_instance_percent": 40}),
    ],
    ids=["clean", "failure-and-pause", "breach", "slow"],
)
def test_check_mode_plan_matches_the_real_run_and_writes_nothing_design_precise(
    sim: Sim, faults: list[dict[str, Any]] | None, policy: dict[str, Any]
) -> None:
    sim.vmss(10, zones=["1", "2"], simulation={"faults": faults} if faults else None)
    if policy:
        sim.rolling(**policy)
    sim.publish("1.1.0")
    before = sim.dump()
    checked = sim.start(check=True)
    assert sim.dump() == before, "check mode writes nothing"
    assert checked["changed"] is True
    plan = checked["plan"]
    assert {"start", "end", "batches"} <= set(plan)
    for batch in plan["batches"]:
        assert set(batch) == PLAN_BATCH_KEYS
        assert all(name.startswith("w") for name in batch["instances"]), "names, not ids"
    assert [b["index"] for b in plan["batches"]] == list(range(1, len(plan["batches"]) + 1))
    real = sim.start()
    assert [{k: b[k] for k in PLAN_BATCH_KEYS} for b in real["batches"]] == plan["batches"]
    assert plan["start"] == latest_props(real)["runningStatus"]["startTime"]
    assert plan["end"] == sim.history()["history"][0]["properties"]["runningStatus"]["endTime"]


def test_check_mode_with_nothing_to_do_has_no_plan_and_is_not_changed_design_precise(sim: Sim) -> None:
    sim.vmss(3)
    checked = sim.start(check=True)
    assert checked["changed"] is False
    assert "plan" not in checked


def test_check_mode_without_wait_still_plans_to_the_end_design_precise(sim: Sim) -> None:
    sim.vmss(10)
    sim.publish("1.1.0")
    before = sim.dump()
    checked = sim.start(check=True, wait=False)
    assert latest_props(checked)["runningStatus"]["code"] == "RollingForward"
    assert checked["plan"]["end"] == at(20)
    assert len(checked["plan"]["batches"]) == 5
    assert sim.dump() == before
    assert batch_names(sim.start()) == [b["instances"] for b in checked["plan"]["batches"]]
