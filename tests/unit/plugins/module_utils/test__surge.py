# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maxSurge for every rolling upgrade: azure-behaviour-2 MS-3, MS-4, MS-6 and decisions D3, D10.

Issue 12 item 2: a rolling model update (``mode: Rolling``) ignored maxSurge, so one minute into it two of
ten instances were ``Unknown``/``Updating``. MaxSurge keeps capacity at N for model updates exactly as
for OS upgrades.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import FIXED_AUTOMATIC_ROLLING_POLICY
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import Sim, extension, fault, sim  # noqa: F401 pylint: disable=unused-import


def out_of_service(sim: Sim) -> list[str]:
    """Instances that a run took down: Updating, or Unknown while being rebuilt in place."""
    return sorted(
        n for n, i in sim.instances().items() if i["provisioning_state"] == "Updating" or i["health"] == "Unknown"
    )


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
        assert {i["health"] for i in sim.instances().values()} == {"Healthy"}
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
    assert sim.run()["outcome"][w5["instance_id"]]["result"] == "failed"
    assert (w5["model_version"], w5["health"]) == (2, "Unhealthy")
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
