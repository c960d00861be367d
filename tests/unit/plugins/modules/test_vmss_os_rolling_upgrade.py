# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azsim.vmss.vmss_os_rolling_upgrade through main() (conventions habit 8): check mode and its plan,
idempotence, Faulted runs, Azure's 409s, cancel and approve."""

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
from ansible_collections.azsim.vmss.tests.unit._harness import Call, dump, ok

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
PROBE = {"protocol": "http", "port": 80, "request_path": "/health"}
NAMES = [f"web-{i:02d}" for i in range(10)]  # instance ids 0..9


@pytest.fixture
def fleet(call: Call) -> Callable[..., None]:
    """Ten instances on 1.0.0 behind a health probe, then 1.1.0 published."""

    def build(instances: list[Any] | None = None, newer: bool = True, **vmss_args: Any) -> None:
        ok(call(vm_image, **UBUNTU, version="1.0.0"))
        ok(
            call(
                vmss,
                image={**UBUNTU, "version": vmss_args.pop("version", "latest")},
                health_probe=PROBE,
                instances=instances or NAMES,
                **vmss_args,
            )
        )
        if newer:
            ok(call(vm_image, **UBUNTU, version="1.1.0"))

    return build


def status(result: dict[str, Any]) -> str:
    return str(result["rolling_upgrade"]["properties"]["runningStatus"]["code"])


def test_check_mode_plan_real_run_then_again_not_changed_conventions_9(
    call: Call, fleet: Callable[..., None], store: str
) -> None:
    fleet()
    before = dump(store)
    checked = ok(call(vmss_os_rolling_upgrade, check=True))
    assert checked["changed"] is True
    assert dump(store) == before, "check mode writes nothing"
    plan = checked["plan"]
    assert (plan["start"], plan["end"]) == ("2025-01-01T00:00:00Z", "2025-01-01T00:20:00Z")
    assert [b["instances"] for b in plan["batches"]] == [
        ["web-00", "web-05"],
        ["web-01", "web-06"],
        ["web-02", "web-07"],
        ["web-03", "web-08"],
        ["web-04", "web-09"],
    ]
    assert set(plan["batches"][0]) == {"index", "instances", "zone", "update_domain", "start", "end"}
    assert ok(call(vmss_upgrade_history))["history"] == []

    real = ok(call(vmss_os_rolling_upgrade))
    assert real["changed"] is True
    assert status(real) == "Completed"
    assert [{k: v for k, v in b.items() if k != "result"} for b in real["batches"]] == plan["batches"]
    assert {i["result"] for i in real["instances"]} == {"upgraded"}
    assert real["now"] == "2025-01-01T00:20:00Z"
    assert "plan" not in real

    again = ok(call(vmss_os_rolling_upgrade))
    assert again["changed"] is False
    assert "1.1.0" in again["msg"]
    assert len(ok(call(vmss_upgrade_history))["history"]) == 1, "no second run recorded"


def test_check_mode_with_nothing_to_do_is_not_changed_conventions_4(
    call: Call, fleet: Callable[..., None], store: str
) -> None:
    fleet(newer=False)
    before = dump(store)
    checked = ok(call(vmss_os_rolling_upgrade, check=True))
    assert checked["changed"] is False and "plan" not in checked
    assert dump(store) == before


def test_faulted_run_fails_the_task_and_is_recorded_design_outcome(call: Call, fleet: Callable[..., None]) -> None:
    fleet([*NAMES[:7], *({"name": n, "health": "Unhealthy"} for n in NAMES[7:])])
    rc, failed = call(vmss_os_rolling_upgrade)
    assert rc == 1
    assert failed["failed"] is True
    assert "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade" in failed["msg"]
    assert status(failed) == "Faulted"
    assert len(failed["rolling_upgrade"]["properties"]["error"]["details"]) == 3
    assert failed["now"] == "2025-01-01T00:00:00Z", "the run ended at once: the wait moves no clock"
    history = ok(call(vmss_upgrade_history))["history"]
    assert [h["properties"]["runningStatus"]["code"] for h in history] == ["Faulted"], "committed although failed"


def test_faulted_run_with_fail_on_fault_false_does_not_fail_design_outcome(
    call: Call, fleet: Callable[..., None]
) -> None:
    fleet([*NAMES[:7], *({"name": n, "health": "Unhealthy"} for n in NAMES[7:])])
    result = ok(call(vmss_os_rolling_upgrade, fail_on_fault=False))
    assert result["changed"] is True
    assert status(result) == "Faulted"
    assert result.get("failed") is not True


def test_two_unhealthy_of_ten_runs_azure_3_1(call: Call, fleet: Callable[..., None]) -> None:
    fleet([*NAMES[:8], *({"name": n, "health": "Unhealthy"} for n in NAMES[8:])])
    assert status(ok(call(vmss_os_rolling_upgrade))) == "Completed"


def test_pinned_image_version_is_409_operation_not_allowed_azure_4_manual(
    call: Call, fleet: Callable[..., None]
) -> None:
    fleet(version="1.0.0")
    rc, result = call(vmss_os_rolling_upgrade)
    assert rc == 1
    assert result["code"] == "OperationNotAllowed"
    assert result["status"] == 409
    assert "pinned to version 1.0.0" in result["msg"] and "'latest'" in result["msg"]


def test_start_without_wait_then_the_clock_design_modules(call: Call, fleet: Callable[..., None]) -> None:
    fleet()
    started = ok(call(vmss_os_rolling_upgrade, wait=False))
    assert started["changed"] is True
    assert status(started) == "RollingForward"
    assert started["now"] == "2025-01-01T00:00:00Z"
    again = ok(call(vmss_os_rolling_upgrade, wait=False))
    assert again["changed"] is False, "starting while a run is going returns that run"
    assert status(again) == "RollingForward"
    ok(call(sim_clock, advance="PT20M"))
    assert ok(call(vmss_upgrade_history))["latest"]["properties"]["runningStatus"]["code"] == "Completed"


def test_wait_timeout_of_virtual_time_fails_and_keeps_the_progress_design_modules(
    call: Call, fleet: Callable[..., None]
) -> None:
    fleet()
    rc, result = call(vmss_os_rolling_upgrade, wait_timeout="PT5M")
    assert rc == 1
    assert "still RollingForward" in result["msg"] and "PT5M" in result["msg"]
    assert result["now"] == "2025-01-01T00:05:00Z"
    latest = ok(call(vmss_upgrade_history))["latest"]["properties"]
    assert latest["progress"]["successfulInstanceCount"] == 2


def test_cancel_idle_is_not_changed_with_azures_text_azure_3_cancel(call: Call, fleet: Callable[..., None]) -> None:
    fleet()
    result = ok(call(vmss_os_rolling_upgrade, state="cancelled"))
    assert result["changed"] is False
    assert result["msg"] == "There is no ongoing Rolling Upgrade to cancel."


def test_cancel_idle_with_fail_if_idle_fails_azure_3_cancel(call: Call, fleet: Callable[..., None]) -> None:
    fleet()
    rc, result = call(vmss_os_rolling_upgrade, state="cancelled", fail_if_idle=True)
    assert rc == 1
    assert result["msg"] == "There is no ongoing Rolling Upgrade to cancel."


def test_cancel_a_running_upgrade_azure_3_cancel(call: Call, fleet: Callable[..., None]) -> None:
    fleet()
    ok(call(vmss_os_rolling_upgrade, wait=False))
    ok(call(sim_clock, advance="PT5M"))
    cancelled = ok(call(vmss_os_rolling_upgrade, state="cancelled", wait=False))
    assert cancelled["changed"] is True
    props = cancelled["rolling_upgrade"]["properties"]
    assert props["runningStatus"]["lastAction"] == "Cancel"
    assert props["runningStatus"]["code"] == "RollingForward"
    ok(call(sim_clock, advance="PT10M"))
    done = ok(call(vmss_os_rolling_upgrade, state="cancelled"))
    assert done["changed"] is False, "the run ended: nothing left to cancel"
    latest = ok(call(vmss_upgrade_history))["latest"]["properties"]["runningStatus"]
    assert (latest["code"], latest["lastAction"]) == ("Cancelled", "Cancel")


def test_cancel_with_wait_returns_cancelled_design_precise(call: Call, fleet: Callable[..., None]) -> None:
    fleet()
    ok(call(vmss_os_rolling_upgrade, wait=False))
    ok(call(sim_clock, advance="PT1M"))
    cancelled = ok(call(vmss_os_rolling_upgrade, state="cancelled"))
    assert status(cancelled) == "Cancelled"
    assert cancelled["now"] == "2025-01-01T00:04:00Z"


def test_cancel_in_check_mode_writes_nothing_conventions_4(call: Call, fleet: Callable[..., None], store: str) -> None:
    fleet()
    ok(call(vmss_os_rolling_upgrade, wait=False))
    before = dump(store)
    checked = ok(call(vmss_os_rolling_upgrade, check=True, state="cancelled"))
    assert checked["changed"] is True
    assert dump(store) == before


def deferred(call: Call, fleet: Callable[..., None]) -> None:
    fleet(newer=False)
    ok(call(vmss_upgrade_policy, automatic_os_upgrade={"enabled": True, "os_rolling_upgrade_deferral": True}))
    ok(call(vm_image, **UBUNTU, version="1.1.0"))
    events = ok(call(sim_clock, advance="PT3H"))["events"]
    assert [e["type"] for e in events][:2] == ["RollingUpgradeStarted", "BatchStarted"]


def test_approve_by_host_name_or_instance_id_azure_1_deferral(call: Call, fleet: Callable[..., None]) -> None:
    deferred(call, fleet)
    approved = ok(call(vmss_os_rolling_upgrade, state="approved", instance_ids=["web-00", "5"], wait=False))
    assert approved["changed"] is True
    assert approved["approved"] == ["0", "5"]
    again = ok(call(vmss_os_rolling_upgrade, state="approved", instance_ids=["web-00"], wait=False))
    assert again["changed"] is False
    ok(call(sim_clock, advance="PT4M"))
    history = ok(call(vmss_upgrade_history))
    assert history["latest"]["properties"]["progress"]["successfulInstanceCount"] == 2
    assert history["batches"][0]["end"] == "2025-01-01T03:04:00Z"


def test_approve_unknown_instance_names_the_option_conventions_12(call: Call, fleet: Callable[..., None]) -> None:
    deferred(call, fleet)
    rc, result = call(vmss_os_rolling_upgrade, state="approved", instance_ids=["web-00", "nope"])
    assert rc == 1
    assert "instance_ids[1]" in result["msg"] and "'nope'" in result["msg"]


def test_approve_needs_instance_ids_conventions_12(call: Call, fleet: Callable[..., None]) -> None:
    fleet()
    rc, result = call(vmss_os_rolling_upgrade, state="approved")
    assert rc == 1
    assert "instance_ids" in result["msg"]


def test_approve_without_a_deferred_run_fails_azure_1_deferral(call: Call, fleet: Callable[..., None]) -> None:
    fleet()
    rc, result = call(vmss_os_rolling_upgrade, state="approved", instance_ids=["web-00"])
    assert rc == 1
    assert "waiting for approval" in result["msg"]


def test_unknown_scale_set_fails_with_a_message_conventions_12(call: Call, fleet: Callable[..., None]) -> None:
    fleet()
    rc, result = call(vmss_os_rolling_upgrade, name="nope")
    assert rc == 1
    assert "nope" in result["msg"] and "does not exist" in result["msg"]


def test_bad_wait_timeout_names_the_option_conventions_12(call: Call, fleet: Callable[..., None]) -> None:
    fleet()
    rc, result = call(vmss_os_rolling_upgrade, wait_timeout="ten minutes")
    assert rc == 1
    assert "wait_timeout" in result["msg"]
