# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault model (design.md "Faults"): which instance misbehaves how, and reproducibility from the seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._model.faults import check_rules, pick
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    Sim,
    by_name,
    canonical,
    extension,
    fault,
    latest_props,
    make_sim,
    sim,
)


def collections_dir() -> str:
    """The sys.path entry holding ansible_collections/azsim/vmss, for a child interpreter's PYTHONPATH."""
    return next(p for p in sys.path if os.path.isdir(os.path.join(p or ".", "ansible_collections", "azsim", "vmss")))


def fleet(n: int) -> list[Instance]:
    """The keys fault picking reads."""
    return [cast(Instance, {"instance_id": str(i), "name": f"w{i}"}) for i in range(n)]


def picked(rules: list[dict[str, Any]], seed: int = 0, n: int = 50, target: str | None = "1.1.0") -> set[str]:
    return set(pick(rules, seed, fleet(n), target))


# -- pick() ----------------------------------------------------------------------------------------


def test_rule_by_name_picks_exactly_those_instances_design_faults() -> None:
    assert pick([fault("boot_unhealthy", instances=["w3", "w7"])], 0, fleet(10), "1.1.0") == {
        "3": {"boot_unhealthy": True},
        "7": {"boot_unhealthy": True},
    }


def test_rule_without_names_or_probability_picks_every_instance_design_faults() -> None:
    assert picked([fault("rollback_failure")], n=4) == {"0", "1", "2", "3"}


def test_each_fault_type_is_recorded_in_its_own_shape_design_faults() -> None:
    rules = [
        fault("boot_unhealthy", instances=["w0"]),
        fault("slow_boot", instances=["w1"], delay="PT4M"),
        fault("slow_boot", instances=["w1"], delay="PT2M"),  # the longest delay wins
        fault("extension_failure", instances=["w2"], extension="a"),
        fault("extension_failure", instances=["w2"], extension="b"),
        fault("rollback_failure", instances=["w3"]),
        fault("unhealthy_at", instances=["w4"], at="PT90S"),
    ]
    assert pick(rules, 0, fleet(5), "1.1.0") == {
        "0": {"boot_unhealthy": True},
        "1": {"slow_boot": 240},
        "2": {"extension_failure": ["a", "b"]},
        "3": {"rollback_failure": True},
        "4": {"unhealthy_at": 90},
    }


def test_image_version_limits_a_rule_to_runs_towards_that_version_design_faults() -> None:
    rules = [fault("boot_unhealthy", instances=["w1"], image_version="1.1.0")]
    assert picked(rules, target="1.1.0") == {"1"}
    assert picked(rules, target="1.2.0") == set()
    assert picked(rules, target=None) == set(), "a model change is not a run towards an image version"


def test_probability_same_seed_same_pick_design_faults() -> None:
    rules = [fault("boot_unhealthy", probability=0.3)]
    assert picked(rules, seed=7) == picked(rules, seed=7)


def test_probability_different_seed_different_pick_for_point_three_on_fifty_design_faults() -> None:
    rules = [fault("boot_unhealthy", probability=0.3)]
    picks = [frozenset(picked(rules, seed=seed)) for seed in range(5)]
    assert len(set(picks)) == 5, "five seeds, five different picks of 0.3 of 50 instances"
    for chosen in picks:
        assert 3 <= len(chosen) <= 30  # roughly 15; certainly neither none nor all


@pytest.mark.parametrize(("probability", "expected"), [(0.0, 0), (1.0, 50)])
def test_probability_zero_and_one_are_exact_design_faults(probability: float, expected: int) -> None:
    assert len(picked([fault("boot_unhealthy", probability=probability)])) == expected


def test_probability_pick_does_not_depend_on_the_order_instances_are_given_design_faults() -> None:
    rules = [fault("boot_unhealthy", probability=0.3)]
    ordered = fleet(50)
    assert pick(rules, 3, ordered, "1.1.0") == pick(rules, 3, list(reversed(ordered)), "1.1.0")


@pytest.mark.system  # Python subprocesses
def test_probability_pick_is_the_same_in_another_process_design_faults() -> None:
    """Bit for bit across processes: no hash randomization or wall clock in the draw."""
    code = textwrap.dedent(
        """
        import json, sys
        from ansible_collections.azsim.vmss.plugins.module_utils._model.faults import pick
        fleet = [{"instance_id": str(i), "name": f"w{i}"} for i in range(50)]
        print(json.dumps(sorted(pick([{"type": "boot_unhealthy", "probability": 0.3}], 11, fleet, "1"), key=int)))
        """
    )
    here = sorted(picked([fault("boot_unhealthy", probability=0.3)], seed=11), key=int)
    build = collections_dir()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": build}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert json.loads(out.stdout) == here


def test_check_rules_refuses_unknown_instances_and_extensions_conventions_12() -> None:
    with pytest.raises(InvalidInput, match=r"simulation.faults\[0\].instances: 'nope'"):
        check_rules([fault("boot_unhealthy", instances=["nope"])], {"w0"}, set())
    with pytest.raises(InvalidInput, match=r"simulation.faults\[1\].extension: 'x'.*known: cfg"):
        check_rules([fault("rollback_failure"), fault("extension_failure", extension="x")], {"w0"}, {"cfg"})
    check_rules([fault("extension_failure", instances=["w0"], extension="cfg")], {"w0"}, {"cfg"})


def test_vmss_refuses_a_fault_on_an_unknown_instance_conventions_12(sim: Sim) -> None:
    with pytest.raises(InvalidInput, match="not an instance of this scale set"):
        sim.vmss(3, simulation={"faults": [fault("boot_unhealthy", instances=["w9"])]})


# -- through a run: each fault type does what design.md says ----------------------------------------


def manual_run(sim: Sim, faults: list[dict[str, Any]], n: int = 10, **vmss: Any) -> dict[str, Any]:
    sim.vmss(n, simulation={"faults": faults}, **vmss)
    sim.publish("1.1.0")
    return sim.start()


def test_boot_unhealthy_never_becomes_healthy_after_the_upgrade_design_faults(sim: Sim) -> None:
    result = manual_run(sim, [fault("boot_unhealthy", instances=["w1"])])
    w1 = by_name(result)["w1"]
    assert (w1["result"], w1["health"], w1["os_disk"]["image_version"]) == ("failed", "Unhealthy", "1.1.0")
    sim.advance("PT2H")
    assert sim.instances()["w1"]["health"] == "Unhealthy"


def test_slow_boot_makes_the_instance_healthy_only_after_its_delay_design_faults(sim: Sim) -> None:
    sim.vmss(10, simulation={"faults": [fault("slow_boot", instances=["w0"], delay="PT2M")]})
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT4M")  # reimage done at 3 min; w5 healthy at 4, w0 only at 5
    assert (sim.instances()["w5"]["health"], sim.instances()["w0"]["health"]) == ("Healthy", "Unknown")
    sim.advance("PT1M")
    assert sim.instances()["w0"]["health"] == "Healthy"
    assert sim.run()["batches"][0]["end"] == sim.now()


def test_extension_failure_fails_that_extension_and_those_after_it_design_faults(sim: Sim) -> None:
    extensions = [extension("first"), extension("second", after=["first"]), extension("other")]
    result = manual_run(
        sim, [fault("extension_failure", instances=["w0"], extension="first")], extensions=extensions, probe=True
    )
    w0 = by_name(result)["w0"]
    assert w0["result"] == "failed"
    assert w0["extensions"] == [
        {"name": "first", "provisioning_state": "Failed"},
        {"name": "second", "provisioning_state": "Failed"},
        {"name": "other", "provisioning_state": "Succeeded"},
    ]
    assert w0["provisioning_state"] == "Failed"
    assert by_name(result)["w5"]["result"] == "upgraded"


def test_unhealthy_at_turns_the_instance_unhealthy_at_that_time_from_the_run_start_design_faults(sim: Sim) -> None:
    sim.vmss(10, simulation={"faults": [fault("unhealthy_at", instances=["w9"], at="PT2M")]})
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT1M59S")
    assert sim.instances()["w9"]["health"] == "Healthy"
    sim.advance("PT1S")
    assert sim.instances()["w9"]["health"] == "Unhealthy"


def test_a_fault_limited_to_another_image_version_does_nothing_design_faults(sim: Sim) -> None:
    result = manual_run(sim, [fault("boot_unhealthy", instances=["w0"], image_version="9.9.9")])
    assert latest_props(result)["progress"]["failedInstanceCount"] == 0


# -- the seed: the same seed gives the same run bit for bit ------------------------------------------


def seeded_scenario(world: Sim, seed: int) -> dict[str, Any]:
    world.vmss(
        50,
        zones=["1", "2", "3"],
        simulation={
            "seed": seed,
            "faults": [
                fault("boot_unhealthy", probability=0.3),
                fault("slow_boot", probability=0.5, delay="PT4M"),
            ],
        },
    )
    world.rolling(max_unhealthy_upgraded_instance_percent=100, max_unhealthy_instance_percent=100)
    world.publish("1.1.0")
    result = world.start()
    return {"run": result, "history": world.history(everything=True), "instances": world.instances()}


def test_same_seed_gives_the_same_run_bit_for_bit_design_faults(make_sim: Callable[[str], Sim]) -> None:
    first, second = make_sim("a"), make_sim("b")
    one, two = seeded_scenario(first, 42), seeded_scenario(second, 42)
    assert canonical(one) == canonical(two)
    assert first.dump() == second.dump(), "the whole store, instances, runs and events, is identical"
    assert latest_props(one["run"])["progress"]["failedInstanceCount"] > 0


def test_different_seed_gives_a_different_pick_and_different_disk_names_design_faults(
    make_sim: Callable[[str], Sim],
) -> None:
    one, two = seeded_scenario(make_sim("a"), 1), seeded_scenario(make_sim("b"), 2)
    failed = [{n for n, i in by_name(r["run"]).items() if i["result"] == "failed"} for r in (one, two)]
    assert failed[0] != failed[1]
    disks = [{n: i["os_disk"]["name"] for n, i in r["instances"].items()} for r in (one, two)]
    assert disks[0]["w0"] != disks[1]["w0"]


@pytest.mark.system  # Python subprocesses
def test_same_seed_same_run_in_another_process_design_faults(tmp_path: Path) -> None:
    """Two interpreters with different hash seeds build the same store and run: identical JSON."""
    build = collections_dir()
    code = textwrap.dedent(
        """
        import json, sys
        from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import Sim, fault
        from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
        world = Sim(Store.open(sys.argv[1]))
        world.publish("1.0.0")
        world.vmss(30, simulation={"seed": 5, "faults": [fault("boot_unhealthy", probability=0.3)]})
        world.rolling(max_unhealthy_upgraded_instance_percent=100, max_unhealthy_instance_percent=100)
        world.publish("1.1.0")
        result = world.start()
        print(json.dumps({"run": result, "history": world.history(True)}, sort_keys=True))
        """
    )
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": build}
        path = str(tmp_path / f"p{hash_seed}" / "s.sqlite")
        out = subprocess.run([sys.executable, "-c", code, path], env=env, capture_output=True, text=True, check=True)
        outputs.append(out.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["run"]["rolling_upgrade"]["properties"]["progress"]["failedInstanceCount"] > 0
