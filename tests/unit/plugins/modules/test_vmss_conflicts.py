# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refusals through the modules' main() (conventions habit 8): each failed result carries Azure's error as
``error: {code, message}`` beside ``msg`` (design.md, round 2 interface additions), and writes nothing.
Rules: azure-behaviour-2 §9 (CF), §10 (ER), D1; azure-behaviour §1."""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.modules import (
    vm_image,
    vmss,
    vmss_info,
    vmss_os_rolling_upgrade,
    vmss_upgrade_history,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._harness import Call, dump, failed, ok

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
PROBE = {"protocol": "http", "port": 80, "request_path": "/health"}
NAMES = [f"web-{i:02d}" for i in range(10)]
APP = {"name": "app", "publisher": "Microsoft.Azure.Extensions", "type": "CustomScript", "type_handler_version": "2.1"}


def running(call: Call, mode: str = "Rolling", **vmss_args: Any) -> None:
    """Ten instances on 1.0.0 in ``mode``, 1.1.0 published, an OS run left RollingForward."""
    ok(call(vm_image, **UBUNTU, version="1.0.0"))
    ok(call(vmss, image={**UBUNTU, "version": "latest"}, health_probe=PROBE, instances=NAMES, **vmss_args))
    ok(call(vmss_upgrade_policy, mode=mode))
    ok(call(vm_image, **UBUNTU, version="1.1.0"))
    started = ok(call(vmss_os_rolling_upgrade, wait=False))
    assert started["rolling_upgrade"]["properties"]["runningStatus"]["code"] == "RollingForward"


def in_progress(op: str) -> str:
    return (
        f"Operation '{op}' is not allowed on Virtual Machine Scale Set 'web' since a rolling upgrade is in progress. "
        "Cancel the rolling upgrade or wait for it to complete."
    )


def test_vmss_model_change_during_a_run_fails_with_azures_409_azure_behaviour_2_cf_2_d1(call: Call, store: str) -> None:
    running(call)
    before = dump(store)
    result = failed(call(vmss, extensions=[APP]))
    assert result["error"] == {"code": "OperationNotAllowed", "message": in_progress("PUT")}
    assert result["msg"] == in_progress("PUT")
    assert dump(store) == before
    # The same in check mode: refused, nothing written.
    assert failed(call(vmss, check=True, extensions=[APP]))["error"]["code"] == "OperationNotAllowed"
    assert dump(store) == before
    # A second start is the module's idempotent answer, not a failure (D1).
    again = ok(call(vmss_os_rolling_upgrade, wait=False))
    assert again["changed"] is False


def test_vmss_model_change_in_manual_mode_during_a_run_is_accepted_azure_behaviour_2_d1(call: Call) -> None:
    running(call, mode="Manual")
    changed = ok(call(vmss, extensions=[APP]))
    assert changed["changed"] is True
    assert all(not i["latest_model_applied"] for i in changed["instances"])


def test_vmss_absent_during_a_run_fails_then_removes_everything_azure_behaviour_2_cf_3(call: Call, store: str) -> None:
    running(call)
    before = dump(store)
    result = failed(call(vmss, state="absent"))
    assert result["error"] == {"code": "OperationNotAllowed", "message": in_progress("DELETE")}
    assert dump(store) == before
    ok(call(vmss_os_rolling_upgrade, state="cancelled"))
    assert ok(call(vmss, state="absent"))["changed"] is True
    assert ok(call(vmss, state="absent"))["changed"] is False
    ok(call(vmss, image={**UBUNTU, "version": "latest"}, health_probe=PROBE, instances=NAMES))
    history = ok(call(vmss_upgrade_history))
    assert history["history"] == [] and history["latest"] is None


def test_vmss_removing_the_probe_in_rolling_mode_fails_with_azures_400_azure_behaviour_1(
    call: Call, store: str
) -> None:
    ok(call(vm_image, **UBUNTU, version="1.0.0"))
    ok(call(vmss, image={**UBUNTU, "version": "latest"}, health_probe=PROBE, instances=NAMES))
    ok(call(vmss_upgrade_policy, mode="Rolling"))
    before = dump(store)
    result = failed(call(vmss, health_probe={}))
    assert result["error"] == {
        "code": "BadRequest",
        "message": "Rolling Upgrade mode is not supported for this Virtual Machine Scale Set because a health probe "
        "or health extension was not provided.",
    }
    assert result["msg"].startswith(result["error"]["message"])
    assert [f["code"] for f in result["findings"]] == ["HealthSourceMissing"]
    assert dump(store) == before


def test_faulted_run_fails_the_task_with_azures_error_azure_behaviour_2_er_3_er_5(call: Call) -> None:
    ok(call(vm_image, **UBUNTU, version="1.0.0"))
    faults = [{"type": "boot_unhealthy", "instances": ["web-00", "web-05", "web-01"]}]
    ok(
        call(
            vmss,
            image={**UBUNTU, "version": "latest"},
            health_probe=PROBE,
            instances=NAMES,
            simulation={"faults": faults},
        )
    )
    ok(call(vm_image, **UBUNTU, version="1.1.0"))
    result = failed(call(vmss_os_rolling_upgrade))
    error = result["rolling_upgrade"]["properties"]["error"]
    assert result["error"] == {"code": error["code"], "message": error["message"]}
    assert error["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    assert [d["target"] for d in error["details"]] == [f"web/virtualMachines/{i}" for i in (0, 1, 5)]


def test_every_refusal_names_an_azure_code_design_round_2(call: Call) -> None:
    """Not only the new rules: a missing scale set and a bad option fail with Azure's codes too."""
    no_store = failed(call(vmss_info, name="nope"))  # a read never creates the store
    assert no_store["error"]["code"] == "ServiceUnavailable"
    ok(call(vm_image, **UBUNTU, version="1.0.0"))
    not_found = failed(call(vmss_os_rolling_upgrade, name="nope"))
    assert not_found["error"]["code"] == "ResourceNotFound"
    bad = failed(call(vmss, instances=NAMES, simulation={"reimage_duration": "soon"}))
    assert bad["error"]["code"] == "InvalidParameter" and bad["error"]["message"] == bad["msg"]
