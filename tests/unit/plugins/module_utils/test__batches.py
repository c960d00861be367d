# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which instances go down together: azure-behaviour §3.1-§3.3, tested on _batches directly and through a run."""

from __future__ import annotations

from typing import cast

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._engine.batches import batch_size, order, order_key, take_batch
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import is_unhealthy
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import exceeds
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    Sim,
    batch_names,
    latest_props,
    make_sim,
    sim,
)


def plan_batches(
    instances: list[Instance], n: int, percent: int, cross_zone: bool, prioritize_unhealthy: bool
) -> list[list[Instance]]:
    """Every batch the engine would cut from ``instances`` while their health stays as it is."""
    remaining = order(instances, prioritize_unhealthy)
    size = batch_size(n, percent)
    batches = []
    while remaining:
        batch = take_batch(remaining, size, cross_zone)
        batches.append(batch)
        remaining = remaining[len(batch) :]
    return batches


def inst(
    iid: int, zone: str | None = None, ud: int | None = None, health: str = "Healthy", power: str = "running"
) -> Instance:
    """The keys batching reads; the rest of an instance plays no part in it."""
    return cast(
        Instance,
        {
            "instance_id": str(iid),
            "name": f"w{iid}",
            "zone": zone,
            "update_domain": iid % 5 if ud is None else ud,
            "health": health,
            "power_state": power,
        },
    )


def ids(batch: list[Instance]) -> list[str]:
    return [i["instance_id"] for i in batch]


# -- §3.2 batch size: max(1, floor(N * pct / 100)) ---------------------------------------------------


@pytest.mark.parametrize(
    ("n", "percent", "size"),
    [
        (10, 20, 2),  # azure-behaviour §3.2: "10 instances → 2 per batch"
        (5, 20, 1),  # "5 or fewer → 1"
        (3, 20, 1),
        (1, 5, 1),
        (4, 20, 1),  # floor(0.8) = 0 → max(1, 0)
        (9, 20, 1),  # floor(1.8) = 1, never rounded up
        (14, 20, 2),  # floor(2.8)
        (100, 20, 20),
        (100, 50, 50),
        (100, 100, 100),
        (7, 100, 7),
        (19, 5, 1),
        (20, 5, 1),
        (40, 5, 2),
    ],
)
def test_batch_size_is_floor_of_percent_of_n_at_least_one_azure_3_2(n: int, percent: int, size: int) -> None:
    assert batch_size(n, percent) == size


# -- §3.1 strict "more than" ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "n", "percent", "expected"),
    [
        (2, 10, 20, False),  # exactly 20% is not more than 20%
        (3, 10, 20, True),
        (0, 10, 0, False),  # maxUnhealthyUpgradedInstancePercent 0: nothing yet is not more than 0
        (1, 10, 0, True),
        (1, 5, 20, False),  # 20% of 5
        (2, 5, 20, True),
        (1, 3, 33, True),  # 33.3% > 33%
        (1, 3, 34, False),
        (10, 10, 100, False),
    ],
)
def test_exceeds_is_strictly_more_than_azure_3_1(count: int, n: int, percent: int, expected: bool) -> None:
    assert exceeds(count, n, percent) is expected


@pytest.mark.parametrize(
    ("health", "power", "unhealthy"),
    [
        ("Healthy", "running", False),
        ("Initializing", "running", False),
        ("Unhealthy", "running", True),
        ("Unknown", "running", True),  # azure-behaviour §3 health signal: Unknown counts as unhealthy
        ("Healthy", "stopped", True),  # "unhealthy for any reason": not running
        ("Healthy", "deallocated", True),
    ],
)
def test_is_unhealthy_for_any_reason_azure_3_1(health: str, power: str, unhealthy: bool) -> None:
    assert is_unhealthy(inst(0, health=health, power=power)) is unhealthy


# -- §3.3 ordering and cutting -------------------------------------------------------------------------


def test_order_is_zone_then_update_domain_then_numeric_id_azure_3_3() -> None:
    fleet = [inst(12, "2", 0), inst(2, "1", 2), inst(10, "1", 0), inst(7, "1", 2), inst(0, "1", 0), inst(3, "2", 0)]
    assert ids(order(fleet, False)) == ["0", "10", "2", "7", "3", "12"]


def test_order_without_zones_sorts_by_update_domain_then_id_azure_3_3() -> None:
    fleet = [inst(i) for i in range(10)]
    assert ids(order(fleet, False)) == ["0", "5", "1", "6", "2", "7", "3", "8", "4", "9"]


def test_prioritize_unhealthy_puts_unhealthy_first_azure_3_3() -> None:
    fleet = [inst(0), inst(1), inst(2, health="Unhealthy"), inst(3, power="stopped"), inst(4, health="Unknown")]
    assert ids(order(fleet, True)) == ["2", "3", "4", "0", "1"]
    assert ids(order(fleet, False)) == ["0", "1", "2", "3", "4"]
    assert order_key(inst(2, health="Unhealthy"), True)[0] < order_key(inst(0), True)[0]
    assert order_key(inst(2, health="Unhealthy"), False)[0] == order_key(inst(0), False)[0]


@pytest.mark.parametrize("prioritize_unhealthy", [False, True])
@pytest.mark.parametrize("cross_zone", [False, True])
@pytest.mark.parametrize("flexible", [False, True])
def test_order_follows_order_key_azure_3_3(prioritize_unhealthy: bool, cross_zone: bool, flexible: bool) -> None:
    """``order`` picks its key once per call (issue 14): the same order as ``order_key`` gives, in every mode
    (azure-behaviour-2 CZ-2, CZ-3, FX-5)."""
    fleet = [
        inst(i, zone=[None, "1", "2", "3"][i % 4], ud=(i * 7) % 5, health=["Healthy", "Unhealthy", "Unknown"][i % 3])
        for i in (12, 3, 40, 7, 0, 25, 19, 8, 31, 2, 16, 5)
    ]
    expected = sorted(fleet, key=lambda i: order_key(i, prioritize_unhealthy, cross_zone, flexible))
    assert ids(order(fleet, prioritize_unhealthy, cross_zone, flexible)) == ids(expected)


def test_take_batch_stops_at_size_azure_3_3() -> None:
    fleet = [inst(i, ud=0) for i in range(5)]
    assert ids(take_batch(fleet, 2, False)) == ["0", "1"]
    assert ids(take_batch(fleet, 10, False)) == ["0", "1", "2", "3", "4"]
    assert take_batch([], 3, False) == []


def test_take_batch_never_spans_update_domains_azure_3_3() -> None:
    fleet = order([inst(0, ud=0), inst(1, ud=1), inst(2, ud=1)], False)
    assert ids(take_batch(fleet, 3, False)) == ["0"]
    assert ids(take_batch(fleet, 3, True)) == ["0"], "cross-zone upgrade does not allow spanning update domains"


def test_take_batch_never_mixes_zones_without_cross_zone_azure_3_3() -> None:
    fleet = order([inst(0, "1", 0), inst(1, "2", 0), inst(2, "2", 0)], False)
    assert ids(take_batch(fleet, 3, False)) == ["0"]
    assert ids(take_batch(fleet, 3, True)) == ["0", "1", "2"]


def test_plan_batches_ten_instances_twenty_percent_gives_five_batches_of_two_azure_3_2() -> None:
    plan = plan_batches([inst(i) for i in range(10)], 10, 20, False, False)
    assert [ids(b) for b in plan] == [["0", "5"], ["1", "6"], ["2", "7"], ["3", "8"], ["4", "9"]]


def test_plan_batches_hundred_instances_limited_by_update_domains_azure_3_3() -> None:
    fleet = [inst(i) for i in range(100)]
    assert [len(b) for b in plan_batches(fleet, 100, 20, False, False)] == [20] * 5
    # 50% would be 50 per batch, but an update domain holds only 20 (instance id % 5)
    assert [len(b) for b in plan_batches(fleet, 100, 50, False, False)] == [20] * 5
    assert [len(b) for b in plan_batches(fleet, 100, 10, False, False)] == [10] * 10


def test_plan_batches_covers_every_candidate_once_azure_3_3() -> None:
    fleet = [inst(i, zone=str(i % 3 + 1)) for i in range(23)]
    plan = plan_batches(fleet, 23, 30, False, True)
    flat = [i for b in plan for i in ids(b)]
    assert sorted(flat, key=int) == [str(i) for i in range(23)]
    for batch in plan:
        assert len({i["zone"] for i in batch}) == 1
        assert len({i["update_domain"] for i in batch}) == 1
        assert len(batch) <= batch_size(23, 30)


def test_plan_batches_size_counts_the_whole_scale_set_not_the_candidates_azure_3_2() -> None:
    # 10 instances, only 4 of them need the upgrade: the batch size still is floor(10 * 50%) = 5
    candidates = [inst(i, ud=0) for i in range(4)]
    assert [len(b) for b in plan_batches(candidates, 10, 50, False, False)] == [4]
    assert [len(b) for b in plan_batches(candidates, 4, 50, False, False)] == [2, 2]


# -- the same rules through a run --------------------------------------------------------------------


def test_run_ten_instances_twenty_percent_five_batches_of_two_by_update_domain_azure_3_2(sim: Sim) -> None:
    sim.vmss(10)
    sim.publish("1.1.0")
    result = sim.start()
    assert batch_names(result) == [["w0", "w5"], ["w1", "w6"], ["w2", "w7"], ["w3", "w8"], ["w4", "w9"]]
    assert [b["update_domain"] for b in result["batches"]] == [0, 1, 2, 3, 4]
    assert [b["index"] for b in result["batches"]] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("n", "sizes"), [(5, [1] * 5), (3, [1] * 3), (1, [1])])
def test_run_five_or_fewer_go_one_by_one_azure_3_2(sim: Sim, n: int, sizes: list[int]) -> None:
    sim.vmss(n)
    sim.publish("1.1.0")
    result = sim.start()
    assert [len(b) for b in batch_names(result)] == sizes
    assert latest_props(result)["runningStatus"]["code"] == "Completed"


@pytest.mark.parametrize(("percent", "sizes"), [(20, [20] * 5), (50, [20] * 5), (10, [10] * 10), (5, [5] * 20)])
def test_run_hundred_instances_batch_bound_and_update_domains_azure_3_2_3_3(
    sim: Sim, percent: int, sizes: list[int]
) -> None:
    sim.vmss(100)
    sim.rolling(max_batch_instance_percent=percent)
    sim.publish("1.1.0")
    result = sim.start()
    assert [len(b) for b in batch_names(result)] == sizes
    for batch in result["batches"]:
        uds = {int(name[1:]) % 5 for name in batch["instances"]}
        assert uds == {batch["update_domain"]}


def test_run_all_in_one_update_domain_uses_the_full_percent_azure_3_2(sim: Sim) -> None:
    sim.vmss(names=[{"name": f"w{i}", "update_domain": 0} for i in range(10)])
    sim.rolling(max_batch_instance_percent=50)
    sim.publish("1.1.0")
    result = sim.start()
    assert batch_names(result) == [["w0", "w1", "w2", "w3", "w4"], ["w5", "w6", "w7", "w8", "w9"]]


def test_run_batches_never_mix_zones_azure_3_3(sim: Sim) -> None:
    sim.vmss(names=[{"name": f"w{i}", "update_domain": 0} for i in range(6)], zones=["1", "2"])
    sim.rolling(max_batch_instance_percent=100)
    sim.publish("1.1.0")
    result = sim.start()
    assert [(b["zone"], b["instances"]) for b in result["batches"]] == [
        ("1", ["w0", "w2", "w4"]),
        ("2", ["w1", "w3", "w5"]),
    ]


def test_run_cross_zone_upgrade_lets_a_batch_span_zones_but_not_update_domains_azure_3_3(sim: Sim) -> None:
    sim.vmss(
        names=[{"name": f"w{i}", "update_domain": 0} for i in range(6)]
        + [{"name": "w6", "update_domain": 1, "zone": "2"}],
        zones=["1", "2"],
    )
    sim.rolling(max_batch_instance_percent=100, enable_cross_zone_upgrade=True)
    sim.publish("1.1.0")
    result = sim.start()
    assert [(b["zone"], b["update_domain"], b["instances"]) for b in result["batches"]] == [
        (None, 0, ["w0", "w2", "w4", "w1", "w3", "w5"]),
        ("2", 1, ["w6"]),
    ]


def test_run_zones_spread_by_id_each_batch_one_zone_and_one_update_domain_azure_3_3(sim: Sim) -> None:
    sim.vmss(30, zones=["1", "2", "3"])
    sim.publish("1.1.0")
    result = sim.start()
    instances = {i["name"]: i for i in result["instances"]}
    seen: list[str] = []
    for batch in result["batches"]:
        members = [instances[n] for n in batch["instances"]]
        assert {m["zone"] for m in members} == {batch["zone"]}
        assert {m["update_domain"] for m in members} == {batch["update_domain"]}
        assert len(members) <= 6
        seen += batch["instances"]
    assert sorted(seen) == sorted(instances)
    zones_in_order = [b["zone"] for b in result["batches"]]
    assert zones_in_order == sorted(zones_in_order), "candidates are ordered by zone first"


def test_run_prioritize_unhealthy_upgrades_unhealthy_first_azure_3_3(sim: Sim) -> None:
    sim.vmss(
        names=[f"w{i}" for i in range(8)] + [{"name": "w8", "health": "Unhealthy"}, {"name": "w9", "health": "Unknown"}]
    )
    sim.rolling(prioritize_unhealthy_instances=True)
    sim.publish("1.1.0")
    result = sim.start()
    assert batch_names(result)[:2] == [["w8"], ["w9"]]  # different update domains: two batches
    assert batch_names(result)[2:] == [["w0", "w5"], ["w1", "w6"], ["w2", "w7"], ["w3"], ["w4"]]
    assert latest_props(result)["runningStatus"]["code"] == "Completed"


def test_run_without_prioritize_keeps_unhealthy_in_their_place_azure_3_3(sim: Sim) -> None:
    sim.vmss(
        names=[f"w{i}" for i in range(8)] + [{"name": "w8", "health": "Unhealthy"}, {"name": "w9", "health": "Unknown"}]
    )
    sim.publish("1.1.0")
    result = sim.start()
    assert batch_names(result) == [["w0", "w5"], ["w1", "w6"], ["w2", "w7"], ["w3", "w8"], ["w4", "w9"]]


def test_run_prioritize_reorders_before_each_batch_azure_3_3(sim: Sim) -> None:
    """An instance that turns unhealthy during the run goes into the next batch when prioritized."""
    from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import fault

    sim.vmss(10, simulation={"faults": [fault("unhealthy_at", instances=["w9"], at="PT1M")]})
    sim.rolling(prioritize_unhealthy_instances=True)
    sim.publish("1.1.0")
    result = sim.start()
    assert batch_names(result)[:2] == [["w0", "w5"], ["w9"]]
