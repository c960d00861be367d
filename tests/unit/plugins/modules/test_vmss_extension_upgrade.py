# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vmss_extension_upgrade through main(): Azure's extensionRollingUpgrade (azure-behaviour-2 §7, EX-1…EX-6, D13)."""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.modules import (
    sim_clock,
    vm_image,
    vmss,
    vmss_extension_upgrade,
    vmss_os_rolling_upgrade,
    vmss_upgrade_history,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._harness import Call, dump, failed, ok

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
PROBE = {"protocol": "http", "port": 80, "request_path": "/health"}
NAMES = [f"web-{i:02d}" for i in range(10)]
AGENT = "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent"
MONITOR = {"name": "monitor", "publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorLinuxAgent",
           "type_handler_version": "1.0"}  # fmt: skip


def released(call: Call, *versions: str, **simulation: Any) -> dict[str, Any]:
    return ok(call(vmss, simulation={"extension_versions": {AGENT: list(versions)}, **simulation}))


def fleet(call: Call, **simulation: Any) -> None:
    """Ten instances with the monitoring agent 1.0, in Rolling mode; then the publisher releases 1.1."""
    ok(call(vm_image, **UBUNTU, version="1.0.0"))
    created = ok(
        call(
            vmss,
            image={**UBUNTU, "version": "latest"},
            health_probe=PROBE,
            extensions=[MONITOR],
            instances=NAMES,
            simulation={"extension_versions": {AGENT: ["1.0"]}},
        )
    )
    assert all("extension_versions" not in i for i in created["instances"])  # on typeHandlerVersion
    ok(call(vmss_upgrade_policy, mode="Rolling"))
    released(call, "1.0", "1.1", "2.0", **simulation)


def versions(result: dict[str, Any]) -> list[str]:
    return [i.get("extension_versions", {}).get("monitor", "1.0") for i in result["instances"]]


def test_outdated_instances_move_to_the_newest_minor_of_their_major_in_batches_ex_1_ex_3(call: Call) -> None:
    fleet(call)
    result = ok(call(vmss_extension_upgrade))
    assert result["changed"] is True and result["run_kind"] == "extension"
    # EX-1: the newest minor of major 1 (2.0 is another major and is never taken).
    assert versions(result) == ["1.1"] * 10
    status = result["rolling_upgrade"]["properties"]
    assert status["runningStatus"]["code"] == "Completed"
    assert status["progress"]["successfulInstanceCount"] == 10
    # EX-3: the rolling policy's 20% batches, the health-gated timeline of a model update (4 min per batch).
    assert [len(b["instances"]) for b in result["batches"]] == [2] * 5
    assert result["batches"][-1]["end"] == "2025-01-01T00:20:00Z"
    # Nothing else changed on the instances: same OS disk, still on the current model.
    assert {i["os_disk"]["image_version"] for i in result["instances"]} == {"1.0.0"}
    assert all(i["latest_model_applied"] for i in result["instances"])


def test_nothing_to_upgrade_is_changed_false_and_starts_no_run_ex_1(call: Call, store: str) -> None:
    fleet(call)
    ok(call(vmss_extension_upgrade))
    before = dump(store)
    again = ok(call(vmss_extension_upgrade))
    assert again["changed"] is False and "already runs the latest" in again["msg"]
    assert dump(store) == before


def test_check_mode_plans_the_run_and_writes_nothing(call: Call, store: str) -> None:
    fleet(call)
    before = dump(store)
    preview = ok(call(vmss_extension_upgrade, check=True))
    assert preview["changed"] is True
    assert len(preview["plan"]["batches"]) == 5 and preview["plan"]["status"] == "Completed"
    assert dump(store) == before


def test_extension_runs_are_latest_but_never_in_os_upgrade_history_ex_4(call: Call) -> None:
    fleet(call)
    ok(call(vmss_extension_upgrade))
    history = ok(call(vmss_upgrade_history))
    assert history["history"] == []
    assert history["latest"]["properties"]["runningStatus"]["code"] == "Completed"


def test_one_slot_an_os_start_during_an_extension_run_is_409_and_the_reverse_ex_5_d13(call: Call, store: str) -> None:
    fleet(call)
    ok(call(vm_image, **UBUNTU, version="1.1.0"))
    started = ok(call(vmss_extension_upgrade, wait=False))
    assert started["rolling_upgrade"]["properties"]["runningStatus"]["code"] == "RollingForward"
    before = dump(store)
    refused = failed(call(vmss_os_rolling_upgrade, wait=False))
    assert refused["error"] == {
        "code": "OperationNotAllowed",
        "message": "Operation 'osRollingUpgrade' is not allowed on Virtual Machine Scale Set 'web' since another "
        "rolling upgrade operation is in progress.",
    }
    assert dump(store) == before
    # D1: the same kind again is the module's idempotent answer.
    again = ok(call(vmss_extension_upgrade, wait=False))
    assert again["changed"] is False and again["run_kind"] == "extension"
    # EX-6: cancel stops whichever kind runs.
    cancelled = ok(call(vmss_os_rolling_upgrade, state="cancelled"))
    assert cancelled["rolling_upgrade"]["properties"]["runningStatus"]["code"] == "Cancelled"
    # The reverse: an OS run holds the slot, an extension start is 409.
    ok(call(vmss_os_rolling_upgrade, wait=False))
    before = dump(store)
    refused = failed(call(vmss_extension_upgrade, wait=False))
    assert refused["error"]["code"] == "OperationNotAllowed"
    assert "'extensionRollingUpgrade' is not allowed" in refused["error"]["message"]
    assert dump(store) == before


def test_a_failed_extension_keeps_its_version_and_the_run_faults_with_azures_codes_ex_3_ex_4(call: Call) -> None:
    fleet(
        call,
        faults=[{"type": "extension_failure", "extension": "monitor", "instances": ["web-00", "web-05", "web-01"]}],
    )
    result = failed(call(vmss_extension_upgrade))
    # ER-2 via EX-4: three of ten failed by the second batch, over the 20% upgraded limit.
    assert result["error"]["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    status = result["rolling_upgrade"]["properties"]
    assert status["runningStatus"]["code"] == "Faulted"
    by_name = {i["name"]: i for i in result["instances"]}
    # EX-3: "failed upgrades are rolled back and retried later": the old version stays.
    assert "extension_versions" not in by_name["web-00"]
    assert by_name["web-00"]["result"] == "failed"
    assert by_name["web-00"]["extensions"] == [{"name": "monitor", "provisioning_state": "Failed"}]


def test_new_instances_get_the_released_version_and_are_not_candidates_ex_1(call: Call) -> None:
    fleet(call)
    scaled = ok(call(vmss, instances=[*NAMES, "web-10"]))
    new = next(i for i in scaled["instances"] if i["name"] == "web-10")
    assert new["extension_versions"] == {"monitor": "1.1"}
    result = ok(call(vmss_extension_upgrade))
    by_name = {i["name"]: i for i in result["instances"]}
    assert by_name["web-10"]["result"] == "skipped"


def test_a_platform_os_run_due_during_an_extension_run_starts_when_it_ends_ex_5(call: Call) -> None:
    fleet(call, first_rollout_delay="PT10M")
    ok(call(vmss_upgrade_policy, automatic_os_upgrade={"enabled": True}))
    ok(call(vm_image, **UBUNTU, version="1.1.0"))  # the platform's run falls due at 00:10
    ok(call(vmss_extension_upgrade, wait=False))  # 00:00 to 00:20
    events = ok(call(sim_clock, advance="PT2H"))["events"]
    ends = [e for e in events if e["type"] == "RollingUpgradeCompleted"]
    assert ends[0]["time"] == "2025-01-01T00:20:00Z" and ends[0]["run_kind"] == "extension"
    started = next(e for e in events if e["type"] == "RollingUpgradeStarted")
    assert (started["time"], started["started_by"], started["target_version"]) == (
        "2025-01-01T00:20:00Z",
        "Platform",
        "1.1.0",
    )
    history = ok(call(vmss_upgrade_history))["history"]
    assert [h["properties"]["startedBy"] for h in history] == ["Platform"]  # the extension run is not there (EX-4)


def test_the_platform_upgrades_automatic_extensions_once_the_slot_is_free_ex_2_ex_5(call: Call) -> None:
    fleet(call)  # Rolling mode, the agent 1.0 with 1.1 released
    automatic = {**MONITOR, "enable_automatic_upgrade": True}
    config = {"name": "config", "publisher": "Microsoft.Azure.Extensions", "type": "CustomScript",
              "type_handler_version": "2.1"}  # fmt: skip
    ok(call(vmss, extensions=[automatic, config]))  # a model change: Rolling mode rolls it out (installing 1.1)
    ok(call(sim_clock, advance="PT1H"))
    ok(call(vm_image, **UBUNTU, version="1.1.0"))
    ok(call(vmss_os_rolling_upgrade, wait=False))  # 01:00, holds the slot
    both = {AGENT: ["1.0", "1.1", "1.2"], "Microsoft.Azure.Extensions.CustomScript": ["2.1", "2.2"]}
    ok(call(vmss, simulation={"extension_versions": both}))  # released during the run: the platform waits (EX-5)
    ok(call(vmss_os_rolling_upgrade, state="cancelled", wait=False))  # the batch in flight ends at 01:04
    events = ok(call(sim_clock, advance="PT2H"))["events"]
    cancelled = next(e for e in events if e["type"] == "RollingUpgradeCancelled")
    started = next(e for e in events if e["type"] == "RollingUpgradeStarted")
    assert cancelled["time"] == started["time"] == "2025-01-01T01:04:00Z"
    assert (started["started_by"], started["run_kind"], started["extensions"]) == ("Platform", "extension", ["monitor"])
    state = ok(call(vmss))
    assert {i["extension_versions"]["monitor"] for i in state["instances"]} == {"1.2"}
    # Only enableAutomaticUpgrade extensions (EX-2): config stays 2.1 except on the two instances the OS run
    # reimaged, which installed what was released then.
    assert sorted(i["name"] for i in state["instances"] if "config" in i["extension_versions"]) == ["web-00", "web-05"]
    manual = ok(call(vmss_extension_upgrade))  # the user's start takes every extension (EX-1)
    assert {i["extension_versions"]["config"] for i in manual["instances"]} == {"2.2"}


def test_in_manual_mode_the_platform_starts_no_extension_run_ex_7(call: Call) -> None:
    fleet(call)
    ok(call(vmss_upgrade_policy, mode="Manual"))
    ok(call(vmss, extensions=[{**MONITOR, "enable_automatic_upgrade": True}], update_instances=["all"]))
    ok(call(sim_clock, advance="PT1H"))
    released(call, "1.0", "1.1", "1.3")
    events = ok(call(sim_clock, advance="PT2H"))["events"]
    assert [e for e in events if e["type"] == "RollingUpgradeStarted"] == []


def test_extension_runs_leave_protected_instances_alone_azure_behaviour_2_ip_4_d5(call: Call) -> None:
    fleet(call)
    hosts: list[Any] = [*NAMES]
    hosts[3] = {"name": "web-03", "protection": {"from_scale_set_actions": True}}
    ok(call(vmss, instances=hosts))
    result = ok(call(vmss_extension_upgrade))
    by_name = {i["name"]: i for i in result["instances"]}
    assert by_name["web-03"]["result"] == "protected"
    assert by_name["web-03"].get("extension_versions", {}).get("monitor", "1.0") == "1.0"
    assert versions(result).count("1.1") == 9
    status = result["rolling_upgrade"]["properties"]
    assert status["progress"]["successfulInstanceCount"] == 9 and status["progress"]["failedInstanceCount"] == 0
    # D5: N stays 10, batches at most 2; web-08 is alone in update domain 3.
    assert [b["instances"] for b in result["batches"]][3] == ["web-08"]
