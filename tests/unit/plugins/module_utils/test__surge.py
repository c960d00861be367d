# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maxSurge for every rolling upgrade: azure-behaviour-2 MS-3, MS-4, MS-6 and decisions D3, D10.

Issue 12 item 2: a rolling model update (``mode: Rolling``) ignored maxSurge, so one minute into it two of
ten instances were ``Unknown``/``Updating``. MaxSurge keeps capacity at N for model updates exactly as
for OS upgrades.
"""

from __future__ import annotations

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.feature_registration import register_feature
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set_info import scale_set_info
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError, Conflict, InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import FIXED_AUTOMATIC_ROLLING_POLICY
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    KEY,
    NAME,
    RG,
    SUB,
    Sim,
    extension,
    fault,
    sim,
)


def out_of_service(sim: Sim) -> list[str]:
    """Host names that a run took down: none of their instances is built and serving (Succeeded, not
    Unknown). A surge instance created beside its old one (MS-3) takes nothing down: the old one serves."""
    serving: dict[str, bool] = {}
    for i in listed(sim):
        ok = i["provisioning_state"] == "Succeeded" and i["health"] != "Unknown"
        serving[i["name"]] = serving.get(i["name"], False) or ok
    return sorted(name for name, ok in serving.items() if not ok)


def test_rolling_model_update_with_max_surge_keeps_every_instance_serving_azure_behaviour_2_ms_4_ms_6(
    sim: Sim,
) -> None:
    """MS-4: rolling model upgrades use maxSurge; MS-6: capacity never drops below N during the run."""
    sim.vmss(10)
    sim.policy(mode="Rolling", rolling={"max_surge": True})
    sim.vmss(extensions=[extension("cfg")])  # a model change: a rolling model update starts
    run = sim.run()
    assert (run["kind"], run["policy"]["maxSurge"]) == ("model", True)
    for step in ("PT1M", "PT2M", "PT30S"):  # 1:00 building, 3:00 and 3:30 the new instances boot
        sim.advance(step)
        assert out_of_service(sim) == [], f"at {sim.now() - run['start']} s into the run"
        assert {i["health"] for i in listed(sim) if int(i["instance_id"]) < 10} == {"Healthy"}
        assert sim.run()["batches"][0]["end"] is None
    sim.advance("PT30S")  # 4:00: the first batch's new instances are healthy and replace the old ones
    first = sim.run()["batches"][0]
    assert first["end"] == run["start"] + 240 and first["result"] == "succeeded"
    versions = {n: i["model_version"] for n, i in sim.instances().items()}
    assert {n for n, v in versions.items() if v == 2} == {"w0", "w5"}
    sim.advance("PT1H")
    assert sim.run()["status"] == "Completed"
    assert {i["model_version"] for i in sim.instances().values()} == {2}
    assert out_of_service(sim) == []


def test_rolling_model_update_without_max_surge_takes_the_batch_down_azure_3_4(sim: Sim) -> None:
    """The contrast: updated in place, a batch's instances are Updating while they are rebuilt."""
    sim.vmss(10)
    sim.policy(mode="Rolling")
    sim.vmss(extensions=[extension("cfg")])
    sim.advance("PT1M")
    assert out_of_service(sim) == ["w0", "w5"]


def test_rolling_model_update_failed_surge_instance_replaces_the_old_one_azure_behaviour_2_ms_8(sim: Sim) -> None:
    """MS-8: a model update has no automatic rollback: a new instance that never becomes healthy is kept
    (failed, on the new model) and the old one deleted, so capacity stays N."""
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w5"])]})
    sim.policy(mode="Rolling", rolling={"max_surge": True})
    sim.vmss(extensions=[extension("cfg")])
    sim.advance("PT1H")
    w5 = sim.instances()["w5"]
    assert sim.run()["outcome"]["5"]["result"] == "failed", "a run keeps its results by the ids it batched"
    assert (w5["instance_id"], w5["model_version"], w5["health"]) == ("11", 2, "Unhealthy")
    assert len(sim.instances()) == 10


def test_rolling_model_update_failed_surge_creation_keeps_the_old_one_azure_behaviour_2_ms_8(sim: Sim) -> None:
    """MS-8: a new instance whose extensions do not provision is deleted and the old one kept, in every run."""
    sim.vmss(10)
    sim.policy(mode="Rolling", rolling={"max_surge": True})
    old = sim.instances()["w5"]
    sim.vmss(
        extensions=[extension("cfg")],
        simulation={"faults": [fault("extension_failure", instances=["w5"], extension="cfg")]},
    )
    sim.advance("PT1H")
    w5 = sim.instances()["w5"]
    assert sim.run()["outcome"][w5["instance_id"]]["result"] == "failed"
    assert (w5["model_version"], w5["extensions"], w5["health"]) == (1, old["extensions"], "Healthy")


def test_automatic_mode_and_manual_upgrade_never_surge_azure_behaviour_2_ms_4(sim: Sim) -> None:
    """MS-4 (simulator choice): Automatic-mode propagation and manualUpgrade are not rolling upgrades."""
    sim.vmss(10)
    sim.policy(mode="Automatic", rolling={"max_surge": True})
    sim.vmss(extensions=[extension("cfg")])
    sim.advance("PT1M")
    assert len(out_of_service(sim)) == 10
    sim.advance("PT1H")
    sim.policy(mode="Manual")
    sim.vmss(extensions=[extension("cfg"), extension("more")])
    sim.vmss(update_instances=["w1", "w3"])
    sim.advance("PT1M")
    assert out_of_service(sim) == ["w1", "w3"]


def test_automatic_os_run_surges_without_the_rolling_policy_azure_behaviour_2_d3(sim: Sim) -> None:
    """D3: with maxSurge on, a platform OS run surges whatever useRollingUpgradePolicy says; its thresholds
    stay 20/20/20/PT0S and it does not cross zones (CZ-6)."""
    sim.vmss(10, zones=["1", "2"])
    sim.rolling(
        max_surge=True,
        max_batch_instance_percent=50,
        pause_time_between_batches="PT5M",
        enable_cross_zone_upgrade=True,
    )
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT3H1M")
    run = sim.run()
    assert run["started_by"] == "Platform" and run["status"] == "RollingForward"
    assert run["policy"] == {**FIXED_AUTOMATIC_ROLLING_POLICY, "maxSurge": True}
    assert out_of_service(sim) == []
    sim.advance("PT2H")
    assert sim.run()["status"] == "Completed"
    assert {i["os_disk"]["image_version"] for i in sim.instances().values()} == {"1.1.0"}


def test_automatic_os_run_without_max_surge_keeps_the_fixed_policy_azure_1(sim: Sim) -> None:
    """azure-behaviour §1: the fixed automatic policy, maxSurge off, when the scale set does not surge."""
    sim.vmss(10)
    sim.rolling(max_batch_instance_percent=50)
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT3H1M")
    assert sim.run()["policy"] == FIXED_AUTOMATIC_ROLLING_POLICY
    assert out_of_service(sim) == ["w0", "w5"]


# -- new instances beside the old ones (MS-3, MS-5, MS-6, D10; issue 12 item 10) ----------------------


def listed(sim: Sim) -> list[Instance]:
    """Every instance of the scale set, in id order (two may share a host name during a surge batch)."""
    found = sim.call(lambda s: list(fleet_of(s).instances(KEY)), commit=False)
    return sorted(found, key=lambda i: int(i["instance_id"]))


def ids_by_name(sim: Sim) -> dict[str, list[str]]:
    """Every instance id each host name has, in id order."""
    out: dict[str, list[str]] = {}
    for instance in listed(sim):
        out.setdefault(instance["name"], []).append(instance["instance_id"])
    return out


def test_surge_batch_creates_new_instances_beside_the_old_ones_azure_behaviour_2_ms_3_ms_6_d10(sim: Sim) -> None:
    """MS-3/MS-6: during a batch the scale set lists N + b instances: the new ones Creating, the old ones serving.
    D10: a new instance keeps its host name and gets the next unused id."""
    sim.vmss(10)
    sim.rolling(max_surge=True)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT1M")
    everything = listed(sim)
    assert len(everything) == 12
    new = [i for i in everything if int(i["instance_id"]) >= 10]
    assert [(i["instance_id"], i["name"], i["provisioning_state"]) for i in new] == [
        ("10", "w0", "Creating"),
        ("11", "w5", "Creating"),
    ]
    old = [i for i in everything if int(i["instance_id"]) < 10]
    assert {(i["provisioning_state"], i["health"]) for i in old} == {("Succeeded", "Healthy")}
    record = sim.record()
    assert record is not None and record["model"]["sku"]["capacity"] == 10, "sku.capacity stays N (MS-6)"
    view = sim.view()
    assert len(view["instances"]) == 12
    assert view["rolling_upgrade"]["properties"]["progress"] == {
        "successfulInstanceCount": 0,
        "failedInstanceCount": 0,
        "inProgressInstanceCount": 2,
        "pendingInstanceCount": 8,
    }


def test_surge_old_instance_deleted_once_the_new_one_is_healthy_azure_behaviour_2_ms_3_ms_5_d10(sim: Sim) -> None:
    """MS-3: the old instances go when their replacements are healthy; their ids disappear (D10). MS-5: same
    zone, update domain new id % 5; the progress counts replaced instances (MS-6). The new VM comes from the model
    (MS-3): its data disks are new ones of the old one's layout, named for its own id, as a Replace makes (AR-6)."""
    disks = [{"lun": 0, "name": "data0", "disk_size_gb": 64}, {"lun": 1, "name": None, "disk_size_gb": 256}]
    sim.vmss(names=[{"name": "w0", "data_disks": disks}, *[f"w{i}" for i in range(1, 10)]], zones=["1"])
    before = sim.instances()
    sim.rolling(max_surge=True)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT4M")  # R + B: the first batch's new instances are healthy
    assert ids_by_name(sim)["w0"] == ["10"] and ids_by_name(sim)["w5"] == ["11"]
    # the second batch (w1, w6) started at once: its new instances are being created
    assert [i["instance_id"] for i in listed(sim)] == ["1", "2", "3", "4", "6", "7", "8", "9", "10", "11", "12", "13"]
    w0, w5 = sim.instances()["w0"], sim.instances()["w5"]
    assert (w0["zone"], w0["update_domain"]) == (before["w0"]["zone"], 0)
    assert (w5["zone"], w5["update_domain"]) == (before["w5"]["zone"], 1)
    assert w0["os_disk"]["image_version"] == "1.1.0"
    layout = [(d["lun"], d["disk_size_gb"]) for d in w0["data_disks"]]
    assert layout == [(d["lun"], d["disk_size_gb"]) for d in before["w0"]["data_disks"]] == [(0, 64), (1, 256)]
    assert [d["name"].split("_", 2)[:2] for d in w0["data_disks"]] == [["web", "10"], ["web", "10"]]
    assert not {d["name"] for d in w0["data_disks"]} & {d["name"] for d in before["w0"]["data_disks"]}
    assert w5["data_disks"] == []
    assert sim.view()["rolling_upgrade"]["properties"]["progress"]["successfulInstanceCount"] == 2
    sim.advance("PT1H")
    result = sim.view()
    assert sorted(int(i["instance_id"]) for i in result["instances"]) == list(range(10, 20))
    assert sorted(i["name"] for i in result["instances"]) == sorted(before)
    assert {i["result"] for i in result["instances"]} == {"upgraded"}
    assert all(name in before for batch in result["batches"] for name in batch["instances"])
    record = sim.record()
    assert record is not None and record["instance_ids"]["w0"] == 10


def test_surge_failed_new_instance_ids_azure_behaviour_2_ms_8_d10(sim: Sim) -> None:
    """MS-8 with ids: a manual run keeps the failed new instance (new id) and deletes the old one; capacity N."""
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w5"])]})
    sim.rolling(max_surge=True)
    sim.publish("1.1.0")
    sim.start()
    assert ids_by_name(sim)["w5"] == ["11"]
    assert sim.instances()["w5"]["health"] == "Unhealthy"
    assert len(listed(sim)) == 10
    assert {i["name"]: i["result"] for i in sim.view()["instances"]}["w5"] == "failed"


def test_surge_with_deferral_creates_only_approved_instances_azure_behaviour_2_ms_3(sim: Sim) -> None:
    """An instance waiting for approval (osRollingUpgradeDeferral) is not surged until approved."""
    sim.vmss(10, zones=["1"])
    sim.rolling(max_surge=True)
    sim.enable_automatic(os_rolling_upgrade_deferral=True)
    sim.publish("1.1.0")
    sim.advance("PT3H1M")
    assert len(listed(sim)) == 10
    sim.approve(["0"])
    sim.advance("PT1M")
    assert ids_by_name(sim)["w0"] == ["0", "10"]
    sim.advance("PT3M")
    assert ids_by_name(sim)["w0"] == ["10"]


def test_restating_the_instances_during_a_surge_batch_changes_nothing_azure_behaviour_2_ms_6(sim: Sim) -> None:
    """MS-6, D10: the host list names each slot once; a surge instance and the one it replaces are one host.
    Restating the same hosts during a batch keeps both and changes nothing."""
    sim.vmss(10)
    sim.rolling(max_surge=True)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT1M")
    result = sim.vmss(10)
    assert result["before"] == result["after"]
    assert len(listed(sim)) == 12
    assert result["vmss"]["sku"]["capacity"] == 10, "sku.capacity stays N while N + b instances are listed"
    assert len(result["instances"]) == 12
    sim.advance("PT1H")
    assert sim.run()["status"] == "Completed"
    assert sorted(i["instance_id"] for i in listed(sim)) == [str(i) for i in range(10, 20)]


def test_scaling_in_a_host_during_its_surge_batch_is_refused_azure_behaviour_2_ms_6(sim: Sim) -> None:
    """Like an instance upgraded in place, a host whose surge batch runs cannot be removed until it ends."""
    sim.vmss(10)
    sim.rolling(max_surge=True)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT1M")
    with pytest.raises(Conflict, match="being upgraded"):
        sim.vmss(names=[f"w{i}" for i in range(1, 10)])
    assert len(listed(sim)) == 12
    sim.advance("PT4M")  # the batch ended; w0 is instance 10 now and may go
    sim.vmss(names=[f"w{i}" for i in range(1, 10)])
    sim.advance("PT1H")
    assert sim.run()["status"] == "Completed"
    assert sorted(ids_by_name(sim)) == sorted(f"w{i}" for i in range(1, 10))
    assert all(len(ids) == 1 for ids in ids_by_name(sim).values())


# -- the quota check before each surge batch (MS-7) ---------------------------------------------------


def test_batch_without_quota_is_upgraded_in_place_and_later_batches_surge_azure_behaviour_2_ms_7(sim: Sim) -> None:
    """MS-7: 12 instances, 20% → batches of 2 or 1 (update domains); quota for 1 more instance: the batches of 2
    go in place, the batches of 1 surge; no error, the run completes."""
    sim.vmss(12, simulation={"surge_quota": 1})
    sim.rolling(max_surge=True)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT1M")  # batch 1 (w0, w5): no room for 2, in place
    assert len(listed(sim)) == 12
    assert out_of_service(sim) == ["w0", "w5"]
    sim.advance("PT3M")  # batch 2 (w10): room for 1, surged
    assert ids_by_name(sim)["w10"] == ["10", "12"]
    assert out_of_service(sim) == []
    sim.advance("PT2H")
    run = sim.run()
    assert (run["status"], run["error"]) == ("Completed", None)
    assert [(b["instances"], b["surge"]) for b in run["batches"]] == [
        (["0", "5"], False),
        (["10"], True),
        (["1", "6"], False),
        (["11"], True),
        (["2", "7"], False),
        (["3", "8"], False),
        (["4", "9"], False),
    ]
    ids = ids_by_name(sim)
    assert (ids["w0"], ids["w10"], ids["w11"]) == (["0"], ["12"], ["13"])
    assert {i["os_disk"]["image_version"] for i in listed(sim)} == {"1.1.0"}


def test_quota_for_the_whole_batch_surges_every_batch_azure_behaviour_2_ms_7(sim: Sim) -> None:
    sim.vmss(10, simulation={"surge_quota": 2})
    sim.rolling(max_surge=True)
    sim.publish("1.1.0")
    sim.start()
    assert sorted(int(i["instance_id"]) for i in listed(sim)) == list(range(10, 20))
    assert all(b["surge"] for b in sim.run()["batches"])


def test_surge_quota_is_a_whole_number_of_instances_azure_behaviour_2_ms_7(sim: Sim) -> None:
    with pytest.raises(InvalidInput, match="surge_quota"):
        sim.vmss(3, simulation={"surge_quota": -1})
    assert sim.record() is None


def test_breach_rollback_restores_kept_surge_instances_to_the_old_disk_azure_behaviour_2_ms_8(sim: Sim) -> None:
    """MS-8 with azure-behaviour §3.6: a manual run keeps failed new instances; on a breach with
    rollbackFailedInstancesOnPolicyBreach they go back to the OS disk of the instance each replaced."""
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w0", "w5", "w1"])]})
    old = {n: i["os_disk"] for n, i in sim.instances().items()}
    sim.rolling(max_surge=True, rollback_failed_instances_on_policy_breach=True)
    sim.publish("1.1.0")
    result = sim.start()
    props = result["rolling_upgrade"]["properties"]
    assert props["error"]["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    assert [d["target"] for d in props["error"]["details"]] == [
        "web/virtualMachines/10",
        "web/virtualMachines/11",
        "web/virtualMachines/12",
    ], "the error names the instances there are: the new ones"
    assert "The most impactful error is:  Instance found to be unhealthy or unreachable." in props["error"]["message"]
    results = {i["name"]: i for i in result["instances"]}
    for name, new_id in (("w0", "10"), ("w5", "11"), ("w1", "12")):
        assert (results[name]["instance_id"], results[name]["result"]) == (new_id, "rolled_back")
        assert results[name]["os_disk"] == old[name]
    assert len(result["instances"]) == 10
    assert sim.history()["history"][0]["properties"]["rollbackInfo"]["successfullyRolledbackInstanceCount"] == 3


def test_old_instances_list_as_deleting_for_the_terminate_notification_azure_behaviour_2_ms_6_ms_9(sim: Sim) -> None:
    """MS-9: with the terminate notification on, each old instance is deleted ``notBeforeTimeout`` after its
    replacement is healthy; MS-6: meanwhile it lists as ``Deleting`` beside it (N + b instances), and only once
    it is gone does the replacement count as successful. The batch ends then, and the next one starts."""
    sim.vmss(10, terminate_notification={"enable": True, "not_before_timeout": "PT6M"})
    sim.rolling(max_surge=True)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT5M")  # 4:00 the new instances of w0 and w5 are healthy; their old ones wait until 10:00
    states = {i["instance_id"]: i["provisioning_state"] for i in listed(sim)}
    assert len(states) == 12
    assert (states["0"], states["5"], states["10"], states["11"]) == ("Deleting", "Deleting", "Succeeded", "Succeeded")
    info = sim.call(lambda s: scale_set_info(Call(s, SUB, False), RG, NAME), commit=False)
    assert [(i["instance_id"], i["provisioning_state"]) for i in info["instances"] if i["name"] == "w0"] == [
        ("0", "Deleting"),
        ("10", "Succeeded"),
    ]
    run = sim.run()
    assert run["outcome"]["0"]["result"] == "in_progress" and run["batches"][0]["end"] is None
    sim.advance("PT5M")  # 10:00: gone; the first batch ends and the second starts
    assert sorted(ids_by_name(sim)["w0"]) == ["10"] and "5" not in {i["instance_id"] for i in listed(sim)}
    first = sim.run()["batches"][0]
    assert first["end"] == run["start"] + 600 and first["result"] == "succeeded"
    assert sim.run()["outcome"]["0"]["result"] == "upgraded"


def test_without_the_terminate_notification_old_instances_go_at_once_azure_behaviour_2_ms_9(sim: Sim) -> None:
    sim.vmss(10, terminate_notification={"enable": False})
    sim.rolling(max_surge=True)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT4M")
    # 4:00: w0 and w5's old instances are gone (the next batch's new ones are being created already).
    assert not {"0", "5"} & {i["instance_id"] for i in listed(sim)}
    assert "Deleting" not in {i["provisioning_state"] for i in listed(sim)}
    assert sim.run()["batches"][0]["end"] == sim.run()["start"] + 240


@pytest.mark.parametrize("timeout", ["PT4M", "PT16M", "soon"])
def test_not_before_timeout_out_of_range_names_the_option_azure_behaviour_2_ms_9(sim: Sim, timeout: str) -> None:
    sim.vmss(2)
    before = sim.dump()
    with pytest.raises(InvalidInput, match="terminate_notification.not_before_timeout"):
        sim.vmss(terminate_notification={"enable": True, "not_before_timeout": timeout})
    assert sim.dump() == before


def test_strict_preview_features_needs_the_max_surge_feature_registered_azure_behaviour_2_ms_2(sim: Sim) -> None:
    """MS-2: under ``strict_preview_features`` turning maxSurge on is Azure's 400 BadRequest until
    Microsoft.Compute/MaxSurgeRollingUpgrade is Registered; nothing is written meanwhile."""
    sim.vmss(4, simulation={"strict_preview_features": True})
    before = sim.dump()
    with pytest.raises(AzsimError) as refused:
        sim.rolling(max_surge=True)
    assert refused.value.azure_error() == {
        "code": "BadRequest",
        "message": "The subscription is not registered for feature Microsoft.Compute/MaxSurgeRollingUpgrade.",
    }
    assert "rolling_upgrade_policy.max_surge" in refused.value.message
    assert sim.dump() == before
    params = {"namespace": "Microsoft.Compute", "feature": "MaxSurgeRollingUpgrade", "state": "registered",
              "register_provider": False, "wait": True}  # fmt: skip
    sim.act(register_feature, params)
    assert sim.rolling(max_surge=True)["upgrade_policy"]["rollingUpgradePolicy"]["maxSurge"] is True


def test_without_strict_preview_features_max_surge_needs_no_feature_azure_behaviour_2_ms_2(sim: Sim) -> None:
    sim.vmss(4)
    assert sim.rolling(max_surge=True)["upgrade_policy"]["rollingUpgradePolicy"]["maxSurge"] is True
