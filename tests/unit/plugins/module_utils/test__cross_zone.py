# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zone-aware batching: azure-behaviour-2 CZ-2 … CZ-6 (enableCrossZoneUpgrade), tested through runs.

The fleet of issue 12 item 6: 12 instances spread over zones 1, 2, 3 (zone ``id % 3``) and update
domains ``id % 5``, 20% → batches of at most 2.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._engine.batches import batch_size, order, take_batch
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import Sim, at, batch_names, sim  # noqa: F401 pylint: disable=unused-import

ZONES = ["1", "2", "3"]


def placement(sim: Sim) -> dict[str, tuple[str | None, int]]:
    return {n: (i["zone"], i["update_domain"]) for n, i in sim.instances().items()}


def zonal_twelve(sim: Sim, **rolling: Any) -> dict[str, Any]:
    sim.vmss(12, zones=ZONES)
    sim.rolling(**rolling)
    sim.publish("1.1.0")
    return sim.start()


def shape(sim: Sim, result: dict[str, Any]) -> list[list[tuple[str | None, int]]]:
    where = placement(sim)
    return [[where[n] for n in names] for names in batch_names(result)]


def test_default_zonal_goes_zone_by_zone_within_update_domains_azure_behaviour_2_cz_2(sim: Sim) -> None:
    """CZ-2: without the flag every instance of zone 1 is done before zone 2 starts; no batch spans UDs."""
    result = zonal_twelve(sim)
    batches = shape(sim, result)
    assert len(batches) == 12, "each zone's 4 instances sit in 4 different update domains"
    zones = [b[0][0] for b in batches]
    assert zones == ["1"] * 4 + ["2"] * 4 + ["3"] * 4
    for batch in batches:
        assert len({ud for _z, ud in batch}) == 1
    for zone in ZONES:  # inside a zone, update-domain order
        uds = [b[0][1] for b in batches if b[0][0] == zone]
        assert uds == sorted(uds)
    assert [b["zone"] for b in result["batches"]] == zones


def test_cross_zone_batches_span_zones_bounded_by_update_domains_azure_behaviour_2_cz_3(sim: Sim) -> None:
    """CZ-3: with the flag, candidates go by UD, then zone, then id; a batch is cut at a UD change or when full."""
    result = zonal_twelve(sim, enable_cross_zone_upgrade=True)
    batches = shape(sim, result)
    assert batch_names(result) == [
        ["w0", "w10"],  # UD 0: zones 1, 2
        ["w5"],  # UD 0: zone 3, and the UD ends
        ["w6", "w1"],  # UD 1: zones 1, 2
        ["w11"],
        ["w7", "w2"],  # UD 2: zones 2, 3
        ["w3", "w8"],  # UD 3: zones 1, 3
        ["w9", "w4"],  # UD 4: zones 1, 2
    ]
    assert len(batches) < 12
    for batch in batches:
        assert len({ud for _z, ud in batch}) == 1
    uds = [b[0][1] for b in batches]
    assert uds == sorted(uds)
    assert any(len({z for z, _ud in b}) > 1 for b in batches)
    # a batch of several zones reports no single zone
    assert [b["zone"] for b in result["batches"]][:2] == [None, "3"]


def test_batch_size_comes_from_the_whole_scale_set_in_both_modes_azure_behaviour_2_cz_4(sim: Sim) -> None:
    """CZ-4: 15 instances, 20% → 3 per batch, although a zone holds only 5; a boundary only makes a batch smaller."""
    sim.vmss(names=[{"name": f"w{i}", "update_domain": 0} for i in range(15)], zones=ZONES)
    sim.rolling(max_batch_instance_percent=20)
    sim.publish("1.1.0")
    zonal = sim.start()
    assert [len(b) for b in batch_names(zonal)] == [3, 2, 3, 2, 3, 2]
    sim.rolling(enable_cross_zone_upgrade=True)
    sim.publish("1.2.0")
    crossing = sim.start()
    assert [len(b) for b in batch_names(crossing)] == [3] * 5
    assert batch_size(15, 20) == 3


def test_regional_scale_set_the_flag_changes_nothing_azure_behaviour_2_cz_5(sim: Sim) -> None:
    """CZ-5: no zones on the scale set: batches follow update domains with or without the flag."""
    sim.vmss(12)
    sim.publish("1.1.0")
    without = batch_names(sim.start())
    sim.rolling(enable_cross_zone_upgrade=True)
    sim.publish("1.2.0")
    with_flag = batch_names(sim.start())
    assert (
        without == with_flag == [["w0", "w5"], ["w10"], ["w1", "w6"], ["w11"], ["w2", "w7"], ["w3", "w8"], ["w4", "w9"]]
    )


def test_automatic_run_without_rolling_policy_goes_zone_by_zone_azure_behaviour_2_cz_6(sim: Sim) -> None:
    """CZ-6: a platform run that does not use the rolling policy takes 20/20/20/PT0S and no cross-zone."""
    sim.vmss(12, zones=ZONES)
    sim.rolling(enable_cross_zone_upgrade=True)
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT6H")
    run = sim.run()
    assert run["started_by"] == "Platform" and run["status"] == "Completed"
    assert run["policy"]["enableCrossZoneUpgrade"] is False
    assert len(run["batches"]) == 12


def test_automatic_run_with_rolling_policy_crosses_zones_azure_behaviour_2_cz_6(sim: Sim) -> None:
    """CZ-6, the other side: with useRollingUpgradePolicy the platform run follows the flag (CZ-3 batches)."""
    sim.vmss(12, zones=ZONES)
    sim.rolling(enable_cross_zone_upgrade=True)
    sim.enable_automatic(use_rolling_upgrade_policy=True)
    sim.publish("1.1.0")
    sim.advance("PT6H")
    run = sim.run()
    assert run["started_by"] == "Platform" and run["status"] == "Completed"
    assert len(run["batches"]) == 7


def test_order_and_cut_pure_functions_azure_behaviour_2_cz_2_cz_3(sim: Sim) -> None:
    """The same two orders on the batching functions themselves."""
    sim.vmss(12, zones=ZONES)
    instances = list(sim.instances().values())
    zonal = [i["name"] for i in order(instances, False)]
    assert zonal[:4] == ["w0", "w6", "w3", "w9"]  # zone 1, UDs 0, 1, 3, 4
    crossing = [i["name"] for i in order(instances, False, cross_zone=True)]
    assert crossing[:3] == ["w0", "w10", "w5"]  # UD 0, zones 1, 2, 3
    assert [i["name"] for i in take_batch(order(instances, False, cross_zone=True), 3, True)] == ["w0", "w10", "w5"]
    assert [i["name"] for i in take_batch(order(instances, False), 3, False)] == ["w0"]
    assert at(0)
