# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Automatic instance repairs through the modules' main() (azure-behaviour-2 §8, AR-1…AR-12, D12)."""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.plugins.modules import (
    sim_clock,
    vm_image,
    vmss,
    vmss_os_rolling_upgrade,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._harness import Call, dump, failed, ok

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
PROBE = {"protocol": "http", "port": 80, "request_path": "/health"}
NAMES = [f"web-{i:02d}" for i in range(10)]


def instances(unhealthy: tuple[str, ...] = (), names: list[str] = NAMES) -> list[Any]:
    return [{"name": n, "health": "Unhealthy"} if n in unhealthy else n for n in names]


def fleet(call: Call, action: str = "Restart", unhealthy: tuple[str, ...] = (), **args: Any) -> dict[str, Any]:
    ok(call(vm_image, **UBUNTU, version="1.0.0"))
    return ok(
        call(
            vmss,
            image={**UBUNTU, "version": "latest"},
            health_probe=PROBE,
            instances=args.pop("instances", None) or instances(unhealthy),
            automatic_repairs={"enabled": True, "repair_action": action},
            **args,
        )
    )


def health(result: dict[str, Any]) -> dict[str, str]:
    return {i["name"]: i["health"] for i in result["instances"]}


def repairs(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["time"], e["type"], e["instance"]) for e in events if e["type"].startswith("Repair")]


# -- the policy (AR-1, AR-2, AR-7, AR-8) ----------------------------------------------------------------------


def test_the_policy_is_written_with_azures_defaults_and_the_service_runs_ar_1_ar_8(call: Call) -> None:
    created = fleet(call, action="Replace")
    assert created["vmss"]["properties"]["automaticRepairsPolicy"] == {
        "enabled": True,
        "gracePeriod": "PT10M",
        "repairAction": "Replace",
    }
    assert created["orchestration_services"] == [{"serviceName": "AutomaticRepairs", "serviceState": "Running"}]
    again = ok(call(vmss, automatic_repairs={"enabled": True}))
    assert again["changed"] is False
    disabled = ok(call(vmss, automatic_repairs={"enabled": False}))
    assert disabled["changed"] is True
    assert disabled["orchestration_services"] == [{"serviceName": "AutomaticRepairs", "serviceState": "NotRunning"}]


def test_without_a_policy_the_service_is_omitted_ar_8(call: Call) -> None:
    ok(call(vm_image, **UBUNTU, version="1.0.0"))
    created = ok(call(vmss, image={**UBUNTU, "version": "latest"}, instances=NAMES))
    assert created["orchestration_services"] == []
    assert "automaticRepairsPolicy" not in created["vmss"]["properties"]


def test_enabling_without_a_health_source_is_400_and_writes_nothing_ar_2(call: Call, store: str) -> None:
    ok(call(vm_image, **UBUNTU, version="1.0.0"))
    ok(call(vmss, image={**UBUNTU, "version": "latest"}, instances=NAMES))
    before = dump(store)
    refused = failed(call(vmss, automatic_repairs={"enabled": True}))
    assert refused["error"] == {
        "code": "BadRequest",
        "message": "Automatic repairs is not supported for this Virtual Machine Scale Set because a health probe or "
        "health extension was not provided.",
    }
    assert dump(store) == before


def test_a_grace_period_outside_pt10m_pt90m_is_refused_naming_the_option_ar_1(call: Call, store: str) -> None:
    fleet(call)
    before = dump(store)
    for value in ("PT9M", "PT91M", "soon"):
        refused = failed(call(vmss, automatic_repairs={"grace_period": value}))
        assert "automatic_repairs.grace_period" in refused["msg"], refused
        assert refused["error"]["code"] == "InvalidParameter"
    assert dump(store) == before
    assert ok(call(vmss, automatic_repairs={"grace_period": "PT90M"}))["changed"] is True


def test_changing_the_repair_action_while_enabled_is_400_disable_first_ar_7(call: Call, store: str) -> None:
    fleet(call, action="Replace")
    before = dump(store)
    refused = failed(call(vmss, automatic_repairs={"repair_action": "Reimage"}))
    assert refused["error"] == {
        "code": "BadRequest",
        "message": "To change repairAction, disable automaticRepairsPolicy first and re-enable it with the new "
        "repairAction.",
    }
    assert dump(store) == before
    ok(call(vmss, automatic_repairs={"enabled": False}))
    changed = ok(call(vmss, automatic_repairs={"enabled": True, "repair_action": "Reimage"}))
    assert changed["vmss"]["properties"]["automaticRepairsPolicy"]["repairAction"] == "Reimage"


def test_suspend_and_resume_ar_9_and_suspending_a_disabled_service_is_409_ar_11(call: Call, store: str) -> None:
    fleet(call)
    suspended = ok(call(vmss, orchestration_service="suspended"))
    assert suspended["changed"] is True
    assert suspended["orchestration_services"][0]["serviceState"] == "Suspended"
    assert suspended["diff" if "diff" in suspended else "orchestration_services"]
    assert ok(call(vmss, orchestration_service="suspended"))["changed"] is False
    resumed = ok(call(vmss, orchestration_service="running"))
    assert resumed["changed"] is True and resumed["orchestration_services"][0]["serviceState"] == "Running"
    assert ok(call(vmss, orchestration_service="running"))["changed"] is False  # AR-11: a no-op
    ok(call(vmss, automatic_repairs={"enabled": False}))
    before = dump(store)
    refused = failed(call(vmss, orchestration_service="suspended"))
    assert refused["error"] == {
        "code": "OperationNotAllowed",
        "message": "Operation 'Suspend' for AutomaticRepairs is not allowed on Virtual Machine Scale Set 'web' "
        "because orchestration service 'AutomaticRepairs' is not in Running state.",
    }
    assert dump(store) == before


# -- repairs on the clock (AR-3, AR-5, AR-6, AR-10) -------------------------------------------------------------


def test_an_unhealthy_instance_is_repaired_after_the_grace_period_ar_3_ar_5(call: Call) -> None:
    fleet(call, unhealthy=("web-03",))
    early = ok(call(sim_clock, advance="PT9M"))
    assert repairs(early["events"]) == []
    later = ok(call(sim_clock, advance="PT3M"))
    # Restart takes boot_duration (PT1M): started when the PT10M grace ended, healthy a minute later.
    assert repairs(later["events"]) == [
        ("2025-01-01T00:10:00Z", "RepairStarted", "web-03"),
        ("2025-01-01T00:11:00Z", "RepairCompleted", "web-03"),
    ]
    assert health(ok(call(vmss)))["web-03"] == "Healthy"


def test_one_repair_at_a_time_below_twenty_instances_ar_3(call: Call) -> None:
    fleet(call, unhealthy=("web-01", "web-04", "web-07"))
    events = ok(call(sim_clock, advance="PT1H"))["events"]
    assert [(t, k) for t, k, _n in repairs(events)] == [
        ("2025-01-01T00:10:00Z", "RepairStarted"),
        ("2025-01-01T00:11:00Z", "RepairCompleted"),
        ("2025-01-01T00:11:00Z", "RepairStarted"),
        ("2025-01-01T00:12:00Z", "RepairCompleted"),
        ("2025-01-01T00:12:00Z", "RepairStarted"),
        ("2025-01-01T00:13:00Z", "RepairCompleted"),
    ]


def test_five_percent_at_a_time_of_forty_instances_is_two_ar_3(call: Call) -> None:
    names = [f"web-{i:02d}" for i in range(40)]
    fleet(call, instances=instances(("web-01", "web-02", "web-03", "web-04"), names))
    events = ok(call(sim_clock, advance="PT1H"))["events"]
    started = [t for t, k, _n in repairs(events) if k == "RepairStarted"]
    assert started == ["2025-01-01T00:10:00Z"] * 2 + ["2025-01-01T00:11:00Z"] * 2


def test_replace_makes_a_new_instance_id_on_the_current_model_reimage_keeps_it_ar_6(call: Call) -> None:
    fleet(call, action="Replace", unhealthy=("web-03",))
    ok(call(vm_image, **UBUNTU, version="1.1.0"))
    events = ok(call(sim_clock, advance="PT20M"))["events"]
    done = next(e for e in events if e["type"] == "RepairCompleted")
    assert (done["previous_instance_id"], done["instance_id"], done["time"]) == ("3", "10", "2025-01-01T00:14:00Z")
    replaced = next(i for i in ok(call(vmss))["instances"] if i["name"] == "web-03")
    assert replaced["instance_id"] == "10" and replaced["health"] == "Healthy"
    assert replaced["os_disk"]["image_version"] == "1.1.0"  # the latest image of the current model


def test_reimage_keeps_the_id_and_image_version_with_a_new_os_disk_ar_6(call: Call) -> None:
    before = fleet(call, action="Reimage", unhealthy=("web-03",))
    disk = next(i for i in before["instances"] if i["name"] == "web-03")["os_disk"]
    ok(call(vm_image, **UBUNTU, version="1.1.0"))
    ok(call(sim_clock, advance="PT20M"))
    after = next(i for i in ok(call(vmss))["instances"] if i["name"] == "web-03")
    assert after["instance_id"] == "3" and after["health"] == "Healthy"
    assert after["os_disk"]["image_version"] == "1.0.0" and after["os_disk"]["name"] != disk["name"]


def test_a_failing_repair_leaves_the_instance_unhealthy_is_retried_then_the_platform_suspends_ar_5_ar_10(
    call: Call,
) -> None:
    fleet(call, unhealthy=("web-03",), simulation={"faults": [{"type": "repair_failure", "instances": ["web-03"]}]})
    events = ok(call(sim_clock, advance="PT2H"))["events"]
    # Each failed repair starts a new grace period (AR-5): 10:00, 21:00, 32:00; the third in a row suspends.
    assert repairs(events) == [
        ("2025-01-01T00:10:00Z", "RepairStarted", "web-03"),
        ("2025-01-01T00:11:00Z", "RepairCompleted", "web-03"),
        ("2025-01-01T00:21:00Z", "RepairStarted", "web-03"),
        ("2025-01-01T00:22:00Z", "RepairCompleted", "web-03"),
        ("2025-01-01T00:32:00Z", "RepairStarted", "web-03"),
        ("2025-01-01T00:33:00Z", "RepairCompleted", "web-03"),
        ("2025-01-01T00:33:00Z", "RepairsSuspended", "web-03"),
    ]
    assert all(e["result"] == "unhealthy" for e in events if e["type"] == "RepairCompleted")
    state = ok(call(vmss))
    assert health(state)["web-03"] == "Unhealthy"
    assert state["orchestration_services"][0]["serviceState"] == "Suspended"
    resumed = ok(call(vmss, orchestration_service="running"))
    assert resumed["orchestration_services"][0]["serviceState"] == "Running"


def test_suspended_repairs_repair_nothing_ar_9(call: Call) -> None:
    fleet(call, unhealthy=("web-03",), orchestration_service="suspended")
    assert repairs(ok(call(sim_clock, advance="PT1H"))["events"]) == []
    ok(call(vmss, orchestration_service="running"))
    # Its grace period is long over: the repair starts at once.
    events = ok(call(sim_clock, advance="PT5M"))["events"]
    assert repairs(events)[0] == ("2025-01-01T01:00:00Z", "RepairStarted", "web-03")


def test_initializing_does_not_trigger_a_repair_ar_3(call: Call) -> None:
    fleet(call, instances=[{"name": n, "health": "Initializing"} if n == "web-03" else n for n in NAMES])
    assert repairs(ok(call(sim_clock, advance="PT1H"))["events"]) == []


# -- repairs and rolling upgrades (AR-5, AR-12, D12) ----------------------------------------------------------


def test_during_an_upgrade_repairs_go_on_outside_the_batch_and_failed_upgrades_get_a_grace_period_ar_12_d12(
    call: Call,
) -> None:
    faults = [{"type": "boot_unhealthy", "instances": ["web-00"]}]
    fleet(call, unhealthy=("web-04",), simulation={"faults": faults})
    tolerant = {"max_unhealthy_instance_percent": 50, "max_unhealthy_upgraded_instance_percent": 50}
    ok(call(vmss_upgrade_policy, mode="Rolling", rolling_upgrade_policy=tolerant))
    first = ok(call(sim_clock, advance="PT30M"))["events"]
    assert repairs(first)[0] == ("2025-01-01T00:10:00Z", "RepairStarted", "web-04")
    ok(call(vm_image, **UBUNTU, version="1.1.0"))
    started = ok(call(vmss_os_rolling_upgrade, wait=False))
    assert started["batches"][0]["instances"] == ["web-00", "web-05"]
    ok(call(vmss, instances=instances(("web-09",))))  # web-09 turns unhealthy at 00:30, during the run
    events = ok(call(sim_clock, advance="PT1H"))["events"]
    done = {(e["instance"], e["type"]): e["time"] for e in events if e["type"].startswith("Repair")}
    # web-09 is outside the batches in flight: its repair goes on during the run (D12).
    assert done[("web-09", "RepairCompleted")] == "2025-01-01T00:31:00Z"
    # web-00 failed its upgrade at 00:38 (reimage 3 min + 5 min deadline); its grace runs from then (AR-5).
    assert done.get(("web-00", "RepairStarted")) == "2025-01-01T00:48:00Z"


def test_a_replace_during_an_os_run_builds_the_vm_on_the_target_and_it_leaves_the_run_ar_6(call: Call) -> None:
    fleet(call, action="Replace")
    ok(call(vmss_upgrade_policy, mode="Rolling"))
    ok(call(sim_clock, advance="PT20M"))
    ok(call(vm_image, **UBUNTU, version="1.1.0"))
    ok(call(vmss_os_rolling_upgrade, wait=False))
    ok(call(vmss, instances=instances(("web-09",))))  # in the last batch; its grace ended long ago
    ok(call(sim_clock, advance="PT1H"))
    result = ok(call(vmss_os_rolling_upgrade))  # nothing left to upgrade: the run that ended is returned
    by_name = {i["name"]: i for i in result["instances"]}
    assert by_name["web-09"]["instance_id"] == "10" and by_name["web-09"]["os_disk"]["image_version"] == "1.1.0"
    assert by_name["web-09"]["health"] == "Healthy"
    progress = result["rolling_upgrade"]["properties"]["progress"]
    assert (progress["successfulInstanceCount"], progress["pendingInstanceCount"]) == (9, 0)


def test_deleting_the_scale_set_removes_its_repair_event_design_round_2(call: Call, store: str) -> None:
    fleet(call, unhealthy=("web-03",))
    pending = Store.open(store)
    try:
        subjects = [e["subject"] for e in pending.pending_events()]
    finally:
        pending.close()
    assert any(s.endswith("/virtualmachinescalesets/web/repairs") for s in subjects), subjects
    ok(call(vmss, state="absent"))
    ok(call(vmss, image={**UBUNTU, "version": "latest"}, health_probe=PROBE, instances=NAMES))
    assert repairs(ok(call(sim_clock, advance="PT1H"))["events"]) == []
    pending = Store.open(store)
    try:
        assert pending.pending_events() == []
    finally:
        pending.close()
