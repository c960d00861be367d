# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a rolling upgrade in progress refuses, and what deleting a scale set takes with it: azure-behaviour-2
§9 (CF-1…CF-5), decision D1, and azure-behaviour §1 (a Rolling scale set keeps a health source).

Driven through the actions the modules and the ARM routes call (``_fleet_helpers.Sim``), one store transaction
per call; "nothing written" is a byte-for-byte comparison of the store.
"""

from __future__ import annotations

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._checks.requirements import (
    ROLLING_WITHOUT_HEALTH_SOURCE,
    RequirementsNotMet,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    HEALTH_EXTENSION,
    IMAGE,
    Sim,
    extension,
    fault,
    latest_props,
    sim,
)

IN_PROGRESS = (
    "Operation '{op}' is not allowed on Virtual Machine Scale Set 'web' since a rolling upgrade is in progress. "
    "Cancel the rolling upgrade or wait for it to complete."
)


def running_os_upgrade(sim: Sim, mode: str) -> None:
    """Ten instances on 1.0.0 in ``mode``, 1.1.0 published, a user OS run started and left RollingForward."""
    sim.vmss(10)
    if mode != "Manual":
        sim.policy(mode=mode)
    sim.publish("1.1.0")
    started = sim.start(wait=False)
    assert latest_props(started)["runningStatus"]["code"] == "RollingForward"


def refused(caught: pytest.ExceptionInfo[Conflict], op: str = "PUT") -> None:
    assert caught.value.message == IN_PROGRESS.format(op=op)
    assert caught.value.details["code"] == "OperationNotAllowed"
    assert caught.value.details["status"] == 409
    assert caught.value.azure_error() == {"code": "OperationNotAllowed", "message": IN_PROGRESS.format(op=op)}


# == CF-2, D1: model changes during a run ===========================================================================


@pytest.mark.parametrize("mode", ["Rolling", "Automatic"])
def test_model_change_during_an_os_upgrade_is_409_and_writes_nothing_azure_behaviour_2_cf_2_d1(
    sim: Sim, mode: str
) -> None:
    """Issue 12 item 1: accepted before, the instances the run had passed never got the change."""
    running_os_upgrade(sim, mode)
    before = sim.dump()
    with pytest.raises(Conflict) as caught:
        sim.vmss(extensions=[extension("app")])
    refused(caught)
    assert sim.dump() == before


def test_model_change_during_a_rolling_model_update_is_409_azure_behaviour_2_cf_2_d1(sim: Sim) -> None:
    sim.vmss(10)
    sim.policy(mode="Rolling")
    first = sim.vmss(extensions=[extension("a")])
    assert latest_props(first)["runningStatus"]["code"] == "RollingForward"
    before = sim.dump()
    with pytest.raises(Conflict) as caught:
        sim.vmss(extensions=[extension("a"), extension("b")])
    refused(caught)
    assert sim.dump() == before
    # Once the run is done, the change is accepted and reaches every instance, those done first included.
    sim.advance("PT1H")
    assert latest_props(sim.view())["runningStatus"]["code"] == "Completed"
    sim.vmss(extensions=[extension("a"), extension("b")])
    sim.advance("PT1H")
    view = sim.view()
    assert latest_props(view)["runningStatus"]["code"] == "Completed"
    assert all(i["latest_model_applied"] for i in view["instances"])
    assert {tuple(e["name"] for e in i["extensions"]) for i in view["instances"]} == {("a", "b")}


def test_model_change_in_manual_mode_during_a_run_is_accepted_and_touches_nobody_azure_behaviour_2_d1(
    sim: Sim,
) -> None:
    running_os_upgrade(sim, "Manual")
    instances = sim.instances()
    run = sim.run()
    changed = sim.vmss(extensions=[extension("app")])
    assert changed["before"] != changed["after"]
    assert sim.instances() == instances
    assert sim.run() == run
    sim.advance("PT1H")
    assert latest_props(sim.view())["runningStatus"]["code"] == "Completed"


def test_manual_mode_change_during_a_run_reaches_the_later_batches_only_azure_behaviour_2_cf_2(sim: Sim) -> None:
    """CF-2, Manual: instances in later batches are upgraded with the model current when their batch runs; the
    batch already done keeps the old model until it is updated (update_instances)."""
    running_os_upgrade(sim, "Manual")  # batch 1 (w0, w5) reimaging since 00:00
    sim.advance("PT4M")  # batch 1 done, batch 2 (w1, w6) started
    sim.vmss(extensions=[extension("app")])
    sim.advance("PT1H")
    view = sim.view()
    assert latest_props(view)["runningStatus"]["code"] == "Completed"
    instances = {i["name"]: i for i in view["instances"]}
    for name, instance in instances.items():
        done_before = name in ("w0", "w5")
        assert instance["latest_model_applied"] is not done_before, name
        assert [e["name"] for e in instance["extensions"]] == ([] if done_before else ["app"]), name
        assert instance["os_disk"]["image_version"] == "1.1.0"


def test_manual_mode_image_change_during_a_run_keeps_the_runs_target_azure_behaviour_2_cf_2(sim: Sim) -> None:
    running_os_upgrade(sim, "Manual")
    sim.vmss(image={**IMAGE, "version": "1.0.0"})  # pinned back: the run keeps rolling out 1.1.0
    sim.advance("PT1H")
    view = sim.view()
    assert latest_props(view)["runningStatus"]["code"] == "Completed"
    assert {i["os_disk"]["image_version"] for i in view["instances"]} == {"1.1.0"}
    assert not any(i["latest_model_applied"] for i in view["instances"])


def test_changes_outside_the_vm_model_are_accepted_during_a_run_azure_behaviour_2_cf_2_cf_5(sim: Sim) -> None:
    running_os_upgrade(sim, "Rolling")
    scaled = sim.vmss(names=[f"w{i}" for i in range(11)])
    assert len(scaled["instances"]) == 11
    policy = sim.rolling(pause_time_between_batches="PT1M")
    assert policy["upgrade_policy"]["rollingUpgradePolicy"]["pauseTimeBetweenBatches"] == "PT1M"
    assert latest_props(sim.view())["runningStatus"]["code"] == "RollingForward"


def test_an_identical_model_during_a_run_is_no_change_and_no_conflict_azure_behaviour_2_cf_2(sim: Sim) -> None:
    running_os_upgrade(sim, "Rolling")
    again = sim.vmss(names=[f"w{i}" for i in range(10)])
    assert again["before"] == again["after"]


def test_scale_in_of_an_instance_in_the_batch_is_409_azure_behaviour_2_cf_5(sim: Sim) -> None:
    running_os_upgrade(sim, "Rolling")
    in_flight = sim.run()["flight"]
    assert sorted(in_flight) == ["0", "5"]
    with pytest.raises(Conflict) as caught:
        sim.vmss(names=[f"w{i}" for i in range(1, 10)])
    assert caught.value.details["code"] == "OperationNotAllowed"
    assert caught.value.message.startswith("instances: Operation 'delete' is not allowed")
    assert "instance(s) 0 are being upgraded" in caught.value.message
    # A pending instance simply leaves the run.
    sim.vmss(names=[f"w{i}" for i in range(9)])


def test_manual_upgrade_of_an_instance_in_the_batch_is_409_azure_behaviour_2_cf_4(sim: Sim) -> None:
    running_os_upgrade(sim, "Manual")
    with pytest.raises(Conflict) as caught:
        sim.vmss(update_instances=["w5"])
    text = (
        "Operation 'manualUpgrade' is not allowed on Virtual Machine Scale Set 'web' since instance(s) 5 are being "
        "upgraded by the rolling upgrade in progress. Cancel the rolling upgrade or wait for their batch to complete."
    )
    assert caught.value.message == f"update_instances: {text}"
    assert caught.value.azure_error() == {"code": "OperationNotAllowed", "message": text}


# == azure-behaviour §1: a Rolling scale set keeps a health source ==================================================


def test_vmss_cannot_remove_the_probe_of_a_rolling_scale_set_azure_behaviour_1_health_source_missing(
    sim: Sim,
) -> None:
    """Issue 12 item 3: ``vmss`` removing the only health source returned changed=true."""
    sim.vmss(10)
    sim.policy(mode="Rolling")
    before = sim.dump()
    with pytest.raises(RequirementsNotMet) as caught:
        sim.vmss(health_probe={})
    assert caught.value.azure_error() == {"code": "BadRequest", "message": ROLLING_WITHOUT_HEALTH_SOURCE}
    assert [f["code"] for f in caught.value.details["findings"]] == ["HealthSourceMissing"]
    assert sim.dump() == before


def test_vmss_cannot_remove_the_health_extension_of_a_rolling_scale_set_azure_behaviour_1(sim: Sim) -> None:
    sim.vmss(10, extensions=[HEALTH_EXTENSION])
    sim.policy(mode="Rolling")
    before = sim.dump()
    with pytest.raises(RequirementsNotMet) as caught:
        sim.vmss(extensions=[extension("app")])
    assert caught.value.azure_error()["message"] == ROLLING_WITHOUT_HEALTH_SOURCE
    assert sim.dump() == before
    # Swapping the extension for a probe keeps a health source: accepted.
    sim.vmss(extensions=[extension("app")], health_probe={"protocol": "tcp", "port": 22})


def test_manual_mode_may_drop_its_health_source_azure_behaviour_1(sim: Sim) -> None:
    sim.vmss(10)
    dropped = sim.vmss(health_probe={})
    assert dropped["before"] != dropped["after"]


# == CF-3, design.md round 2: state absent ===========================================================================


def test_delete_during_a_run_is_409_and_writes_nothing_azure_behaviour_2_cf_3(sim: Sim) -> None:
    running_os_upgrade(sim, "Manual")
    before = sim.dump()
    with pytest.raises(Conflict) as caught:
        sim.vmss(state="absent")
    refused(caught, "DELETE")
    assert sim.dump() == before
    # Cancel, wait for Cancelled, then the delete is accepted (CF-3).
    sim.cancel()
    assert latest_props(sim.view())["runningStatus"]["code"] == "Cancelled"
    assert sim.vmss(state="absent")["vmss"] is None


def test_a_scale_set_created_again_starts_empty_design_round_2_state_absent(sim: Sim) -> None:
    """Issue 12 item 5: the new scale set inherited the old one's history and its run."""
    running_os_upgrade(sim, "Manual")
    sim.cancel()
    sim.vmss(state="absent")
    assert sim.runs() == []
    assert sim.events() == []
    sim.vmss(10)
    history = sim.history()
    assert history["history"] == [] and history["latest"] is None
    # A start is a new run (id 1), not "already in progress", and it completes.
    sim.publish("1.2.0")
    started = sim.start()
    assert "already in progress" not in started.get("msg", "")
    assert latest_props(started)["runningStatus"]["code"] == "Completed"
    assert [r["run_id"] for r in sim.runs()] == [1]


def test_a_dead_runs_events_never_touch_the_new_instances_design_round_2_state_absent(sim: Sim) -> None:
    """A finished run keeps health changes on its agenda (a maintenance fault two hours in); after the delete
    they must not fire on the instances of a scale set created again under the same name."""
    sim.vmss(10, simulation={"faults": [fault("unhealthy_at", instances=["w0"], at="PT2H")]})
    sim.publish("1.1.0")
    assert latest_props(sim.start())["runningStatus"]["code"] == "Completed"
    sim.vmss(state="absent")
    sim.vmss(10)
    sim.advance("PT3H")
    instances = sim.instances()
    assert instances["w0"]["health"] == "Healthy"
    assert {i["os_disk"]["image_version"] for i in instances.values()} == {"1.1.0"}


def test_delete_in_check_mode_writes_nothing_design_round_2_state_absent(sim: Sim) -> None:
    sim.vmss(10)
    sim.publish("1.1.0")
    sim.start()
    before = sim.dump()
    result = sim.act(ensure_scale_set, {"resource_group": "rg", "name": "web", "state": "absent"}, True, False)
    assert result["after"] == {}
    assert sim.dump() == before


# == ER-6: a run going on with failed instances ========================================================================


def test_running_with_failures_reports_in_progress_error_then_clears_it_azure_behaviour_2_er_6(sim: Sim) -> None:
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w0"])]})
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT9M")  # batch 1 (w0, w5): w0 failed at its 5-minute deadline; batch 2 runs
    props = latest_props(sim.view())
    assert props["runningStatus"]["code"] == "RollingForward"
    assert props["progress"]["failedInstanceCount"] == 1
    assert props["error"] == {
        "code": "RollingUpgradeInProgressWithFailedUpgradedVMs",
        "target": None,
        "message": "Rolling Upgrade is in progress with 1 failed upgraded instance(s). The rollout continues because "
        "the MaxUnhealthyUpgradedInstancePercent threshold of 20% has not been exceeded.",
        "details": [
            {
                "code": "RollingUpgradeInstanceUnhealthyError",
                "target": "web/virtualMachines/0",
                "message": "Instance found to be unhealthy or unreachable.",
            }
        ],
    }
    sim.advance("PT2H")
    props = latest_props(sim.view())
    assert props["runningStatus"]["code"] == "Completed"
    assert "error" not in props
    assert "error" not in sim.history()["history"][0]["properties"]


def test_a_breach_replaces_the_in_progress_error_azure_behaviour_2_er_3_er_6(sim: Sim) -> None:
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w0", "w5", "w1"])]})
    sim.publish("1.1.0")
    props = latest_props(sim.start())
    assert props["runningStatus"]["code"] == "Faulted"
    assert props["error"]["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"


def test_worked_timeline_a_change_during_a_run_docs_how_a_run_proceeds(sim: Sim) -> None:
    """docs/how-a-run-proceeds.md "Conflicts and errors", worked timeline (azure-behaviour-2 CF-2, CF-3, CF-6)."""
    running_os_upgrade(sim, "Rolling")
    sim.advance("PT2M")
    with pytest.raises(Conflict):
        sim.vmss(extensions=[extension("app")])
    sim.advance("PT1M")
    with pytest.raises(Conflict):
        sim.vmss(state="absent")
    sim.advance("PT1M")
    cancelled = sim.cancel(wait=False)
    props = latest_props(cancelled)
    assert (props["runningStatus"]["code"], props["runningStatus"]["lastAction"]) == ("RollingForward", "Cancel")
    assert [b["instances"] for b in cancelled["batches"]] == [["w0", "w5"], ["w1", "w6"]]
    sim.advance("PT4M")  # batch 2, started at 00:04 before the cancel, ends at 00:08
    assert latest_props(sim.view())["runningStatus"]["code"] == "Cancelled"
    rollout = sim.vmss(extensions=[extension("app")])
    assert latest_props(rollout)["runningStatus"]["code"] == "RollingForward"
    sim.advance("PT1H")
    view = sim.view()
    assert latest_props(view)["runningStatus"]["code"] == "Completed"
    assert all(i["latest_model_applied"] for i in view["instances"])
