# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run engine against the rules: azure-behaviour §3-§4 and design.md "Simulation rules" / "Precise points".

Every test names the rule it holds the engine to. Scale sets are built and runs driven through the same
core functions the modules call (``_fleet_helpers.Sim``), one store transaction per call.
"""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict
from ansible_collections.azsim.vmss.plugins.module_utils._engine import orchestrator
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import FIXED_AUTOMATIC_ROLLING_POLICY
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    HEALTH_EXTENSION,
    Sim,
    at,
    batch_names,
    batch_times,
    by_name,
    extension,
    fault,
    latest_props,
    sim,
)

PLATFORM_START = 180  # minutes: first_rollout_delay after enablement at the epoch


def prepare(
    sim: Sim,
    n: int = 10,
    faults: list[dict[str, Any]] | None = None,
    simulation: dict[str, Any] | None = None,
    **vmss: Any,
) -> None:
    """n instances on 1.0.0, then 1.1.0 published: a manual run has something to do."""
    if faults is not None:
        simulation = {**(simulation or {}), "faults": faults}
    sim.vmss(n, simulation=simulation, **vmss)
    sim.publish("1.1.0")


def platform_run(
    sim: Sim,
    n: int = 10,
    faults: list[dict[str, Any]] | None = None,
    automatic: dict[str, Any] | None = None,
    advance: str = "PT5H",
    **vmss: Any,
) -> dict[str, Any]:
    """A platform-started run: automatic OS upgrade enabled at the epoch, 1.1.0 newer, clock moved past 03:00."""
    simulation = {"faults": faults} if faults is not None else None
    sim.vmss(n, simulation=simulation, **vmss)
    sim.enable_automatic(**(automatic or {}))
    sim.publish("1.1.0")
    sim.advance(advance)
    return sim.view()


def code(result: dict[str, Any]) -> str:
    return str(latest_props(result)["runningStatus"]["code"])


def results(result: dict[str, Any]) -> dict[str, str]:
    return {n: i["result"] for n, i in by_name(result).items()}


# == §3.1 pre-check before every batch =================================================================


def test_precheck_three_of_ten_unhealthy_faults_before_the_first_batch_azure_3_1(sim: Sim) -> None:
    sim.vmss(names=[f"w{i}" for i in range(7)] + [{"name": f"w{i}", "health": "Unhealthy"} for i in (7, 8, 9)])
    sim.publish("1.1.0")
    result = sim.start()
    props = latest_props(result)
    assert props["runningStatus"]["code"] == "Faulted"
    assert props["error"]["code"] == "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"
    assert [d["target"] for d in props["error"]["details"]] == [f"web/virtualMachines/{i}" for i in (7, 8, 9)]
    assert result["batches"] == []
    assert props["progress"] == {
        "successfulInstanceCount": 0,
        "failedInstanceCount": 0,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 10,
    }
    assert all(i["os_disk"]["image_version"] == "1.0.0" for i in result["instances"])


def test_precheck_is_strict_two_of_ten_unhealthy_still_runs_azure_3_1(sim: Sim) -> None:
    sim.vmss(names=[f"w{i}" for i in range(8)] + [{"name": f"w{i}", "health": "Unhealthy"} for i in (8, 9)])
    sim.publish("1.1.0")
    result = sim.start()
    assert code(result) == "Completed"
    assert len(result["batches"]) == 5


def test_precheck_counts_unknown_as_unhealthy_azure_3_health_signal(sim: Sim) -> None:
    sim.vmss(names=[f"w{i}" for i in range(7)] + [{"name": f"w{i}", "health": "Unknown"} for i in (7, 8, 9)])
    sim.publish("1.1.0")
    result = sim.start()
    assert latest_props(result)["error"]["code"] == "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"


def test_precheck_counts_stopped_instances_without_a_health_source_azure_3_health_signal(sim: Sim) -> None:
    sim.vmss(
        names=[f"w{i}" for i in range(7)] + [{"name": f"w{i}", "power_state": "stopped"} for i in (7, 8, 9)],
        probe=False,
    )
    sim.publish("1.1.0")
    result = sim.start()
    props = latest_props(result)
    assert props["error"]["code"] == "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"
    # azure-behaviour-2 ER-5: a stopped instance is "unreachable".
    assert props["error"]["details"][0]["message"] == "Instance found to be unhealthy or unreachable."


def test_precheck_counts_failed_extensions_without_a_health_source_azure_3_health_signal(sim: Sim) -> None:
    sim.vmss(4, extensions=[extension("cfg", expiry=at(30))], probe=False)
    sim.advance("PT1H")
    sim.vmss(5)  # w4 is created after the credential expired: its extension fails to provision
    assert sim.instances()["w4"]["extensions"] == [{"name": "cfg", "provisioning_state": "Failed"}]
    assert sim.instances()["w4"]["health"] == "Unhealthy"
    sim.rolling(max_unhealthy_instance_percent=5)
    sim.publish("1.1.0")
    assert latest_props(sim.start())["error"]["code"] == "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"


def test_precheck_uses_the_policy_percent_azure_3_1(sim: Sim) -> None:
    sim.vmss(names=[f"w{i}" for i in range(7)] + [{"name": f"w{i}", "health": "Unhealthy"} for i in (7, 8, 9)])
    sim.rolling(max_unhealthy_instance_percent=30)
    sim.publish("1.1.0")
    assert code(sim.start()) == "Completed"


def test_precheck_before_every_later_batch_has_the_in_code_azure_3_1(sim: Sim) -> None:
    """Three instances turn unhealthy during batch 1: the check before batch 2 stops the run."""
    prepare(sim, faults=[fault("unhealthy_at", instances=["w7", "w8", "w9"], at="PT2M")])
    result = sim.start()
    props = latest_props(result)
    assert props["runningStatus"]["code"] == "Faulted"
    assert props["error"]["code"] == "MaxUnhealthyInstancePercentExceededInRollingUpgrade"
    assert [d["target"] for d in props["error"]["details"]] == [f"web/virtualMachines/{i}" for i in (7, 8, 9)]
    assert batch_names(result) == [["w0", "w5"]]
    assert batch_times(result) == [(at(0), at(4))]
    assert sim.history()["history"][0]["properties"]["runningStatus"]["endTime"] == at(4)


def test_precheck_in_run_is_strict_too_azure_3_1(sim: Sim) -> None:
    prepare(sim, faults=[fault("unhealthy_at", instances=["w8", "w9"], at="PT2M")])
    result = sim.start()
    assert code(result) == "Completed"


def test_precheck_counts_instances_failed_in_this_run_azure_3_1(sim: Sim) -> None:
    """With maxUnhealthyUpgradedInstancePercent out of the way, failed instances still count as unhealthy."""
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w0", "w5", "w1"])])
    sim.rolling(max_unhealthy_upgraded_instance_percent=100)
    result = sim.start()
    assert latest_props(result)["error"]["code"] == "MaxUnhealthyInstancePercentExceededInRollingUpgrade"
    assert len(result["batches"]) == 2


# == §3.3 skipped instances and the target version ====================================================


def test_instances_already_on_the_target_are_skipped_azure_3_3(sim: Sim) -> None:
    sim.vmss(10)
    sim.publish("1.1.0")
    sim.vmss(12)  # w10, w11 are created on the latest image, 1.1.0
    before = sim.instances()
    result = sim.start()
    assert results(result)["w10"] == results(result)["w11"] == "skipped"
    assert by_name(result)["w10"]["batch"] is None
    assert all("w10" not in b and "w11" not in b for b in batch_names(result))
    assert latest_props(result)["progress"]["successfulInstanceCount"] == 10
    assert sim.instances()["w10"]["os_disk"] == before["w10"]["os_disk"], "not reimaged"
    assert sim.instances()["w10"]["disk_generation"] == 1


def test_target_version_is_resolved_once_at_run_start_azure_4_design_outcome(sim: Sim) -> None:
    prepare(sim)
    sim.start(wait=False)
    sim.advance("PT5M")
    sim.publish("1.2.0")
    sim.advance("PT1H")
    run = sim.run()
    assert run["status"] == "Completed"
    assert {i["os_disk"]["image_version"] for i in sim.instances().values()} == {"1.1.0"}
    target = sim.history()["history"][0]["properties"]["targetImageReference"]
    assert target == {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "1.1.0"}


def test_target_image_reference_version_is_exact_never_latest_design_outcome(sim: Sim) -> None:
    prepare(sim)
    sim.start()
    model = sim.record()["model"]  # type: ignore[index]
    assert model["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]["version"] == "latest"
    assert sim.history()["history"][0]["properties"]["targetImageReference"]["version"] == "1.1.0"


def test_each_instance_attempted_at_most_once_per_run_design_precise(sim: Sim) -> None:
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w0"])])
    result = sim.start()
    flat = [n for b in batch_names(result) for n in b]
    assert sorted(flat) == sorted(f"w{i}" for i in range(10))
    assert results(result)["w0"] == "failed"


def test_second_manual_start_targets_only_what_is_left_azure_4_manual(sim: Sim) -> None:
    prepare(sim, faults=[fault("unhealthy_at", instances=["w7", "w8", "w9"], at="PT2M")])
    assert code(sim.start()) == "Faulted"
    # the maintenance is over (and its fault rule with it): every instance healthy again
    sim.vmss(names=[{"name": f"w{i}", "health": "Healthy"} for i in range(10)], simulation={"faults": []})
    second = sim.start()
    assert code(second) == "Completed"
    assert results(second)["w0"] == results(second)["w5"] == "skipped"
    assert latest_props(second)["progress"]["successfulInstanceCount"] == 8


# == §3.4 the upgrade of a batch: reimage ==============================================================


def test_reimage_gives_a_new_os_disk_and_keeps_data_disks_azure_3_4(sim: Sim) -> None:
    disks = [{"lun": 0, "name": "data0", "disk_size_gb": 64}, {"lun": 1, "name": None, "disk_size_gb": 256}]
    sim.vmss(names=[{"name": "w0", "data_disks": disks}, "w1"])
    before = sim.instances()["w0"]
    sim.publish("1.1.0")
    after = by_name(sim.start())["w0"]
    assert after["result"] == "upgraded"
    assert after["os_disk"]["image_version"] == "1.1.0"
    assert after["os_disk"]["name"] != before["os_disk"]["name"]
    assert after["os_disk"]["name"].startswith("web_0_OsDisk_2_")
    assert after["previous_os_disk"] == before["os_disk"]
    assert after["data_disks"] == before["data_disks"]
    assert [d["name"] for d in after["data_disks"]] == ["data0", "web_w0_disk1"]


def test_reimage_reruns_extensions_in_provision_after_order_azure_3_4(sim: Sim) -> None:
    extensions = [
        extension("app", after=["config"]),
        extension("config", after=["agent"]),
        extension("agent"),
        HEALTH_EXTENSION,
    ]
    sim.vmss(4, extensions=extensions)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT2M")
    assert sim.instances()["w0"]["provisioning_state"] == "Updating"
    sim.advance("PT1M")
    w0 = sim.instances()["w0"]
    assert w0["extensions"] == [
        {"name": "agent", "provisioning_state": "Succeeded"},
        {"name": "config", "provisioning_state": "Succeeded"},
        {"name": "app", "provisioning_state": "Succeeded"},
        {"name": "health", "provisioning_state": "Succeeded"},
    ]
    assert w0["provisioning_state"] == "Succeeded"


def test_expired_credential_faults_the_first_batch_azure_4_credentials(sim: Sim) -> None:
    sim.vmss(10, extensions=[HEALTH_EXTENSION, extension("cfg", expiry=at(60), secret="s1")])
    sim.advance("PT2H")
    sim.publish("1.1.0")
    result = sim.start()
    props = latest_props(result)
    assert props["runningStatus"]["code"] == "Faulted"
    assert props["error"]["code"] == "RollingUpgradeExtensionCredentialExpired"
    assert "cfg" in props["error"]["message"]
    assert [d["target"] for d in props["error"]["details"]] == ["web/virtualMachines/0", "web/virtualMachines/5"]
    assert batch_names(result) == [["w0", "w5"]]
    assert batch_times(result) == [(at(120), at(128))]  # 3 + 5: never healthy
    for name in ("w0", "w5"):
        instance = by_name(result)[name]
        assert instance["result"] == "failed"
        assert {e["name"]: e["provisioning_state"] for e in instance["extensions"]} == {
            "health": "Succeeded",
            "cfg": "Failed",
        }
        assert instance["provisioning_state"] == "Failed"
    assert props["progress"] == {
        "successfulInstanceCount": 0,
        "failedInstanceCount": 2,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 8,
    }


def test_expired_credential_stops_even_a_tolerant_policy_azure_4_credentials(sim: Sim) -> None:
    sim.vmss(10, extensions=[extension("cfg", expiry=at(60))], probe=True)
    sim.rolling(max_unhealthy_upgraded_instance_percent=100, max_unhealthy_instance_percent=100)
    sim.advance("PT2H")
    sim.publish("1.1.0")
    result = sim.start()
    assert latest_props(result)["error"]["code"] == "RollingUpgradeExtensionCredentialExpired"
    assert len(result["batches"]) == 1


def test_credential_recovery_renew_and_update_all_brings_every_instance_back_azure_4_credentials(sim: Sim) -> None:
    """The seed's story: expired credential faults the first batch; renew it, update_instances: [all]."""
    sim.vmss(10, extensions=[HEALTH_EXTENSION, extension("cfg", after=["health"], expiry=at(60), secret="old")])
    sim.advance("PT2H")
    sim.publish("1.1.0")
    assert latest_props(sim.start())["error"]["code"] == "RollingUpgradeExtensionCredentialExpired"
    renewed_cfg = extension("cfg", after=["health"], expiry=at(60 * 24 * 365), secret="new")
    renewed = sim.vmss(extensions=[HEALTH_EXTENSION, renewed_cfg], update_instances=["all"])
    assert renewed["rolling_upgrade"]["properties"]["runningStatus"]["code"] == "RollingForward"
    sim.advance("PT10M")
    for instance in sim.instances().values():
        assert instance["health"] == "Healthy", instance["name"]
        assert instance["provisioning_state"] == "Succeeded"
        assert [(e["name"], e["provisioning_state"]) for e in instance["extensions"]] == [
            ("health", "Succeeded"),
            ("cfg", "Succeeded"),
        ]
    assert len(sim.history()["history"]) == 1, "the model update is not an OS upgrade"


# == §3.5 health wait ================================================================================


def test_without_health_source_failed_extension_is_unhealthy_at_reimage_end_azure_3_health_signal(sim: Sim) -> None:
    prepare(
        sim,
        faults=[fault("extension_failure", instances=["w0"], extension="cfg")],
        extensions=[extension("cfg")],
        probe=False,
    )
    sim.start(wait=False)
    sim.advance("PT3M")
    assert sim.instances()["w0"]["health"] == "Unhealthy"
    assert sim.instances()["w5"]["health"] == "Unknown"
    sim.advance("PT1M")
    assert sim.instances()["w5"]["health"] == "Healthy"
    sim.advance("PT1H")
    assert results(sim.view())["w0"] == "failed"


def test_without_health_source_running_and_extensions_succeeded_is_healthy_azure_3_health_signal(sim: Sim) -> None:
    prepare(sim, extensions=[extension("cfg")], probe=False)
    result = sim.start()
    assert code(result) == "Completed"
    assert {i["health"] for i in result["instances"]} == {"Healthy"}


def test_health_extension_initializing_makes_the_orchestrator_wait_azure_3_health_signal(sim: Sim) -> None:
    prepare(sim, faults=[fault("slow_boot", instances=["w0"], delay="PT4M")], extensions=[HEALTH_EXTENSION])
    sim.start(wait=False)
    sim.advance("PT6M")
    assert sim.instances()["w0"]["health"] == "Initializing"
    assert sim.run()["batches"][0]["end"] is None
    sim.advance("PT1M")
    assert sim.instances()["w0"]["health"] == "Healthy"
    result = sim.view()
    assert batch_times(result)[0] == (at(0), at(7))
    assert results(result)["w0"] == "upgraded"


def test_binary_health_extension_reports_only_healthy_or_unhealthy_azure_3_health_signal(sim: Sim) -> None:
    """Type handler 1.0 (binary mode) never reports Initializing: once the reimaged instance runs, it is
    Unhealthy until it is Healthy (while its disk is being replaced nothing reports at all)."""
    prepare(
        sim,
        faults=[fault("slow_boot", instances=["w0"], delay="PT4M")],
        extensions=[{**HEALTH_EXTENSION, "type_handler_version": "1.0"}],
    )
    sim.start(wait=False)
    sim.advance("PT3M")  # reimage done
    seen = set()
    for _minute in range(4):
        seen.add(sim.instances()["w0"]["health"])
        sim.advance("PT1M")
    assert seen == {"Unhealthy"}
    assert sim.instances()["w0"]["health"] == "Healthy"
    assert results(sim.view())["w0"] == "upgraded"
    assert batch_times(sim.view())[0] == (at(0), at(7)), "the orchestrator still waits up to the deadline"


@pytest.mark.parametrize(
    ("delay", "result", "batch_end"),
    [
        ("PT30S", "upgraded", 4),  # shorter than boot_duration: boot_duration decides
        ("PT4M", "upgraded", 7),  # healthy at reimage end + max(boot, delay) = 3 + 4
        ("PT5M", "upgraded", 8),  # healthy exactly at the 5-minute deadline: "up to 5 minutes"
        ("PT6M", "failed", 8),  # deadline = reimage end + 5 min
    ],
)
def test_five_minute_health_deadline_azure_3_5(sim: Sim, delay: str, result: str, batch_end: int) -> None:
    prepare(sim, faults=[fault("slow_boot", instances=["w0"], delay=delay)])
    run = sim.start()
    assert results(run)["w0"] == result
    assert batch_times(run)[0] == (at(0), at(batch_end))


def test_a_slow_instance_past_the_deadline_is_not_counted_upgraded_later_azure_3_5(sim: Sim) -> None:
    prepare(sim, faults=[fault("slow_boot", instances=["w0"], delay="PT6M")])
    sim.start()
    sim.advance("PT1H")
    assert results(sim.view())["w0"] == "failed"
    assert latest_props(sim.view())["progress"]["failedInstanceCount"] == 1


# == timing (design.md, simulation rules) ============================================================


def test_clean_batch_takes_four_minutes_and_ten_instances_twenty_design_timing(sim: Sim) -> None:
    prepare(sim)
    result = sim.start()
    assert batch_times(result) == [(at(4 * k), at(4 * k + 4)) for k in range(5)]
    assert result["now"] == at(20)
    assert sim.history()["history"][0]["properties"]["runningStatus"]["endTime"] == at(20)


def test_batch_duration_is_reimage_plus_boot_design_timing(sim: Sim) -> None:
    prepare(sim, simulation={"reimage_duration": "PT2M", "boot_duration": "PT30S"})
    result = sim.start()
    assert batch_times(result)[:2] == [(at(0), at(2.5)), (at(2.5), at(5))]


def test_failed_batch_without_rollback_takes_three_plus_five_design_timing(sim: Sim) -> None:
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w0"])])
    result = sim.start()
    assert batch_times(result)[:2] == [(at(0), at(8)), (at(8), at(12))]


def test_failed_batch_with_rollback_takes_three_plus_five_plus_three_design_precise(sim: Sim) -> None:
    result = platform_run(sim, faults=[fault("boot_unhealthy", instances=["w0"], image_version="1.1.0")])
    assert batch_times(result)[0] == (at(PLATFORM_START), at(PLATFORM_START + 11))
    assert batch_times(result)[1][0] == at(PLATFORM_START + 11)


def test_restored_instance_healthy_boot_duration_after_the_restore_design_precise(sim: Sim) -> None:
    platform_run(sim, faults=[fault("boot_unhealthy", instances=["w0"], image_version="1.1.0")], advance="PT3H")
    sim.advance("PT11M")
    w0 = sim.instances()["w0"]
    assert (w0["os_disk"]["image_version"], w0["health"]) == ("1.0.0", "Unknown")
    sim.advance("PT59S")
    assert sim.instances()["w0"]["health"] == "Unknown"
    sim.advance("PT1S")
    assert sim.instances()["w0"]["health"] == "Healthy"


def test_wait_stops_the_clock_when_the_run_ends_at_once_design_rules(sim: Sim) -> None:
    """wait: true advances "until the run ends": a run Faulted by the first pre-check ends at its start.

    Found by the integration target: the clock jumped by the whole wait_timeout (PT24H) because the run
    had ended before the wait began, so no event was left to stop on.
    """
    sim.vmss(names=[f"w{i}" for i in range(7)] + [{"name": f"w{i}", "health": "Unhealthy"} for i in (7, 8, 9)])
    sim.publish("1.1.0")
    result = sim.start()
    assert code(result) == "Faulted"
    assert result["now"] == at(0)
    assert sim.now() == sim.run()["end"]


def test_cancel_with_wait_during_the_pause_does_not_move_the_clock_design_precise(sim: Sim) -> None:
    prepare(sim)
    sim.rolling(pause_time_between_batches="PT10M")
    sim.start(wait=False)
    sim.advance("PT6M")
    cancelled = sim.cancel()
    assert code(cancelled) == "Cancelled"
    assert cancelled["now"] == at(6)


# == §3.5 rollback ==================================================================================


def test_platform_run_rolls_back_a_failed_instance_and_completes_azure_3_5(sim: Sim) -> None:
    sim.vmss(1)
    before = sim.instances()["w0"]["os_disk"]
    result = platform_run(sim, faults=[fault("boot_unhealthy", instances=["w3"], image_version="1.1.0")])
    w3 = by_name(result)["w3"]
    assert w3["result"] == "rolled_back"
    assert w3["os_disk"]["image_version"] == "1.0.0"
    assert w3["health"] == "Healthy"
    assert code(result) == "Completed"
    item = sim.history()["history"][0]["properties"]
    assert item["startedBy"] == "Platform"
    assert item["progress"]["failedInstanceCount"] == 1  # rolled back or not (design.md, precise points)
    assert item["rollbackInfo"] == {
        "successfullyRolledbackInstanceCount": 1,
        "failedRolledbackInstanceCount": 0,
        "rollbackError": None,
    }
    assert by_name(result)["w0"]["os_disk"] != before


def test_platform_rollback_restores_the_previous_os_disk_itself_azure_3_5(sim: Sim) -> None:
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w0"], image_version="1.1.0")]})
    old_disk = sim.instances()["w0"]["os_disk"]
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT4H")
    assert sim.instances()["w0"]["os_disk"] == old_disk


def test_disable_automatic_rollback_keeps_the_failed_instance_azure_3_5(sim: Sim) -> None:
    result = platform_run(
        sim,
        faults=[fault("boot_unhealthy", instances=["w0"], image_version="1.1.0")],
        automatic={"disable_automatic_rollback": True},
    )
    w0 = by_name(result)["w0"]
    assert (w0["result"], w0["os_disk"]["image_version"], w0["health"]) == ("failed", "1.1.0", "Unhealthy")
    assert batch_times(result)[0] == (at(PLATFORM_START), at(PLATFORM_START + 8))
    assert sim.history()["history"][0]["properties"]["rollbackInfo"]["successfullyRolledbackInstanceCount"] == 0


def test_manual_run_never_rolls_back_even_with_automatic_rollback_on_azure_3_5(sim: Sim) -> None:
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w0"])])
    sim.enable_automatic()  # automatic rollback is on for platform runs; this run is the user's
    result = sim.start()
    w0 = by_name(result)["w0"]
    assert (w0["result"], w0["os_disk"]["image_version"]) == ("failed", "1.1.0")
    info = sim.history()["history"][0]["properties"]
    assert info["startedBy"] == "User"
    assert info["rollbackInfo"] == {
        "successfullyRolledbackInstanceCount": 0,
        "failedRolledbackInstanceCount": 0,
        "rollbackError": None,
    }


def test_rollback_failure_gives_rollback_failed_and_a_rollback_error_design_faults(sim: Sim) -> None:
    result = platform_run(
        sim,
        faults=[
            fault("boot_unhealthy", instances=["w0"], image_version="1.1.0"),
            fault("rollback_failure", instances=["w0"]),
        ],
    )
    w0 = by_name(result)["w0"]
    assert (w0["result"], w0["health"], w0["provisioning_state"]) == ("rollback_failed", "Unhealthy", "Failed")
    info = sim.history()["history"][0]["properties"]
    assert info["progress"]["failedInstanceCount"] == 1
    assert info["rollbackInfo"]["successfullyRolledbackInstanceCount"] == 0
    assert info["rollbackInfo"]["failedRolledbackInstanceCount"] == 1
    error = info["rollbackInfo"]["rollbackError"]
    assert error["code"] and "0" in error["message"]


# == §3.6 post-batch check ===========================================================================


def test_post_batch_third_failed_instance_stops_the_run_azure_3_6(sim: Sim) -> None:
    """Azure's example: 10 instances, 20% → the third instance failing after upgrade stops it."""
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w0", "w5", "w1"])])
    result = sim.start()
    props = latest_props(result)
    assert props["runningStatus"]["code"] == "Faulted"
    assert props["error"]["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    assert "30% of instances are in an unhealthy state after being upgraded" in props["error"]["message"]
    assert [d["target"] for d in props["error"]["details"]] == [f"web/virtualMachines/{i}" for i in (0, 1, 5)]
    assert batch_names(result) == [["w0", "w5"], ["w1", "w6"]]
    assert props["progress"] == {
        "successfulInstanceCount": 1,
        "failedInstanceCount": 3,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 6,
    }
    assert {n for n, r in results(result).items() if r == "pending"} == {"w2", "w3", "w4", "w7", "w8", "w9"}


def test_post_batch_two_failed_instances_do_not_stop_it_azure_3_6(sim: Sim) -> None:
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w0", "w1"])])
    result = sim.start()
    assert code(result) == "Completed", "a run that reaches the end of its batches completes"
    assert latest_props(result)["progress"]["failedInstanceCount"] == 2


def test_post_batch_zero_percent_stops_on_the_first_failure_azure_3_6(sim: Sim) -> None:
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w1"])])
    sim.rolling(max_unhealthy_upgraded_instance_percent=0)
    result = sim.start()
    assert latest_props(result)["error"]["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    assert len(result["batches"]) == 2


def test_policy_breach_without_rollback_flag_leaves_failed_instances_azure_3_6(sim: Sim) -> None:
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w0", "w5", "w1"])])
    result = sim.start()
    assert {by_name(result)[n]["os_disk"]["image_version"] for n in ("w0", "w5", "w1")} == {"1.1.0"}
    assert result["now"] == at(16)


def test_rollback_failed_instances_on_policy_breach_rolls_back_then_faults_azure_3_6(sim: Sim) -> None:
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w0", "w5", "w1"])])
    sim.rolling(rollback_failed_instances_on_policy_breach=True)
    started = sim.start(wait=False)
    assert code(started) == "RollingForward"
    sim.advance("PT16M")  # batch 1 8 min, batch 2 8 min: the breach
    rolling_back = sim.view()
    assert code(rolling_back) == "RollingBack"
    assert sim.history()["latest"]["properties"]["runningStatus"]["code"] == "RollingBack"
    assert {results(rolling_back)[n] for n in ("w0", "w5", "w1")} == {"failed"}
    sim.advance("PT2M59S")
    assert code(sim.view()) == "RollingBack"
    sim.advance("PT1S")
    done = sim.view()
    props = latest_props(done)
    assert props["runningStatus"]["code"] == "Faulted"
    assert props["error"]["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    for name in ("w0", "w5", "w1"):
        assert (results(done)[name], by_name(done)[name]["os_disk"]["image_version"]) == ("rolled_back", "1.0.0")
    assert by_name(done)["w6"]["os_disk"]["image_version"] == "1.1.0", "the healthy upgraded one stays"
    item = sim.history()["history"][0]["properties"]
    assert item["runningStatus"]["endTime"] == at(19)
    assert item["rollbackInfo"]["successfullyRolledbackInstanceCount"] == 3
    sim.advance("PT1M")
    assert {sim.instances()[n]["health"] for n in ("w0", "w5", "w1")} == {"Healthy"}


def test_rolling_back_is_active_wait_true_drives_through_it_azure_3_run_status(sim: Sim) -> None:
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w0", "w5", "w1"])])
    sim.rolling(rollback_failed_instances_on_policy_breach=True)
    result = sim.start()
    assert code(result) == "Faulted"
    assert result["now"] == at(19)


# == maxSurge =======================================================================================


def test_max_surge_old_instances_keep_serving_during_the_batch_azure_3_4(sim: Sim) -> None:
    from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
    from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import KEY

    prepare(sim)
    sim.rolling(max_surge=True)
    sim.start(wait=False)
    for step in ("PT1M", "PT2M", "PT30S"):  # 1:00 being created, 3:00 and 3:30 the new instance boots
        sim.advance(step)
        old = sim.call(lambda s: fleet_of(s).by_id(KEY)["0"], commit=False)
        assert (old["name"], old["health"]) == ("w0", "Healthy"), f"at {sim.now()}"
        assert sim.run()["batches"][0]["end"] is None
    sim.advance("PT30S")  # azure-behaviour-2 MS-3: the new instance is healthy and replaces the old one (D10)
    assert sim.instances()["w0"]["health"] == "Healthy"
    assert sim.instances()["w0"]["instance_id"] == "10"
    assert sim.instances()["w0"]["os_disk"]["image_version"] == "1.1.0"
    assert sim.run()["batches"][0]["end"] == sim.now()


def test_max_surge_failed_new_instance_kept_by_a_manual_run_azure_behaviour_2_ms_8(sim: Sim) -> None:
    """MS-8: a run without automatic rollback keeps the new instance that never became healthy and deletes
    the old one: the instance is on the new image, unhealthy, and failed."""
    prepare(sim, faults=[fault("boot_unhealthy", instances=["w5"])])
    old = sim.instances()["w5"]
    sim.rolling(max_surge=True)
    result = sim.start()
    w5 = by_name(result)["w5"]
    assert w5["result"] == "failed"
    assert w5["os_disk"]["image_version"] == "1.1.0"
    assert w5["previous_os_disk"] == old["os_disk"]
    assert w5["health"] == "Unhealthy"
    assert batch_times(result)[0] == (at(0), at(8))


def test_max_surge_failed_new_instance_discarded_by_a_platform_run_azure_behaviour_2_ms_8(sim: Sim) -> None:
    """MS-8: a platform run with automatic rollback deletes the failed new instance and keeps the old one."""
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w5"])]})
    sim.rolling(max_surge=True)
    sim.enable_automatic()
    old = sim.instances()["w5"]
    sim.publish("1.1.0")
    sim.advance("PT5H")
    w5 = sim.instances()["w5"]
    assert sim.run()["policy"]["maxSurge"] is True
    assert sim.run()["outcome"][w5["instance_id"]] == {
        "result": "failed",
        "batch": 1,
        "resolved": sim.run()["batches"][0]["start"] + 480,
        "kept_old": True,
    }
    assert (w5["os_disk"], w5["previous_os_disk"]) == (old["os_disk"], old["previous_os_disk"])
    assert (w5["health"], w5["provisioning_state"]) == ("Healthy", "Succeeded")


def test_max_surge_failed_creation_keeps_the_old_instance_in_every_run_azure_behaviour_2_ms_8(sim: Sim) -> None:
    """MS-8: a new instance whose creation fails (an extension does not provision) is deleted, the old kept."""
    prepare(sim, faults=[fault("extension_failure", instances=["w5"], extension="cfg")], extensions=[extension("cfg")])
    old = sim.instances()["w5"]
    sim.rolling(max_surge=True)
    result = sim.start()
    w5 = by_name(result)["w5"]
    assert w5["result"] == "failed"
    assert (w5["os_disk"], w5["previous_os_disk"]) == (old["os_disk"], old["previous_os_disk"])
    assert (w5["health"], w5["provisioning_state"]) == ("Healthy", "Succeeded")


@pytest.mark.parametrize("rollback_fails", [False, True], ids=["restore-ok", "rollback_failure"])
def test_max_surge_breach_rollback_leaves_the_kept_old_instances_alone_azure_3_4_3_6(
    sim: Sim, rollback_fails: bool
) -> None:
    """A surge instance whose creation failed is discarded and the old one kept (azure-behaviour-2 MS-8): on a
    breach there is nothing to roll back.

    Found by the hypothesis properties: the breach rollback "restored" the kept old instance, putting its
    previous OS disk (an even older image) back, or, with rollback_failure, marking it failed and unhealthy.
    """
    sim.vmss(10, extensions=[extension("cfg")], probe=True)
    sim.publish("1.1.0")
    sim.start()  # every instance on 1.1.0, with 1.0.0 as its previous OS disk
    # A failed creation keeps the old instance in every run (azure-behaviour-2 MS-8).
    faults = [fault("extension_failure", instances=["w0", "w5", "w1"], extension="cfg", image_version="1.2.0")]
    if rollback_fails:
        faults.append(fault("rollback_failure", instances=["w0", "w5", "w1"]))
    sim.vmss(simulation={"faults": faults})
    kept = {n: sim.instances()[n] for n in ("w0", "w5", "w1")}
    sim.rolling(max_surge=True, rollback_failed_instances_on_policy_breach=True)
    sim.publish("1.2.0")
    result = sim.start()
    props = latest_props(result)
    assert props["error"]["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    for name, old in kept.items():
        instance = by_name(result)[name]
        assert instance["result"] == "failed"
        assert instance["os_disk"] == old["os_disk"], "still on 1.1.0, the version it served all along"
        assert instance["os_disk"]["image_version"] == "1.1.0"
        assert (instance["health"], instance["provisioning_state"]) == ("Healthy", "Succeeded")
    assert sim.history()["history"][0]["properties"]["rollbackInfo"] == {
        "successfullyRolledbackInstanceCount": 0,
        "failedRolledbackInstanceCount": 0,
        "rollbackError": None,
    }


# == pauseTimeBetweenBatches and whose policy a run uses ============================================


def test_pause_time_between_batches_shows_in_batch_start_times_azure_3_7(sim: Sim) -> None:
    prepare(sim)
    sim.rolling(pause_time_between_batches="PT10M")
    result = sim.start()
    assert [start for start, _end in batch_times(result)] == [at(14 * k) for k in range(5)]
    assert result["now"] == at(60), "no pause after the last batch"


def test_platform_run_with_use_rolling_policy_uses_the_scale_sets_policy_azure_1(sim: Sim) -> None:
    sim.vmss(names=[{"name": f"w{i}", "update_domain": 0} for i in range(10)])
    sim.rolling(max_batch_instance_percent=50, pause_time_between_batches="PT10M")
    sim.enable_automatic(use_rolling_upgrade_policy=True)
    sim.publish("1.1.0")
    sim.advance("PT5H")
    run = sim.view()
    assert run["rolling_upgrade"]["properties"]["policy"]["maxBatchInstancePercent"] == 50
    assert batch_names(run) == [[f"w{i}" for i in range(5)], [f"w{i}" for i in range(5, 10)]]
    assert batch_times(run) == [(at(180), at(184)), (at(194), at(198))]


def test_platform_run_without_use_rolling_policy_ignores_the_scale_set_policy_azure_1(sim: Sim) -> None:
    sim.vmss(names=[{"name": f"w{i}", "update_domain": 0} for i in range(10)])
    sim.rolling(max_batch_instance_percent=50, pause_time_between_batches="PT10M")
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT5H")
    run = sim.view()
    assert run["rolling_upgrade"]["properties"]["policy"] == FIXED_AUTOMATIC_ROLLING_POLICY
    assert [len(b) for b in batch_names(run)] == [2] * 5
    assert batch_times(run) == [(at(180 + 4 * k), at(184 + 4 * k)) for k in range(5)]


def test_manual_run_uses_the_scale_sets_policy_azure_1(sim: Sim) -> None:
    sim.vmss(names=[{"name": f"w{i}", "update_domain": 0} for i in range(10)])
    sim.rolling(max_batch_instance_percent=50)
    sim.publish("1.1.0")
    assert [len(b) for b in batch_names(sim.start())] == [5, 5]


# == osRollingUpgradeDeferral =========================================================================


def deferred(sim: Sim) -> None:
    sim.vmss(10)
    sim.enable_automatic(os_rolling_upgrade_deferral=True)
    sim.publish("1.1.0")
    sim.advance("PT3H")


def test_deferral_platform_run_waits_for_approval_per_instance_azure_1(sim: Sim) -> None:
    deferred(sim)
    sim.advance("PT1H")
    view = sim.view()
    assert code(view) == "RollingForward"
    assert batch_names(view) == [["w0", "w5"]]
    assert batch_times(view) == [(at(180), None)]
    assert all(i["os_disk"]["image_version"] == "1.0.0" and i["health"] == "Healthy" for i in view["instances"])


def test_deferral_approve_by_name_or_id_starts_at_once_azure_1(sim: Sim) -> None:
    deferred(sim)
    sim.advance("PT1H")
    approved = sim.approve(["w0", "5"])
    assert approved["changed"] is True
    assert approved["approved"] == ["0", "5"]
    sim.advance("PT4M")
    view = sim.view()
    assert batch_times(view)[0] == (at(180), at(244)), "the batch started at 3:00 and waited for approval"
    assert results(view)["w0"] == results(view)["w5"] == "upgraded"


def test_deferral_unapproved_instance_holds_the_batch_azure_1(sim: Sim) -> None:
    deferred(sim)
    sim.approve(["w0"])
    sim.advance("PT1H")
    view = sim.view()
    assert results(view)["w0"] == "upgraded"
    assert batch_times(view) == [(at(180), None)]
    assert sim.instances()["w5"]["os_disk"]["image_version"] == "1.0.0"


def test_deferral_approving_ahead_starts_when_its_batch_starts_azure_1(sim: Sim) -> None:
    deferred(sim)
    sim.approve(["w0", "w5", "w1"])  # w1 is in batch 2, approved before that batch starts
    sim.advance("PT4M")
    view = sim.view()
    assert batch_times(view) == [(at(180), at(184)), (at(184), None)]
    sim.advance("PT4M")
    view = sim.view()
    assert results(view)["w1"] == "upgraded", "it started at 3:04, when batch 2 started"
    assert sim.instances()["w6"]["os_disk"]["image_version"] == "1.0.0"
    again = sim.approve(["w1"])
    assert again["changed"] is False and again["approved"] == []


def test_deferral_approving_again_writes_nothing_azure_1(sim: Sim) -> None:
    """A repeated approve changes nothing and writes nothing: the run's event keeps its place in the queue
    (a rewritten event could be reordered against others due at the same instant; issue 11 item 9)."""
    deferred(sim)
    sim.advance("PT1H")
    sim.approve(["w0"])
    before = sim.dump()
    again = sim.approve(["w0", "0"])
    assert again["changed"] is False and again["approved"] == []
    assert sim.dump() == before


def test_deferral_cancel_with_only_unapproved_instances_ends_at_once_azure_3_cancel(sim: Sim) -> None:
    deferred(sim)
    cancelled = sim.cancel(wait=False)
    assert code(cancelled) == "Cancelled"
    assert cancelled["batches"] == [], "nothing of the held batch had started"
    assert latest_props(cancelled)["progress"]["pendingInstanceCount"] == 10


def test_deferral_cancel_lets_the_approved_instance_finish_azure_3_cancel(sim: Sim) -> None:
    deferred(sim)
    sim.approve(["w0"])
    sim.advance("PT1M")
    assert code(sim.cancel(wait=False)) == "RollingForward"
    sim.advance("PT10M")
    view = sim.view()
    assert code(view) == "Cancelled"
    assert batch_names(view) == [["w0"]]
    assert batch_times(view) == [(at(180), at(184))]
    assert results(view)["w5"] == "pending"


def test_deferral_does_not_apply_to_manual_runs_azure_1(sim: Sim) -> None:
    sim.vmss(10)
    sim.enable_automatic(os_rolling_upgrade_deferral=True)
    sim.publish("1.1.0")
    result = sim.start()
    assert code(result) == "Completed" and result["now"] == at(20)


def test_approve_without_a_deferred_run_is_a_conflict_azure_1(sim: Sim) -> None:
    prepare(sim)
    sim.start(wait=False)
    with pytest.raises(Conflict, match="waiting for approval"):
        sim.approve(["w0"])


def test_orchestrator_approve_directly_azure_1(sim: Sim) -> None:
    from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import KEY

    deferred(sim)
    assert sim.call(orchestrator.approve, KEY, ["2", "0"]) == ["2", "0"]
    assert sim.call(orchestrator.approve, KEY, ["0"]) == []


# == cancel =========================================================================================


def test_cancel_lets_instances_in_flight_finish_then_cancelled_azure_3_cancel(sim: Sim) -> None:
    prepare(sim)
    sim.start(wait=False)
    sim.advance("PT5M")  # batch 2 (w1, w6) started at 4 min
    cancelled = sim.cancel(wait=False)
    assert cancelled["changed"] is True
    status = latest_props(cancelled)["runningStatus"]
    assert status == {"code": "RollingForward", "startTime": at(0), "lastAction": "Cancel", "lastActionTime": at(5)}
    sim.advance("PT1H")
    view = sim.view()
    assert code(view) == "Cancelled"
    assert batch_names(view) == [["w0", "w5"], ["w1", "w6"]]
    assert batch_times(view)[1] == (at(4), at(8))
    assert latest_props(view)["progress"] == {
        "successfulInstanceCount": 4,
        "failedInstanceCount": 0,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 6,
    }
    assert sim.history()["history"][0]["properties"]["runningStatus"]["endTime"] == at(8)


def test_cancel_with_wait_advances_until_the_batch_in_flight_ends_design_precise(sim: Sim) -> None:
    prepare(sim)
    sim.start(wait=False)
    sim.advance("PT1M")
    cancelled = sim.cancel()
    assert code(cancelled) == "Cancelled"
    assert cancelled["now"] == at(4)


def test_cancel_during_the_pause_ends_at_once_azure_3_cancel(sim: Sim) -> None:
    prepare(sim)
    sim.rolling(pause_time_between_batches="PT10M")
    sim.start(wait=False)
    sim.advance("PT6M")
    cancelled = sim.cancel(wait=False)
    assert code(cancelled) == "Cancelled"
    assert len(cancelled["batches"]) == 1


def test_cancel_with_nothing_running_is_azures_409_text_azure_3_cancel(sim: Sim) -> None:
    prepare(sim)
    idle = sim.cancel()
    assert idle["changed"] is False
    assert idle["msg"] == "There is no ongoing Rolling Upgrade to cancel."
    with pytest.raises(Conflict, match="There is no ongoing Rolling Upgrade to cancel.") as caught:
        sim.cancel(fail_if_idle=True)
    assert caught.value.details.get("status") == 409
    sim.start()
    assert sim.cancel()["changed"] is False


def test_after_cancel_a_new_start_is_a_new_run_azure_3_cancel(sim: Sim) -> None:
    prepare(sim)
    sim.start(wait=False)
    sim.advance("PT1M")
    sim.cancel()
    second = sim.start()
    assert code(second) == "Completed"
    assert len(sim.history()["history"]) == 2
    assert latest_props(second)["progress"]["successfulInstanceCount"] == 8


def test_cancel_returns_the_orchestrator_none_when_idle_azure_3_cancel(sim: Sim) -> None:
    from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import KEY

    prepare(sim)
    assert sim.call(orchestrator.cancel, KEY) is None


# == scaling in during a run ==========================================================================


def test_scaling_in_a_pending_instance_drops_it_from_the_run(sim: Sim) -> None:
    prepare(sim)
    sim.start(wait=False)
    sim.advance("PT1M")
    sim.vmss(names=[f"w{i}" for i in range(9)])  # w9 was pending (batch 5)
    sim.advance("PT1H")
    view = sim.view()
    assert code(view) == "Completed"
    assert all("w9" not in b for b in batch_names(view))


def test_scaling_in_an_instance_in_flight_is_refused_and_the_run_goes_on(sim: Sim) -> None:
    """An instance being reimaged cannot be deleted (409); pending instances can, and leave the run."""
    prepare(sim)
    sim.start(wait=False)
    sim.advance("PT1M")
    with pytest.raises(Conflict, match=r"^instances: Operation 'delete' .* since instance\(s\) 5 are being upgraded"):
        sim.vmss(names=[f"w{i}" for i in range(10) if i != 5])  # w5 is being reimaged in batch 1
    sim.vmss(names=[f"w{i}" for i in range(10) if i != 9])  # w9 waits for batch 5: it may go
    sim.advance("PT1H")
    view = sim.view()
    assert code(view) == "Completed"
    assert latest_props(view)["progress"] == {
        "successfulInstanceCount": 9,
        "failedInstanceCount": 0,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 0,
    }
    assert all(end is not None for _start, end in batch_times(view))


# == model changes (azure-behaviour §4, design.md precise points) ======================================


def test_model_change_automatic_mode_all_instances_at_once_design_precise(sim: Sim) -> None:
    sim.vmss(10)
    sim.policy(mode="Automatic")
    sim.vmss(extensions=[extension("cfg")])
    sim.advance("PT2M59S")
    assert sim.run()["status"] == "RollingForward"
    sim.advance("PT1S")
    run = sim.run()
    assert run["status"] == "Completed"
    assert len(run["batches"]) == 1 and len(run["batches"][0]["instances"]) == 10
    assert (run["batches"][0]["start"], run["batches"][0]["end"]) == (run["start"], run["start"] + 180)
    assert all(i["model_version"] == 2 for i in sim.instances().values())
    sim.advance("PT1M")
    assert {i["health"] for i in sim.instances().values()} == {"Healthy"}
    assert sim.history()["history"] == []


def test_model_change_rolling_mode_goes_in_batches_visible_in_latest_not_history_azure_4(sim: Sim) -> None:
    sim.vmss(10)
    sim.policy(mode="Rolling")
    sim.vmss(extensions=[extension("cfg")])
    sim.advance("PT5M")
    assert sum(i["model_version"] == 2 for i in sim.instances().values()) == 2
    sim.advance("PT1H")
    read = sim.history()
    assert read["history"] == []
    latest = read["latest"]["properties"]
    assert latest["runningStatus"]["code"] == "Completed"
    assert latest["progress"]["successfulInstanceCount"] == 10
    assert [len(b["instances"]) for b in sim.run()["batches"]] == [2] * 5
    assert {i["os_disk"]["image_version"] for i in sim.instances().values()} == {"1.0.0"}


def test_model_change_manual_mode_touches_only_updated_instances_azure_4(sim: Sim) -> None:
    sim.vmss(10)
    sim.vmss(extensions=[extension("cfg")])
    sim.advance("PT1H")
    assert sim.runs() == []
    assert {i["model_version"] for i in sim.instances().values()} == {1}
    sim.vmss(update_instances=["w1", "w3"])
    sim.advance("PT4M")
    versions = {n: i["model_version"] for n, i in sim.instances().items()}
    assert {n for n, v in versions.items() if v == 2} == {"w1", "w3"}
    sim.vmss(update_instances=["all"])
    sim.advance("PT4M")
    assert {i["model_version"] for i in sim.instances().values()} == {2}
    assert sim.history()["history"] == []
