# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flexible orchestration (azure-behaviour-2 §11, FX-1 … FX-9; design.md round 2 ``orchestration_mode``).

Driven through the same actions the ``vmss`` module and the ARM endpoint call. Each test names its rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.feature_registration import register_feature
from ansible_collections.azsim.vmss.plugins.module_utils._actions.inventory import inventory_hosts
from ansible_collections.azsim.vmss.plugins.module_utils._actions.lifecycle_hooks import (
    lifecycle_hook_event,
    lifecycle_hook_events,
)
from ansible_collections.azsim.vmss.plugins.module_utils._checks.requirements import RequirementsNotMet
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    HEALTH_EXTENSION,
    SUB,
    Sim,
    at,
    batch_names,
    batch_times,
    make_sim,
    sim,
)

VM_NAME = re.compile(r"^web_[0-9a-f]{8}$")


def flexible(sim: Sim, n: int = 4, **options: Any) -> dict[str, Any]:
    """A Flexible scale set watched by the Application Health extension (FX-1)."""
    options.setdefault("extensions", [dict(HEALTH_EXTENSION)])
    return sim.vmss(n, orchestration_mode="Flexible", **options)


def register_flex_auto_os(sim: Sim) -> None:
    params = {
        "namespace": "Microsoft.Compute",
        "feature": "VmssFlexAutoOSUpgrade",
        "state": "registered",
        "register_provider": False,
        "wait": True,
    }
    sim.act(register_feature, params)


# -- the option: chosen at creation, fixed after (design.md round 2) -----------------------------------


def test_flexible_is_chosen_at_creation_and_shows_in_the_model(sim: Sim) -> None:
    result = flexible(sim)
    assert result["vmss"]["properties"]["orchestrationMode"] == "Flexible"
    again = flexible(sim)
    assert again["before"] == again["after"], "restating the mode changes nothing"


def test_uniform_stays_as_it_was_without_the_field(sim: Sim) -> None:
    """Uniform is the default; its REST model is the one it had before the option existed."""
    created = sim.vmss(2)
    assert "orchestrationMode" not in created["vmss"]["properties"]
    restated = sim.vmss(orchestration_mode="Uniform")
    assert restated["before"] == restated["after"]


@pytest.mark.parametrize(("first", "then"), [("Flexible", "Uniform"), ("Uniform", "Flexible")])
def test_the_mode_cannot_change_after_creation(sim: Sim, first: str, then: str) -> None:
    """Azure's PropertyChangeNotAllowed (409): nothing is written."""
    sim.vmss(2, orchestration_mode=first, extensions=[dict(HEALTH_EXTENSION)])
    before = sim.dump()
    with pytest.raises(Conflict) as caught:
        sim.vmss(orchestration_mode=then)
    assert caught.value.azure_error() == {
        "code": "PropertyChangeNotAllowed",
        "message": "Changing property 'orchestrationMode' is not allowed.",
    }
    assert "orchestration_mode" in caught.value.message
    assert sim.dump() == before


def test_flexible_needs_api_version_2021_03_01_azure_behaviour_2_fx_9(sim: Sim) -> None:
    with pytest.raises(InvalidInput, match="2021-03-01"):
        flexible(sim, api_version="2020-12-01")
    assert sim.record() is None
    flexible(sim, api_version="2021-03-01")
    with pytest.raises(InvalidInput, match="api_version"):
        sim.vmss(api_version="2020-06-01")


def test_service_fabric_is_not_supported_on_flexible_azure_behaviour_2_fx_9(sim: Sim) -> None:
    with pytest.raises(InvalidInput, match="service_fabric"):
        flexible(sim, service_fabric={"durability": "Silver", "extension_durability": None, "stateless_only": None})
    assert sim.record() is None


# -- upgrade policy on Flexible (FX-1, FX-2, FX-3, D7) ------------------------------------------------


def test_rolling_on_flexible_needs_the_health_extension_not_a_probe_azure_behaviour_2_fx_1(sim: Sim) -> None:
    sim.vmss(4, orchestration_mode="Flexible", probe=True)
    before = sim.dump()
    with pytest.raises(RequirementsNotMet) as caught:
        sim.policy(mode="Rolling")
    assert caught.value.details["findings"][0]["code"] == "HealthSourceMissing"
    assert caught.value.details["findings"][0]["message"] == (
        "Rolling Upgrade mode is not supported for this Virtual Machine Scale Set because a health probe or "
        "health extension was not provided."
    )
    assert sim.dump() == before
    sim.vmss(
        extensions=[dict(HEALTH_EXTENSION)],
        health_probe={"id": None, "protocol": None, "port": None, "request_path": None, "load_balancer_sku": None},
    )
    assert sim.policy(mode="Rolling")["upgrade_policy"]["mode"] == "Rolling"


def test_a_uniform_scale_set_may_keep_a_probe_alone_azure_behaviour_2_fx_1(sim: Sim) -> None:
    """The contrast: on Uniform the load balancer probe is a health source (azure-behaviour §1)."""
    sim.vmss(4, probe=True)
    assert sim.policy(mode="Rolling")["upgrade_policy"]["mode"] == "Rolling"


def test_flexible_rolling_keeps_its_extension_through_model_changes_azure_behaviour_2_fx_1(sim: Sim) -> None:
    """Removing the extension while a probe stays is still losing the only source Flexible accepts."""
    flexible(sim, probe=True, health_probe=None)
    sim.vmss(
        health_probe={"id": None, "protocol": "tcp", "port": 22, "request_path": None, "load_balancer_sku": "Standard"}
    )
    sim.policy(mode="Rolling")
    with pytest.raises(RequirementsNotMet, match="health probe or health extension"):
        sim.vmss(extensions=[])


def test_automatic_os_upgrade_on_flexible_needs_the_feature_azure_behaviour_2_fx_2(sim: Sim) -> None:
    flexible(sim)
    before = sim.dump()
    with pytest.raises(InvalidInput) as caught:
        sim.enable_automatic()
    assert caught.value.azure_error() == {
        "code": "BadRequest",
        "message": "Automatic OS Upgrade is not supported for Virtual Machine Scale Sets with Flexible orchestration "
        "mode.",
    }
    assert "VmssFlexAutoOSUpgrade" in caught.value.message
    assert sim.dump() == before
    register_flex_auto_os(sim)
    enabled = sim.enable_automatic()
    assert enabled["upgrade_policy"]["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] is True


def test_automatic_os_upgrade_on_flexible_with_only_a_probe_is_refused_azure_behaviour_2_fx_1(sim: Sim) -> None:
    sim.vmss(4, orchestration_mode="Flexible", probe=True)
    register_flex_auto_os(sim)
    with pytest.raises(RequirementsNotMet) as caught:
        sim.enable_automatic()
    assert [f["code"] for f in caught.value.details["findings"] if f["severity"] == "error"] == ["HealthSourceMissing"]


def test_uniform_needs_no_flexible_feature_azure_behaviour_2_fx_2(sim: Sim) -> None:
    sim.vmss(4)
    assert sim.enable_automatic()["upgrade_policy"]["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] is True


def test_automatic_os_upgrade_and_max_surge_together_on_flexible_azure_behaviour_2_fx_3(sim: Sim) -> None:
    flexible(sim)
    register_flex_auto_os(sim)
    sim.rolling(max_surge=True)  # alone, maxSurge is fine
    before = sim.dump()
    with pytest.raises(InvalidInput) as caught:
        sim.enable_automatic()
    assert caught.value.azure_error()["code"] == "BadRequest"
    assert "MaxSurge" in caught.value.azure_error()["message"]
    assert sim.dump() == before
    sim.rolling(max_surge=False)
    sim.enable_automatic()
    with pytest.raises(InvalidInput, match="max_surge"):
        sim.rolling(max_surge=True)


def test_rollback_failed_instances_is_uniform_only_azure_behaviour_2_d7_fx_4(sim: Sim) -> None:
    """D7 settles FX-4's open question: set on Flexible, it is 400 InvalidParameter; its default is accepted."""
    flexible(sim)
    sim.rolling(rollback_failed_instances_on_policy_breach=False)
    before = sim.dump()
    with pytest.raises(InvalidInput) as caught:
        sim.rolling(rollback_failed_instances_on_policy_breach=True)
    assert caught.value.azure_error()["code"] == "InvalidParameter"
    assert "rollbackFailedInstancesOnPolicyBreach" in caught.value.azure_error()["message"]
    assert sim.dump() == before


# -- batches by fault domain (FX-5, CZ-7) --------------------------------------------------------------


def test_flexible_batches_follow_fault_domains_not_update_domains_azure_behaviour_2_fx_5_cz_7(sim: Sim) -> None:
    """Six VMs at 50%: batches of at most 3, cut at every fault domain (slot % 3); Uniform cuts at UDs (slot % 5)."""
    flexible(sim, 6)
    sim.rolling(max_batch_instance_percent=50)
    sim.publish("1.1.0")
    result = sim.start()
    assert batch_names(result) == [["w0", "w3"], ["w1", "w4"], ["w2", "w5"]]
    # docs/how-a-run-proceeds.md "Flexible orchestration": three batches of 4 minutes.
    assert batch_times(result) == [(at(0), at(4)), (at(4), at(8)), (at(8), at(12))]
    assert [b["fault_domain"] for b in result["batches"]] == [0, 1, 2]
    assert all(b["update_domain"] is None for b in result["batches"]), "Flexible has no update domains"
    by_name = {i["name"]: i for i in result["instances"]}
    assert by_name["w4"]["fault_domain"] == 1 and by_name["w4"]["update_domain"] is None


def test_uniform_batches_still_follow_update_domains_azure_behaviour_2_fx_5(sim: Sim) -> None:
    sim.vmss(6)
    sim.rolling(max_batch_instance_percent=50)
    sim.publish("1.1.0")
    result = sim.start()
    assert batch_names(result) == [["w0", "w5"], ["w1"], ["w2"], ["w3"], ["w4"]]
    assert all("fault_domain" not in b for b in result["batches"])


def test_flexible_zonal_batches_go_zone_by_zone_within_fault_domains_azure_behaviour_2_cz_7(sim: Sim) -> None:
    """CZ-2 with FD in place of UD: zone 1's VMs first, a batch never spans two fault domains."""
    flexible(sim, 6, zones=["1", "2"])
    sim.rolling(max_batch_instance_percent=50)
    sim.publish("1.1.0")
    result = sim.start()
    zone = {n: i["zone"] for n, i in sim.instances().items()}
    assert [[zone[n] for n in b] for b in batch_names(result)] == [["1"], ["1"], ["1"], ["2"], ["2"], ["2"]]
    crossed = sim.rolling(enable_cross_zone_upgrade=True)
    assert crossed["upgrade_policy"]["rollingUpgradePolicy"]["enableCrossZoneUpgrade"] is True
    sim.publish("1.2.0")
    result = sim.start()
    assert batch_names(result) == [["w0", "w3"], ["w4", "w1"], ["w2", "w5"]], "CZ-3: by FD, zones mixed"


def test_update_domains_cannot_be_given_on_flexible_azure_behaviour_2_fx_5(sim: Sim) -> None:
    with pytest.raises(InvalidInput, match=r"instances\[1\]\.update_domain"):
        flexible(sim, names=["w0", {"name": "w1", "update_domain": 2}])
    assert sim.record() is None


# -- identifiers are VM names (FX-6) -------------------------------------------------------------------


def test_flexible_instance_ids_are_vm_names_from_the_seed_azure_behaviour_2_fx_6(
    make_sim: Callable[[str], Sim],
) -> None:
    one, two, other = make_sim("one"), make_sim("two"), make_sim("other")
    ids = [i["instance_id"] for i in flexible(one)["instances"]]
    assert all(VM_NAME.match(i) for i in ids), ids
    assert len(set(ids)) == 4
    assert [i["instance_id"] for i in flexible(two)["instances"]] == ids, "same store seed, same names"
    reseeded = flexible(other, simulation={"seed": 7})["instances"]
    assert [i["instance_id"] for i in reseeded] != ids, "another seed, other names"
    assert [i["name"] for i in reseeded] == ["w0", "w1", "w2", "w3"], "host names stay the inventory's"


def test_run_results_and_approval_use_vm_names_azure_behaviour_2_fx_6(sim: Sim) -> None:
    """Deferral (AP rules) on Flexible: approve takes VM names and returns them; results name VMs."""
    flexible(sim, 5)
    register_flex_auto_os(sim)
    sim.enable_automatic(os_rolling_upgrade_deferral=True)
    sim.publish("1.1.0")
    sim.advance("PT3H")
    vm = {name: i["instance_id"] for name, i in by_vm_name(sim).items()}
    with pytest.raises(InvalidInput, match="instance_ids"):
        sim.approve(["0"])  # a Uniform-style id is not a Flexible VM's id
    approved = sim.approve([vm["w0"]])
    assert approved["approved"] == [vm["w0"]]
    sim.advance("PT4M")
    results = {i["instance_id"]: i["result"] for i in sim.view()["instances"]}
    assert results[vm["w0"]] == "upgraded"
    assert set(results) == set(vm.values())


def test_protected_vms_are_named_in_the_refusal_azure_behaviour_2_fx_6_ip_7(sim: Sim) -> None:
    protect = {"from_scale_set_actions": True, "from_scale_in": None}
    flexible(sim, names=["w0", {"name": "w1", "protection": protect}])
    vm = {name: i["instance_id"] for name, i in by_vm_name(sim).items()}
    with pytest.raises(Conflict) as caught:
        sim.vmss(update_instances=["w1"])
    assert caught.value.azure_error()["message"].endswith(f"protected from scale set action: {vm['w1']}.")


def test_faulted_run_details_target_vm_names_azure_behaviour_2_fx_6_er_5(sim: Sim) -> None:
    flexible(sim, 5, simulation={"faults": [{"type": "boot_unhealthy", "instances": ["w0"]}]})
    sim.rolling(max_unhealthy_upgraded_instance_percent=0)
    sim.publish("1.1.0")
    result = sim.start()
    error = result["rolling_upgrade"]["properties"]["error"]
    vm = by_vm_name(sim)["w0"]["instance_id"]
    assert [d["target"] for d in error["details"]] == [f"web/virtualMachines/{vm}"]


def by_vm_name(sim: Sim) -> dict[str, dict[str, Any]]:
    """The public instances (as the vmss module returns them) by host name."""
    return {i["name"]: i for i in sim.view()["instances"]}


# -- instance protection needs 2023-09-01 on Flexible (FX-8) ------------------------------------------


def test_protection_on_flexible_needs_api_2023_09_01_azure_behaviour_2_fx_8(sim: Sim) -> None:
    protect = {"from_scale_set_actions": None, "from_scale_in": True}
    flexible(sim, 2, api_version="2023-07-01")
    before = sim.dump()
    with pytest.raises(InvalidInput, match="2023-09-01"):
        sim.vmss(names=["w0", {"name": "w1", "protection": protect}])
    assert sim.dump() == before
    result = sim.vmss(names=["w0", {"name": "w1", "protection": protect}], api_version="2023-09-01")
    assert result["instances"][1]["protection_policy"]["protectFromScaleIn"] is True


def test_protection_on_uniform_needs_no_newer_api_azure_behaviour_2_fx_8(sim: Sim) -> None:
    protect = {"from_scale_set_actions": None, "from_scale_in": True}
    result = sim.vmss(names=["w0", {"name": "w1", "protection": protect}], api_version="2021-03-01")
    assert result["instances"][1]["protection_policy"]["protectFromScaleIn"] is True


def test_lifecycle_hook_targets_are_vm_resources_decided_by_vm_name_azure_behaviour_2_fx_6_lh_14(sim: Sim) -> None:
    """LH-14: a Flexible VM target is ``…/Microsoft.Compute/virtualMachines/{vmName}``; PS's -InstanceId is the name."""
    flexible(sim, 5, api_version="2025-11-01", lifecycle_hooks=[{"type": "UpgradeAutoOSRollingBatchStarting"}])
    register_flex_auto_os(sim)
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT3H")
    vm = {name: i["instance_id"] for name, i in by_vm_name(sim).items()}
    listed = sim.act(lifecycle_hook_events, {"resource_group": "rg", "name": "web", "state": None})["events"]
    [target] = listed[0]["properties"]["targetResources"]
    base = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    assert target["resource"]["id"] == f"{base}/virtualMachines/{vm['w0']}"
    params = {"resource_group": "rg", "name": "web", "event": None, "type": "UpgradeAutoOSRollingBatchStarting"}
    with pytest.raises(InvalidInput, match=vm["w1"]):
        sim.act(lifecycle_hook_event, {**params, "state": "approved", "instance_ids": [vm["w1"]], "wait_until": None})
    decided = sim.act(
        lifecycle_hook_event, {**params, "state": "rejected", "instance_ids": [vm["w0"]], "wait_until": None}
    )
    assert decided["events"][0]["properties"]["targetResources"][0]["actionState"] == "Rejected"
    assert {i["instance_id"]: i["result"] for i in sim.view()["instances"]}[vm["w0"]] == "rejected_by_hook"


def test_inventory_hosts_of_a_flexible_scale_set_are_vm_resources_azure_behaviour_2_fx_6(sim: Sim) -> None:
    """The inventory plugin's azure_rm variables name the VM as Azure does for Flexible."""
    flexible(sim, 2)
    vm = by_vm_name(sim)["w1"]["instance_id"]
    listed = sim.call(lambda store: inventory_hosts(Call(store, SUB, False)), commit=False)
    hosts = {h["name"]: h["hostvars"] for h in listed}
    assert hosts["w1"]["name"] == vm and hosts["w1"]["azsim_instance_id"] == vm
    assert hosts["w1"]["id"].endswith(f"/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{vm}")
    assert hosts["w1"]["azsim_update_domain"] is None


def test_a_manual_upgrade_of_a_vm_in_flight_names_the_vm_azure_behaviour_2_fx_6_cf_4(sim: Sim) -> None:
    flexible(sim, 5)
    sim.publish("1.1.0")
    sim.start(wait=False)
    vm = by_vm_name(sim)["w0"]["instance_id"]
    with pytest.raises(Conflict) as caught:
        sim.vmss(update_instances=["w0"])
    assert f"instance(s) {vm} are being upgraded" in caught.value.azure_error()["message"]
