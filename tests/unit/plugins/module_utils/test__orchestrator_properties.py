# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of the run engine over random fleets, policies and faults (azure-behaviour §3).

Each example builds a scale set of 1-60 instances (zones none or 1-3, default, random or shared update
domains, some unhealthy or stopped, some already on the target image), a random rolling policy, a manual
or platform start, and random fault rules with a random seed; then drives the run to its end. Everything
happens in one store transaction that is rolled back, so every example starts from the same new store.

The pre-check is observed where it is decided: ``_Context.on_batch_start`` is wrapped, and the test counts
the unhealthy instances itself (health Unhealthy or Unknown, or not running: azure-behaviour §3.1 and the
health signal) from the very instance dicts the engine decides on, before the engine runs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._engine import orchestrator, run_start, simulation
from ansible_collections.azsim.vmss.plugins.module_utils._engine.run_checks import failed_of
from ansible_collections.azsim.vmss.plugins.module_utils._engine.run_failures import run_failures
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import FIXED_AUTOMATIC_ROLLING_POLICY
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import ACTIVE
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.plugins.module_utils._views import runs
from ansible_collections.azsim.vmss.tests.unit._call import act
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (
    HEALTH_EXTENSION,
    IMAGE,
    KEY,
    NAME,
    PROBE,
    RG,
    SUB,
    VMSS_KEYS,
    extension,
)

OLD, TARGET = "1.0.0", "1.1.0"
HORIZON = 30 * 86400
HEALTH = st.sampled_from(["Healthy"] * 8 + ["Unhealthy", "Unknown", "Initializing"])
POWER = st.sampled_from(["running"] * 12 + ["stopped", "deallocated"])


def spec_unhealthy(instance: dict[str, Any]) -> bool:
    """azure-behaviour §3.1: unhealthy for any reason (Unknown counts as unhealthy; not running is unhealthy)."""
    return instance["health"] in ("Unhealthy", "Unknown") or instance["power_state"] != "running"


def more_than(count: int, n: int, percent: int) -> bool:
    return count / n > percent / 100


def bound(n: int, percent: int) -> int:
    return max(1, n * percent // 100)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 60))
    on_target = draw(st.integers(0, min(5, n - 1)))  # created after the newer image: already on it
    zones = [str(z) for z in range(1, draw(st.integers(0, 3)) + 1)]
    ud_mode = draw(st.sampled_from(["default", "random", "shared"]))
    instances = []
    for i in range(n):
        entry: dict[str, Any] = {"name": f"h{i}"}
        if bool(zones) and draw(st.booleans()):
            entry["zone"] = draw(st.sampled_from(zones))
        if ud_mode == "random":
            entry["update_domain"] = draw(st.integers(0, 6))
        elif ud_mode == "shared":
            entry["update_domain"] = 0
        entry["health"] = draw(HEALTH)
        entry["power_state"] = draw(POWER)
        instances.append(entry)
    names = [e["name"] for e in instances]
    fault_rules = []
    for _rule in range(draw(st.integers(0, 4))):
        kind = draw(
            st.sampled_from(["boot_unhealthy", "slow_boot", "extension_failure", "rollback_failure", "unhealthy_at"])
        )
        rule: dict[str, Any] = {"type": kind}
        how = draw(st.sampled_from(["probability", "names", "all"]))
        if how == "probability":
            rule["probability"] = draw(st.sampled_from([0.05, 0.1, 0.3, 0.5, 1.0]))
        elif how == "names":
            rule["instances"] = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
        if kind == "slow_boot":
            rule["delay"] = draw(st.sampled_from(["PT30S", "PT2M", "PT4M", "PT5M", "PT6M"]))
        elif kind == "extension_failure":
            rule["extension"] = "cfg"
        elif kind == "unhealthy_at":
            rule["at"] = draw(st.sampled_from(["PT0S", "PT1M", "PT3M", "PT5M", "PT10M", "PT30M"]))
        fault_rules.append(rule)
    started_by = draw(st.sampled_from(["User", "Platform"]))
    return {
        "instances": instances,
        "on_target": on_target,
        "zones": zones,
        "health_source": draw(st.sampled_from(["probe", "extension", "none"])),
        "seed": draw(st.integers(0, 2**31 - 1)),
        "faults": fault_rules,
        "started_by": started_by,
        # azure-behaviour §3 cancel: minutes after the start, or never
        "cancel_after": draw(st.one_of(st.none(), st.none(), st.integers(0, 40))),
        "automatic": {
            "enableAutomaticOSUpgrade": started_by == "Platform",
            "disableAutomaticRollback": draw(st.booleans()),
            "useRollingUpgradePolicy": draw(st.booleans()),
            "osRollingUpgradeDeferral": False,
        },
        "rolling": {
            "maxBatchInstancePercent": draw(st.integers(5, 100)),
            "maxUnhealthyInstancePercent": draw(st.integers(5, 100)),
            "maxUnhealthyUpgradedInstancePercent": draw(st.integers(0, 100)),
            "pauseTimeBetweenBatches": draw(st.sampled_from(["PT0S", "PT0S", "PT1M", "PT10M"])),
            "enableCrossZoneUpgrade": draw(st.booleans()),
            "prioritizeUnhealthyInstances": draw(st.booleans()),
            "rollbackFailedInstancesOnPolicyBreach": draw(st.booleans()),
            "maxSurge": draw(st.booleans()),
        },
    }


def vmss_params(scenario: dict[str, Any], instances: list[dict[str, Any]], faults: bool) -> dict[str, Any]:
    params: dict[str, Any] = {k: None for k in VMSS_KEYS}
    params.update(resource_group=RG, name=NAME, state="present", instances=instances)
    if not faults:  # creation
        params["image"] = {**IMAGE, "version": "latest", "id": None}
        params["zones"] = scenario["zones"]
        params["extensions"] = [extension("cfg")]
        if scenario["health_source"] == "probe":
            params["health_probe"] = dict(PROBE)
        elif scenario["health_source"] == "extension":
            params["extensions"] = [HEALTH_EXTENSION, extension("cfg")]
        params["simulation"] = {
            "seed": scenario["seed"],
            "faults": [],
            "reimage_duration": None,
            "boot_duration": None,
            "first_rollout_delay": None,
            "rollout_delay": None,
        }
    else:
        params["simulation"] = {
            "seed": None,
            "faults": scenario["faults"],
            "reimage_duration": None,
            "boot_duration": None,
            "first_rollout_delay": None,
            "rollout_delay": None,
        }
    return params


def publish(store: Store, version: str) -> None:
    act(
        publish_image,
        store,
        SUB,
        {
            **IMAGE,
            "location": "eastus",
            "gallery_image_id": None,
            "version": version,
            "target_regions": None,
            "exclude_from_latest": None,
            "state": "present",
        },
    )


def simulate(store: Store, scenario: dict[str, Any]) -> dict[str, Any]:
    """Build the fleet, run the upgrade to its end, observe every pre-check; all rolled back."""
    observations: list[dict[str, Any]] = []
    original = orchestrator._Context.on_batch_start

    def observed(ctx: Any, ids: list[Any]) -> None:
        run = ctx.run
        seen = {
            "active": run["status"] in ACTIVE and not run["cancel_requested"],
            "unhealthy": sum(spec_unhealthy(i) for i in ctx.instances),
            "n": run["n"],
            "first": not run["batches"],
            "batches_before": len(run["batches"]),
            "pending_before": len(run["pending"]),
        }
        original(ctx, ids)
        seen.update(
            started=len(run["batches"]) > seen["batches_before"],
            status=run["status"],
            code=(run["error"] or {}).get("code"),
        )
        observations.append(seen)

    # azure-behaviour-2 ER-6: the failed instances the engine keeps per batch (run_failures.py) against a scan of
    # the whole outcome, at every point where the in-progress error is decided.
    failed_seen: list[tuple[list[str], list[str]]] = []
    original_note = orchestrator._Context.note_failures

    def noted(ctx: Any) -> None:
        failed_seen.append((run_failures(ctx.store, ctx.run).ids(), failed_of(ctx.run["outcome"])))
        original_note(ctx)

    instances = scenario["instances"]
    old_part = instances[: len(instances) - scenario["on_target"]]
    with (
        store.transaction(commit=False),
        mock.patch.object(orchestrator._Context, "on_batch_start", observed),
        mock.patch.object(orchestrator._Context, "note_failures", noted),
    ):
        publish(store, OLD)
        act(ensure_scale_set, store, SUB, vmss_params(scenario, old_part, faults=False))
        publish(store, TARGET)
        act(ensure_scale_set, store, SUB, vmss_params(scenario, instances, faults=True))
        fleet = fleet_of(store)
        record = fleet.record(KEY)
        assert record is not None
        record["model"]["properties"]["upgradePolicy"] = {
            "mode": "Manual",
            "automaticOSUpgradePolicy": dict(scenario["automatic"]),
            "rollingUpgradePolicy": dict(scenario["rolling"]),
        }
        before = {i["name"]: copy.deepcopy(i) for i in fleet.instances(KEY)}
        run = run_start.start_run(store, KEY, "os", scenario["started_by"])
        assert run is not None
        cancelled_at = None
        if scenario["cancel_after"] is not None:
            when = run["start"] + scenario["cancel_after"] * 60
            simulation.advance(store, when, stop=lambda: not orchestrator.is_active(run))
            if orchestrator.is_active(run) and store.now() == when:
                assert orchestrator.cancel(store, KEY) is run
                cancelled_at = when
        simulation.advance(store, store.now() + HORIZON, stop=lambda: not orchestrator.is_active(run))
        after = {i["name"]: copy.deepcopy(i) for i in fleet.instances(KEY)}
        view = runs.run_view(store, KEY, run)
        history = runs.history(fleet.recent_runs(KEY, "os"), record)
        return {
            "run": copy.deepcopy(run),
            "before": before,
            "after": after,
            "view": view,
            "history": history,
            "observations": observations,
            "cancelled_at": cancelled_at,
            "failed_seen": failed_seen,
        }


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("properties") / "vmss.sqlite"
    store = Store.open(str(path))
    try:
        yield store
    finally:
        store.close()


def assert_cancel_held(run: Any, cancelled_at: int | None) -> None:
    """Cancel (§3): instances in flight finish, no new batch starts, Cancelled unless a check stopped it first."""
    if cancelled_at is None:
        assert run["status"] != "Cancelled" and run["last_action"] == "Start"
    else:
        assert run["status"] in ("Cancelled", "Faulted")
        assert (run["last_action"], run["last_action_time"]) == ("Cancel", cancelled_at)
        assert all(batch["start"] <= cancelled_at for batch in run["batches"]), "a batch started after the cancel"
        assert run["end"] >= cancelled_at


def assert_batches_held(run: Any, instances_by_id: dict[str, Any], candidates: set[str], n: int) -> set[str]:
    """Batches: bound, zones, update domains (§3.2, §3.3); each instance at most once; only candidates; and they
    follow each other separated by exactly the pause (§3.7). Returns the instances the batches held."""
    policy = run["policy"]
    seen: set[str] = set()
    size = bound(n, policy["maxBatchInstancePercent"])
    for batch in run["batches"]:
        members = [instances_by_id[i] for i in batch["instances"]]
        assert 1 <= len(members) <= size
        assert len({m["update_domain"] for m in members}) == 1
        if not policy["enableCrossZoneUpgrade"]:
            assert len({m["zone"] for m in members}) == 1
        assert not seen & set(batch["instances"])
        seen |= set(batch["instances"])
        assert set(batch["instances"]) <= candidates, "instances already on the target are skipped"
        assert batch["end"] is not None and batch["end"] >= batch["start"]
    pause = {"PT0S": 0, "PT1M": 60, "PT10M": 600}[policy["pauseTimeBetweenBatches"]]
    for earlier, later in zip(run["batches"], run["batches"][1:]):
        assert later["start"] == earlier["end"] + pause
    return seen


def assert_prechecks_held(observations: list[dict[str, Any]], policy: Any) -> None:
    """The pre-check (§3.1), observed where the engine decides, before every batch."""
    decisions = [o for o in observations if o["active"]]
    assert decisions, "at least the first batch's pre-check happened"
    for seen_at in decisions:
        breach = more_than(seen_at["unhealthy"], seen_at["n"], policy["maxUnhealthyInstancePercent"])
        if seen_at["started"]:
            assert not breach, f"a batch started with {seen_at['unhealthy']} of {seen_at['n']} unhealthy"
        elif breach:
            assert seen_at["status"] == "Faulted"
            assert seen_at["code"] == (
                "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"
                if seen_at["first"]
                else "MaxUnhealthyInstancePercentExceededInRollingUpgrade"
            )
        else:
            assert seen_at["pending_before"] == 0 and seen_at["status"] == "Completed"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario=scenarios())
def test_run_invariants_hold_for_random_fleets_policies_and_faults_azure_3(
    shared_store: Store, scenario: dict[str, Any]
) -> None:
    outcome = simulate(shared_store, scenario)
    run, before, after, view = outcome["run"], outcome["before"], outcome["after"], outcome["view"]
    n = len(before)
    policy = run["policy"]
    instances_by_id = {i["instance_id"]: i for i in before.values()}
    names_by_id = {i["instance_id"]: i["name"] for i in before.values()}
    candidates = {i["instance_id"] for i in before.values() if i["os_disk"]["image_version"] != TARGET}
    assert len(candidates) == n - scenario["on_target"]

    # whose policy (azure-behaviour §1): a platform run without useRollingUpgradePolicy uses 20/20/20/PT0S,
    # but surges when the scale set does (azure-behaviour-2 D3)
    if scenario["started_by"] == "Platform" and not scenario["automatic"]["useRollingUpgradePolicy"]:
        assert policy == {**FIXED_AUTOMATIC_ROLLING_POLICY, "maxSurge": scenario["rolling"]["maxSurge"]}
    else:
        assert policy == {**FIXED_AUTOMATIC_ROLLING_POLICY, **scenario["rolling"]}

    # the run ended; nothing is left in flight
    assert run["status"] in ("Completed", "Faulted", "Cancelled"), run["status"]
    assert run["end"] is not None

    assert_cancel_held(run, outcome["cancelled_at"])
    seen = assert_batches_held(run, instances_by_id, candidates, n)
    assert_prechecks_held(outcome["observations"], policy)
    for kept, scanned in outcome["failed_seen"]:
        assert kept == scanned, "the failed instances kept batch by batch are those of the whole outcome (ER-6)"

    # progress adds up to the candidates (§5)
    progress = view["rolling_upgrade"]["properties"]["progress"]
    assert progress["inProgressInstanceCount"] == 0
    assert sum(progress.values()) == len(candidates)
    if run["status"] == "Completed":
        assert progress["pendingInstanceCount"] == 0

    # post-batch check (§3.6): a completed run never had more than the threshold failed after upgrade
    failed = progress["failedInstanceCount"]
    if run["status"] == "Completed":
        assert not more_than(failed, n, policy["maxUnhealthyUpgradedInstancePercent"])
    if (run["error"] or {}).get("code") == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade":
        assert more_than(failed, n, policy["maxUnhealthyUpgradedInstancePercent"])

    # every instance ends on exactly one of the old or the target version, the one its result says
    rollback = scenario["started_by"] == "Platform" and not scenario["automatic"]["disableAutomaticRollback"]
    results = {i["name"]: i["result"] for i in view["instances"]}
    for name, instance in after.items():
        version = instance["os_disk"]["image_version"]
        assert version in (OLD, TARGET)
        result = results[name]
        expected = {
            "upgraded": TARGET,
            "skipped": TARGET,
            "pending": OLD,
            "rolled_back": OLD,
            "rollback_failed": TARGET,
            # maxSurge (azure-behaviour-2 MS-8): the old instance is kept when the run rolls back or the new
            # one's creation failed; otherwise the failed new one stays
            "failed": OLD if run["outcome"].get(instance["instance_id"], {}).get("kept_old") else TARGET,
        }[result]
        assert version == expected, f"{name}: {result} on {version}"
        if result in ("rolled_back", "rollback_failed"):
            assert rollback or policy["rollbackFailedInstancesOnPolicyBreach"], "a manual run never rolls back"
        if result == "rolled_back":
            assert instance["os_disk"] == before[name]["os_disk"], "the previous OS disk itself comes back"
        if result == "skipped":
            assert instance["os_disk"] == before[name]["os_disk"]
        assert instance["data_disks"] == before[name]["data_disks"]
    assert {names_by_id[i] for i in seen} == {n_ for n_, r in results.items() if r not in ("skipped", "pending")}

    # the same store and seed give the same run, bit for bit
    again = simulate(shared_store, scenario)
    for part in ("run", "after", "view", "history"):
        assert json.dumps(again[part], sort_keys=True) == json.dumps(outcome[part], sort_keys=True), part
