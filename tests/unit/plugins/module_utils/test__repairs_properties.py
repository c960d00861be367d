# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of automatic repairs over random fleets, health, repair actions, failing repairs and upgrades
(azure-behaviour-2 §8).

Each example builds a scale set of 1-45 instances with a health probe and an enabled repairs policy, some
instances Unhealthy or Unknown, random repair_failure and boot faults, and maybe an OS rolling upgrade started at
a random minute; then moves the clock six hours. Every repair start is observed where it is decided
(``_Tick.start`` is wrapped) and must hold:

- never more repairs at once than ``max(1, floor(5% of N))`` (AR-3);
- never an instance that a rolling upgrade has in its current batch, health wait or restore (AR-12, D12);
- never before the instance's grace period ended (AR-5), never an Initializing or healthy one (AR-3);
- never while the service is not Running (AR-8, AR-10).

Everything happens in one store transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import start_os_rolling_upgrade
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._engine import repairs, simulation
from ansible_collections.azsim.vmss.plugins.module_utils._model import repairs as policy
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance
from ansible_collections.azsim.vmss.plugins.module_utils._model.repair_services import service_state
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit._call import act
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (
    IMAGE,
    KEY,
    NAME,
    PROBE,
    RG,
    SUB,
)
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils.test__orchestrator_properties import publish

HEALTH = st.sampled_from(["Healthy"] * 6 + ["Unhealthy", "Unknown", "Initializing"])


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.integers(1, 45))
    names = [f"web-{i:02d}" for i in range(size)]
    failing = draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
    boot = draw(st.lists(st.sampled_from(names), max_size=4, unique=True))
    faults: list[dict[str, Any]] = []
    if failing:
        faults.append({"type": "repair_failure", "instances": failing})
    if boot:
        faults.append({"type": "boot_unhealthy", "instances": boot})
    return {
        "instances": [{"name": n, "health": draw(HEALTH)} for n in names],
        "action": draw(st.sampled_from(policy.REPAIR_ACTIONS)),
        "grace": draw(st.sampled_from(["PT10M", "PT15M", "PT90M"])),
        "faults": faults,
        "upgrade_at": draw(st.one_of(st.none(), st.integers(0, 120))),
        "unhealthy_later": draw(st.lists(st.sampled_from(names), max_size=5, unique=True)),
    }


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("repairs") / "vmss.sqlite"
    store = Store.open(str(path))
    try:
        yield store
    finally:
        store.close()


def simulate(store: Store, scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """Every repair start, with what the invariants need, seen before the engine records it."""
    starts: list[dict[str, Any]] = []
    original = repairs._Tick.start

    def observed(tick: Any, instance: Instance, action: Any) -> None:
        run = tick.fleet.latest_run(tick.key)
        starts.append(
            {
                "at": tick.now,
                "under_way": len(tick.state["repairing"]),
                "cap": policy.cap(len(tick.fleet.instances(tick.key))),
                "busy": bool(
                    run
                    and run["status"] in ("RollingForward", "RollingBack")
                    and instance["instance_id"] in run["flight"]
                ),
                "grace_until": tick.state["grace_until"][instance["instance_id"]],
                "health": instance["health"],
                "service": service_state(tick.record),
            }
        )
        original(tick, instance, action)

    base = {"resource_group": RG, "name": NAME}
    with store.transaction(commit=False), mock.patch.object(repairs._Tick, "start", observed):
        publish(store, "1.0.0")
        act(
            ensure_scale_set,
            store,
            SUB,
            {
                **base,
                "image": {**IMAGE, "version": "latest"},
                "health_probe": dict(PROBE),
                "instances": scenario["instances"],
                "automatic_repairs": {
                    "enabled": True,
                    "grace_period": scenario["grace"],
                    "repair_action": scenario["action"],
                },
                "simulation": {"faults": scenario["faults"]},
            },
        )
        if scenario["upgrade_at"] is not None:
            simulation.advance(store, store.now() + scenario["upgrade_at"] * 60)
            publish(store, "1.1.0")
            act(start_os_rolling_upgrade, store, SUB, {**base, "wait": False, "fail_on_fault": False})
        fleet_of(store).flush()  # what a call's commit writes, so that the next call reads it from the store
        later = [{"name": n, "health": "Unhealthy"} if n in scenario["unhealthy_later"] else n
                 for n in (i["name"] for i in scenario["instances"])]  # fmt: skip
        act(ensure_scale_set, store, SUB, {**base, "instances": later})
        simulation.advance(store, store.now() + 6 * 3600)
        assert fleet_of(store).record(KEY) is not None
    return starts


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_repairs_never_exceed_the_cap_never_touch_a_batch_in_flight_never_start_early_ar_3_ar_5_ar_12(
    shared_store: Store, scenario: dict[str, Any]
) -> None:
    starts = simulate(shared_store, scenario)
    event(f"repairs started: {'some' if starts else 'none'}")
    for start in starts:
        assert start["under_way"] < start["cap"], start  # AR-3: this start stays within the cap
        assert not start["busy"], start  # AR-12, D12
        assert start["grace_until"] <= start["at"], start  # AR-5
        assert start["health"] in ("Unhealthy", "Unknown"), start  # AR-3
        assert start["service"] == "Running", start  # AR-8, AR-10
