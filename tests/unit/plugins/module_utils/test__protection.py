# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance protection: azure-behaviour-2 §2 (IP-1…IP-10) and decision D5, driven through the actions the
modules and the ARM routes call (``_fleet_helpers.Sim``); "nothing written" is a byte-for-byte comparison.
"""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import rest_model
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import NO_UNPROTECTED_LATEST
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    Sim,
    batch_names,
    by_name,
    extension,
    latest_props,
    sim,
)

ACTIONS = {"from_scale_set_actions": True}
SCALE_IN = {"from_scale_in": True}


def fleet(n: int, protected: dict[str, dict[str, Any]]) -> list[Any]:
    """``n`` instances w0… as the ``instances`` option, those in ``protected`` with that protection."""
    return [{"name": f"w{i}", "protection": protected[f"w{i}"]} if f"w{i}" in protected else f"w{i}" for i in range(n)]


# == IP-1, IP-2: the field and its consistency rule ==================================================================


def test_new_instances_are_unprotected_and_protection_reads_back_azure_behaviour_2_ip_1_ip_2(sim: Sim) -> None:
    result = sim.vmss(names=fleet(3, {"w1": ACTIONS, "w2": SCALE_IN}))
    instances = by_name(result)
    assert instances["w0"]["protection_policy"] == {"protectFromScaleIn": False, "protectFromScaleSetActions": False}
    # IP-2: protection from actions with from_scale_in omitted reads back as protected from scale-in too.
    assert instances["w1"]["protection_policy"] == {"protectFromScaleIn": True, "protectFromScaleSetActions": True}
    assert instances["w2"]["protection_policy"] == {"protectFromScaleIn": True, "protectFromScaleSetActions": False}
    again = sim.vmss(names=fleet(3, {"w1": ACTIONS, "w2": SCALE_IN}))
    assert again["before"] == again["after"]  # unchanged: the module's changed is false
    cleared = sim.vmss(names=fleet(3, {"w1": {"from_scale_set_actions": False, "from_scale_in": False}}))
    assert cleared["before"] != cleared["after"]
    assert by_name(cleared)["w1"]["protection_policy"]["protectFromScaleSetActions"] is False


def test_actions_without_scale_in_is_refused_and_writes_nothing_azure_behaviour_2_ip_2(sim: Sim) -> None:
    sim.vmss(3)
    before = sim.dump()
    with pytest.raises(InvalidInput) as caught:
        sim.vmss(names=fleet(3, {"w1": {"from_scale_set_actions": True, "from_scale_in": False}}))
    assert caught.value.message.startswith("instances[1].protection: ")
    assert "protectFromScaleIn cannot be false when protectFromScaleSetActions is true." in caught.value.message
    assert caught.value.azure_error()["code"] == "InvalidParameter"
    assert sim.dump() == before


@pytest.mark.parametrize(
    ("value", "complaint"),
    [("yes", "give a dict"), ({"from_scale_in": "yes"}, "give true or false"), ({"scale_in": True}, "unknown key")],
)
def test_bad_protection_names_the_option_azure_behaviour_2_ip_1(sim: Sim, value: Any, complaint: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        sim.vmss(names=[{"name": "w0", "protection": value}])
    assert caught.value.message.startswith("instances[0].protection")
    assert complaint in caught.value.message


# == IP-4, IP-6, D5: runs leave protected instances alone =============================================================


def test_os_upgrade_skips_protected_instances_but_counts_them_in_n_azure_behaviour_2_ip_4_ip_6_d5(sim: Sim) -> None:
    sim.vmss(names=fleet(10, {"w3": ACTIONS, "w7": ACTIONS}))
    sim.publish("1.1.0")
    result = sim.start()
    props = latest_props(result)
    assert props["runningStatus"]["code"] == "Completed"
    # D5: N stays 10, so batches are 20% of 10 = 2 instances (by update domain, id % 5), though only 8 are
    # candidates; the protected w3 and w7 leave their update domains with one candidate each.
    assert batch_names(result) == [["w0", "w5"], ["w1", "w6"], ["w2"], ["w8"], ["w4", "w9"]]
    # IP-6: in no progress counter.
    assert props["progress"] == {
        "successfulInstanceCount": 8,
        "failedInstanceCount": 0,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 0,
    }
    instances = by_name(result)
    assert instances["w3"]["result"] == "protected" and instances["w3"]["batch"] is None
    assert instances["w3"]["os_disk"]["image_version"] == "1.0.0"
    assert instances["w0"]["os_disk"]["image_version"] == "1.1.0"


def test_an_instance_protected_during_a_run_leaves_it_before_its_batch_azure_behaviour_2_ip_4_ip_6(sim: Sim) -> None:
    """IP-4 from the moment protection is set: a pending instance leaves the run (listed protected, in no counter,
    still in N); one whose batch is under way stays in it (SIMULATOR CHOICE: the operation has begun)."""
    sim.vmss(10)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT1M")  # the first batch (w0, w5) is being reimaged
    assert batch_names(sim.view()) == [["w0", "w5"]]
    changed = sim.vmss(names=fleet(10, {"w0": ACTIONS, "w3": ACTIONS, "w7": ACTIONS}))
    assert changed["before"] != changed["after"]
    assert sim.view()["rolling_upgrade"]["properties"]["progress"] == {
        "successfulInstanceCount": 0,
        "failedInstanceCount": 0,
        "inProgressInstanceCount": 2,
        "pendingInstanceCount": 6,
    }
    sim.advance("PT2H")
    result = sim.view()
    props = result["rolling_upgrade"]["properties"]
    assert props["runningStatus"]["code"] == "Completed"
    assert props["progress"]["successfulInstanceCount"] == 8 and props["progress"]["pendingInstanceCount"] == 0
    # D5: N stays 10, so batches stay 2 instances; w3 and w7 left their update domains with one candidate each.
    assert batch_names(result) == [["w0", "w5"], ["w1", "w6"], ["w2"], ["w8"], ["w4", "w9"]]
    instances = by_name(result)
    assert instances["w3"]["result"] == instances["w7"]["result"] == "protected"
    assert instances["w3"]["os_disk"]["image_version"] == instances["w7"]["os_disk"]["image_version"] == "1.0.0"
    assert instances["w0"]["result"] == "upgraded" and instances["w0"]["os_disk"]["image_version"] == "1.1.0"
    again = sim.vmss(names=fleet(10, {"w0": ACTIONS, "w3": ACTIONS, "w7": ACTIONS}))
    assert again["before"] == again["after"], "a second identical call changes nothing"


def test_protection_from_scale_in_only_does_not_stop_upgrades_azure_behaviour_2_ip_3(sim: Sim) -> None:
    sim.vmss(names=fleet(5, {"w2": SCALE_IN}))
    sim.publish("1.1.0")
    result = sim.start()
    assert by_name(result)["w2"]["result"] == "upgraded"
    assert by_name(result)["w2"]["os_disk"]["image_version"] == "1.1.0"


def test_manual_start_with_every_instance_protected_is_409_azure_behaviour_2_ip_5(sim: Sim) -> None:
    sim.vmss(names=fleet(3, {"w0": ACTIONS, "w1": ACTIONS, "w2": ACTIONS}))
    sim.publish("1.1.0")
    before = sim.dump()
    with pytest.raises(Conflict) as caught:
        sim.start()
    assert caught.value.azure_error() == {"code": "OperationNotAllowed", "message": NO_UNPROTECTED_LATEST}
    assert caught.value.details["status"] == 409
    assert sim.dump() == before


def test_manual_start_with_one_unprotected_instance_is_accepted_azure_behaviour_2_ip_5(sim: Sim) -> None:
    sim.vmss(names=fleet(3, {"w0": ACTIONS, "w1": ACTIONS}))
    sim.publish("1.1.0")
    result = sim.start()
    assert [i["name"] for i in result["instances"] if i["result"] == "upgraded"] == ["w2"]


def test_platform_run_does_not_start_when_only_protected_instances_lag_azure_behaviour_2_ip_6(sim: Sim) -> None:
    sim.vmss(names=fleet(3, {"w0": ACTIONS, "w1": ACTIONS}))
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("P2D")
    assert sim.instances()["w2"]["os_disk"]["image_version"] == "1.1.0"
    assert sim.instances()["w0"]["os_disk"]["image_version"] == "1.0.0"
    runs_before = len(sim.runs())
    # Only protected instances are behind: the scale set counts as up to date, no further platform run is due.
    assert sim.pending_platform_start() is None
    sim.advance("P2D")
    assert len(sim.runs()) == runs_before


def test_rolling_model_update_skips_protected_instances_which_keep_the_old_model_azure_behaviour_2_ip_4_ip_8(
    sim: Sim,
) -> None:
    sim.vmss(names=fleet(5, {"w1": ACTIONS, "w4": SCALE_IN}))
    sim.policy(mode="Rolling")
    sim.vmss(extensions=[extension("app")])
    sim.advance("PT2H")
    instances = by_name(sim.vmss())
    assert instances["w1"]["latest_model_applied"] is False
    # IP-8: protection from scale-in only is updated as usual.
    assert instances["w4"]["latest_model_applied"] is True
    assert all(instances[n]["latest_model_applied"] for n in ("w0", "w2", "w3"))
    assert sim.run()["protected"] == [sim.instances()["w1"]["instance_id"]]


def test_automatic_mode_model_change_skips_protected_instances_azure_behaviour_2_ip_4(sim: Sim) -> None:
    sim.vmss(names=fleet(3, {"w0": ACTIONS}))
    sim.policy(mode="Automatic")
    sim.vmss(extensions=[extension("app")])
    sim.advance("PT1H")
    instances = by_name(sim.vmss())
    assert instances["w0"]["latest_model_applied"] is False
    assert instances["w1"]["latest_model_applied"] and instances["w2"]["latest_model_applied"]


def test_max_surge_neither_replaces_nor_deletes_protected_instances_azure_behaviour_2_ip_10(sim: Sim) -> None:
    sim.vmss(names=fleet(4, {"w2": ACTIONS}))
    sim.policy(mode="Rolling", rolling={"max_surge": True})
    ids = {n: i["instance_id"] for n, i in sim.instances().items()}
    sim.publish("1.1.0")
    result = sim.start()
    after = {n: i["instance_id"] for n, i in sim.instances().items()}
    assert after["w2"] == ids["w2"]  # kept, not surged
    assert all(after[n] != ids[n] for n in ("w0", "w1", "w3"))  # the others were replaced (MS-3, D10)
    assert by_name(result)["w2"]["result"] == "protected"


# == IP-7: explicit lists naming protected instances ==================================================================


def test_manual_upgrade_naming_a_protected_instance_is_409_and_all_skips_it_azure_behaviour_2_ip_7(sim: Sim) -> None:
    sim.vmss(names=fleet(3, {"w1": ACTIONS}))
    sim.vmss(extensions=[extension("app")])  # Manual mode: recorded, reaches nobody
    before = sim.dump()
    with pytest.raises(Conflict) as caught:
        sim.vmss(update_instances=["w0", "w1"])
    w1 = sim.instances()["w1"]["instance_id"]
    assert caught.value.azure_error() == {
        "code": "OperationNotAllowed",
        "message": "InstanceIds may not contain instances that are protected from scale set actions. The following "
        f"instance ids are protected from scale set action: {w1}.",
    }
    assert caught.value.message.startswith("update_instances: ")
    assert sim.dump() == before
    sim.vmss(update_instances=["all"])
    sim.advance("PT1H")
    instances = by_name(sim.vmss())
    assert instances["w1"]["latest_model_applied"] is False
    assert instances["w0"]["latest_model_applied"] and instances["w2"]["latest_model_applied"]


def test_removing_a_protected_instance_is_409_until_its_protection_is_cleared_azure_behaviour_2_ip_7(
    sim: Sim,
) -> None:
    sim.vmss(names=fleet(3, {"w2": ACTIONS}))
    before = sim.dump()
    with pytest.raises(Conflict) as caught:
        sim.vmss(names=["w0", "w1"])
    assert caught.value.details["status"] == 409
    assert caught.value.message.startswith("instances: InstanceIds may not contain instances that are protected")
    assert sim.dump() == before
    sim.vmss(names=["w0", "w1", {"name": "w2", "protection": {"from_scale_set_actions": False}}])
    assert [i["name"] for i in sim.vmss(names=["w0", "w1"])["instances"]] == ["w0", "w1"]


def test_an_instance_protected_from_scale_in_only_can_be_removed_by_name_azure_behaviour_2_ip_3(sim: Sim) -> None:
    """IP-3: 'User-initiated instance operations (including instance delete) are not blocked'."""
    sim.vmss(names=fleet(3, {"w2": SCALE_IN}))
    assert [i["name"] for i in sim.vmss(names=["w0", "w1"])["instances"]] == ["w0", "w1"]


# == IP-1: the ARM shape =============================================================================================


def test_vm_get_carries_protection_policy_azure_behaviour_2_ip_1(sim: Sim) -> None:
    result = sim.vmss(names=fleet(2, {"w1": ACTIONS}))
    vms = {i["name"]: rest_model.vm_view(result["vmss"], i) for i in result["instances"]}
    assert vms["w1"]["properties"]["protectionPolicy"] == {
        "protectFromScaleIn": True,
        "protectFromScaleSetActions": True,
    }
    assert vms["w0"]["properties"]["protectionPolicy"] == {
        "protectFromScaleIn": False,
        "protectFromScaleSetActions": False,
    }


# == IP-9, D8: scale-in by capacity (the ARM endpoint's sku.capacity) ================================================


def test_capacity_decrease_deletes_the_highest_unprotected_ids_azure_behaviour_2_ip_9(sim: Sim) -> None:
    result = sim.vmss(names=fleet(5, {"w4": SCALE_IN, "w3": ACTIONS}))
    # Default scale-in policy: highest instance ids first, but w4 and w3 are protected from scale-in.
    assert rest_model.instance_names(3, "web", result["instances"]) == ["w0", "w3", "w4"]
    assert rest_model.instance_names(2, "web", result["instances"]) == ["w3", "w4"]


def test_capacity_decrease_below_the_protected_instances_is_409_azure_behaviour_2_d8(sim: Sim) -> None:
    result = sim.vmss(names=fleet(3, {"w1": SCALE_IN, "w2": ACTIONS}))
    with pytest.raises(Conflict) as caught:
        rest_model.instance_names(1, "web", result["instances"])
    error = caught.value.azure_error()
    assert error["code"] == "OperationNotAllowed" and caught.value.details["status"] == 409
    ids = [by_name(result)[n]["instance_id"] for n in ("w1", "w2")]
    assert error["message"].endswith(f"are protected from scale-in and are never deleted by it: {', '.join(ids)}.")


def test_approve_naming_a_protected_instance_is_409_azure_behaviour_2_ip_7(sim: Sim) -> None:
    sim.vmss(names=fleet(10, {"w5": ACTIONS}))
    sim.enable_automatic(os_rolling_upgrade_deferral=True)
    sim.publish("1.1.0")
    sim.advance("PT4H")
    assert batch_names(sim.view()) == [["w0"]]  # w5, protected, is not in the first batch (UD 0)
    before = sim.dump()
    with pytest.raises(Conflict) as caught:
        sim.approve(["w0", "w5"])
    assert caught.value.message.startswith("instance_ids: InstanceIds may not contain instances that are protected")
    assert sim.dump() == before
    assert sim.approve(["w0"])["approved"] == [sim.instances()["w0"]["instance_id"]]
