# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of batching and surge over random fleets, policies, faults and kinds of run.

azure-behaviour §3.2-3.3 and azure-behaviour-2 CZ-2…CZ-6, MS-4, MS-6, D3: for OS upgrades (manual or
platform) and rolling model updates, on regional or zonal scale sets, with or without
enableCrossZoneUpgrade and maxSurge:

- no batch is over the policy's limit, and every batch is cut where CZ-2/CZ-3 say and nowhere else;
- every instance is attempted at most once, and only if it needed the upgrade;
- with maxSurge, the scale set never has fewer than N built instances while the run goes (capacity N),
  but during a batch whose quota check failed and which goes in place (MS-7);
- the progress counters add up to the candidates;
- instances protected from scale-set actions and those whose application reported SkipUpgrade are never
  attempted and keep their image and id, but count in N (azure-behaviour-2 IP-4, IP-6, IP-10, AH-13, D5);
- with custom-metric phases, batches go phase by phase and never mix phases (AH-11, AH-12);
- with a BatchStarting lifecycle hook on a platform run, each batch waits for its event, whose targets are
  approved, rejected or left to the hook's default at random: rejected instances are never attempted, keep
  their image, count in N but in no progress counter, and are not failed (LH-16, D2, D5).

Capacity is observed where time moves: ``orchestrator.step`` is wrapped, and after every step the test
counts the instances that are built and serving (neither being created nor updated in place). The same
wrapper decides each batch event as it is raised, as a user of vmss_lifecycle_hook_event would.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._engine import hook_gate, orchestrator, run_start, simulation
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.lifecycle_hooks import find_event
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import FIXED_AUTOMATIC_ROLLING_POLICY
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

HORIZON = 30 * 86400
# Built and serving: not being created beside an old instance, not being rebuilt in place.
NOT_SERVING = ("Updating", "Creating")


def limit(n: int, percent: int) -> int:
    """azure-behaviour §3.2, CZ-4: max(1, floor(N * maxBatchInstancePercent / 100)), N the whole scale set."""
    return max(1, n * percent // 100)


def spec_key(instance: dict[str, Any], cross_zone: bool) -> tuple[Any, ...]:
    """CZ-2 (zone, UD, id) without the flag; CZ-3 (UD, zone, id) with it."""
    zone, ud, iid = instance["zone"] or "", instance["update_domain"], int(instance["instance_id"])
    return (ud, zone, iid) if cross_zone else (zone, ud, iid)


def same_cut(a: dict[str, Any], b: dict[str, Any], cross_zone: bool) -> bool:
    """Whether b may join a's batch: same UD, and same zone unless cross-zone (CZ-2, CZ-3)."""
    return a["update_domain"] == b["update_domain"] and (cross_zone or a["zone"] == b["zone"])


@st.composite
def scenarios(draw: st.DrawFn, hooked: bool = False) -> dict[str, Any]:
    """A random fleet, policy, faults and kind of run; ``hooked``: a platform OS run with a BatchStarting hook."""
    n = draw(st.integers(1, 40))
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
        entry["health"] = draw(st.sampled_from(["Healthy"] * 10 + ["Unhealthy", "Unknown"]))
        protection = draw(st.sampled_from([None] * 6 + ["actions", "scale_in"]))
        if protection is not None:
            entry["protection"] = (
                {"from_scale_set_actions": True} if protection == "actions" else {"from_scale_in": True}
            )
        metrics = draw(st.sampled_from([None] * 3 + [0, 1, 2, "skip"]))
        if metrics is not None:
            entry["custom_metrics"] = (
                {"skip_upgrade": True} if metrics == "skip" else {"phase_ordering_number": metrics}
            )
        instances.append(entry)
    names = [e["name"] for e in instances]
    faults = []
    for _rule in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["boot_unhealthy", "slow_boot", "extension_failure", "unhealthy_at"]))
        rule: dict[str, Any] = {
            "type": kind,
            "instances": draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True)),
        }
        if kind == "slow_boot":
            rule["delay"] = draw(st.sampled_from(["PT2M", "PT6M"]))
        elif kind == "extension_failure":
            rule["extension"] = "cfg"
        elif kind == "unhealthy_at":
            rule["at"] = draw(st.sampled_from(["PT1M", "PT10M"]))
        faults.append(rule)
    kind = "os-platform" if hooked else draw(st.sampled_from(["os-user", "os-platform", "model"]))
    # LH-16, D2: a BatchStarting hook (it gates platform OS runs only, LH-3); each target of each event is
    # approved, rejected or left Waiting for the hook's default action, in this drawn order.
    hook = draw(st.sampled_from(["Approve", "Reject"] if hooked else [None, "Approve", "Reject"]))
    decisions = draw(st.lists(st.sampled_from(["Approved", "Rejected", None]), min_size=n, max_size=n))
    return {
        "hook": hook,
        "decisions": decisions,
        "instances": instances,
        "zones": zones,
        "faults": faults,
        "kind": kind,
        # AH-8: custom metrics count only with the rich-states http health extension as the health source
        "rich_health": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31 - 1)),
        "use_rolling_policy": draw(st.booleans()),
        # MS-7: room for this many more instances (None: no limit); a batch that does not fit goes in place
        "surge_quota": draw(st.sampled_from([None, None, 0, 1, 3])),
        "rolling": {
            "maxBatchInstancePercent": draw(st.integers(5, 100)),
            "maxUnhealthyInstancePercent": draw(st.sampled_from([20, 50, 100])),
            "maxUnhealthyUpgradedInstancePercent": draw(st.sampled_from([0, 20, 100])),
            "pauseTimeBetweenBatches": draw(st.sampled_from(["PT0S", "PT1M"])),
            "enableCrossZoneUpgrade": draw(st.booleans()),
            "prioritizeUnhealthyInstances": draw(st.booleans()),
            "rollbackFailedInstancesOnPolicyBreach": draw(st.booleans()),
            "maxSurge": draw(st.booleans()),
        },
    }


def publish(store: Store, version: str) -> None:
    params = {**IMAGE, "location": "eastus", "gallery_image_id": None, "version": version}
    act(publish_image, store, SUB, {**params, "target_regions": None, "exclude_from_latest": None, "state": "present"})


def build(store: Store, scenario: dict[str, Any]) -> None:
    params: dict[str, Any] = {k: None for k in VMSS_KEYS}
    params.update(resource_group=RG, name=NAME, state="present", instances=scenario["instances"])
    params.update(image={**IMAGE, "version": "latest", "id": None}, zones=scenario["zones"])
    if scenario["hook"] is not None:  # LH-1: hooks need api-version 2025-11-01
        hook = {"type": "UpgradeAutoOSRollingBatchStarting", "wait_duration": None, "default_action": scenario["hook"]}
        params.update(api_version="2025-11-01", lifecycle_hooks=[hook])
    if scenario["rich_health"]:
        params.update(extensions=[extension("cfg"), dict(HEALTH_EXTENSION)])
    else:
        params.update(extensions=[extension("cfg")], health_probe=dict(PROBE))
    keys = ("reimage_duration", "boot_duration", "first_rollout_delay", "rollout_delay")
    params["simulation"] = {
        "seed": scenario["seed"],
        "faults": scenario["faults"],
        "surge_quota": scenario["surge_quota"],
        **{k: None for k in keys},
    }
    act(ensure_scale_set, store, SUB, params)


def simulate(store: Store, scenario: dict[str, Any]) -> dict[str, Any]:
    """Build the fleet, start the run, drive it to its end observing capacity after every step; rolled back."""
    # (instances serving, instances in all, size of a batch going in place or 0) after each step
    capacity: list[tuple[int, int, int]] = []
    original = orchestrator.step
    decisions = iter(scenario["decisions"] * 2)
    decided: set[str] = set()

    def observed(store_: Store, key: str, run_id: int) -> list[dict[str, Any]]:
        reports = original(store_, key, run_id)
        instances = fleet_of(store_).instances(key)
        run = fleet_of(store_).run(key, run_id)
        assert run is not None
        held = run.get("hook_batch")
        if held is not None and held["event"] not in decided:
            decide(store_, key, held["event"], decisions)
            decided.add(held["event"])
        current = run["batches"][run["current_batch"] - 1] if run["current_batch"] else None
        in_place = len(current["instances"]) if current is not None and not current.get("surge") else 0
        serving = sum(i["provisioning_state"] not in NOT_SERVING for i in instances)
        capacity.append((serving, len(instances), in_place))
        return reports

    with store.transaction(commit=False), mock.patch.object(orchestrator, "step", observed):
        publish(store, "1.0.0")
        build(store, scenario)
        fleet = fleet_of(store)
        record = fleet.record(KEY)
        assert record is not None
        platform = scenario["kind"] == "os-platform"
        record["model"]["properties"]["upgradePolicy"] = {
            "mode": "Rolling" if scenario["kind"] == "model" else "Manual",
            "automaticOSUpgradePolicy": {
                "enableAutomaticOSUpgrade": platform,
                "disableAutomaticRollback": False,
                "useRollingUpgradePolicy": scenario["use_rolling_policy"],
                "osRollingUpgradeDeferral": False,
            },
            "rollingUpgradePolicy": dict(scenario["rolling"]),
        }
        if scenario["kind"] == "model":
            record["model_version"] += 1  # a model change every instance must take
            run = run_start.start_run(store, KEY, "model", "User")
        else:
            publish(store, "1.1.0")
            run = run_start.start_run(store, KEY, "os", "Platform" if platform else "User")
        before = {i["instance_id"]: copy.deepcopy(i) for i in fleet.instances(KEY)}
        if run is None:  # IP-6, AH-13: nothing to do when every instance is left alone
            return {"run": None, "before": before}
        simulation.advance(store, store.now() + HORIZON, stop=lambda: not orchestrator.is_active(run))
        return {
            "run": copy.deepcopy(run),
            "before": before,
            "capacity": capacity,
            "view": runs.run_view(store, KEY, run),
        }


def decide(store: Store, key: str, name: str, decisions: Iterator[str | None]) -> None:
    """Decide the batch event ``name`` as the user would (vmss_lifecycle_hook_event): each target approved,
    rejected, or left for the default action at ``waitUntil`` (LH-13)."""
    record = fleet_of(store).record(key)
    assert record is not None
    event = find_event(record, name)
    assert event is not None and event["state"] == "Active"
    states: dict[str, Any] = {}
    for target in event["targets"]:
        choice = next(decisions, None)
        if choice is not None:
            states[target["id"].lower()] = choice
    hook_gate.decide(store, key, record, event, states)


def rejected(run: dict[str, Any]) -> set[str]:
    """LH-16, D2: instances a batch event rejected (explicitly or by default): they left the run."""
    return {i for i, o in run["outcome"].items() if o["result"] == "rejected_by_hook"}


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("batching") / "vmss.sqlite"
    store = Store.open(str(path))
    try:
        yield store
    finally:
        store.close()


def assert_policy(run: dict[str, Any], scenario: dict[str, Any]) -> None:
    """azure-behaviour §1 and D3/CZ-6: a platform run without the rolling policy uses 20/20/20/PT0S, no
    cross-zone, and surges when the scale set does."""
    if scenario["kind"] == "os-platform" and not scenario["use_rolling_policy"]:
        assert run["policy"] == {**FIXED_AUTOMATIC_ROLLING_POLICY, "maxSurge": scenario["rolling"]["maxSurge"]}
    else:
        assert run["policy"] == {**FIXED_AUTOMATIC_ROLLING_POLICY, **scenario["rolling"]}


def left_alone(run: dict[str, Any]) -> set[str]:
    """IP-6, AH-13: the instances the run never considers (protected, or SkipUpgrade at its start)."""
    return set(run.get("protected", [])) | set(run.get("skipped_by_application", []))


def phase_of(run: dict[str, Any], iid: str) -> float:
    """AH-11: the instance's phase as read at run start; no phase is the last one."""
    phase = run.get("phases", {}).get(iid)
    return float("inf") if phase is None else float(phase)


def assert_left_alone(run: dict[str, Any], before: dict[str, Any], scenario: dict[str, Any]) -> None:
    """IP-4, IP-10, AH-12…AH-14: who is left alone, exactly, and that they are untouched; N counts them (D5)."""
    by_name = {e["name"]: e for e in scenario["instances"]}
    protected = {
        i for i, inst in before.items() if by_name[inst["name"]].get("protection", {}).get("from_scale_set_actions")
    }
    assert set(run.get("protected", [])) == protected
    skipping = {
        i
        for i, inst in before.items()
        if scenario["rich_health"]
        and i not in protected
        and inst["health"] == "Healthy"
        and by_name[inst["name"]].get("custom_metrics", {}).get("skip_upgrade")
    }
    # Every instance here needs the run (a new image, or a new model in Rolling mode): all were candidates.
    assert set(run.get("skipped_by_application", [])) == skipping
    assert run["n"] == len(before)
    attempted = {i for b in run["batches"] for i in b["instances"]}
    assert not attempted & left_alone(run), "a protected or skipped instance was attempted"
    if not scenario["rich_health"]:
        assert not run.get("skipped_by_application") and not run.get("phases"), "AH-8: metrics need rich health"


def assert_nothing_to_do(before: dict[str, Any], scenario: dict[str, Any]) -> None:
    """No run starts only when every instance is protected from scale-set actions, or reported SkipUpgrade while
    Healthy with rich health states (IP-6, AH-13, AH-14)."""
    by_name = {e["name"]: e for e in scenario["instances"]}
    for instance in before.values():
        entry = by_name[instance["name"]]
        skips = (
            scenario["rich_health"]
            and instance["health"] == "Healthy"
            and entry.get("custom_metrics", {}).get("skip_upgrade")
        )
        assert entry.get("protection", {}).get("from_scale_set_actions") or skips, f"{instance['name']} was a candidate"


def assert_batches(run: dict[str, Any], before: dict[str, Any]) -> None:
    policy = run["policy"]
    cross_zone = bool(policy["enableCrossZoneUpgrade"])
    size = limit(run["n"], policy["maxBatchInstancePercent"])
    candidates = set(before) - set(run["skipped"]) - left_alone(run) - rejected(run)
    members = [[before[i] for i in b["instances"]] for b in run["batches"]]
    flat = [i["instance_id"] for batch in members for i in batch]
    assert len(flat) == len(set(flat)), "an instance was attempted twice"
    assert set(flat) <= candidates, "only instances that need the upgrade are attempted"
    for batch in members:
        assert 1 <= len(batch) <= size, "a batch over the policy's limit"
        assert all(same_cut(batch[0], m, cross_zone) for m in batch), "a batch across a UD (or zone) boundary"
        assert len({phase_of(run, m["instance_id"]) for m in batch}) == 1, "AH-11: a batch mixes phases"
    phases = [phase_of(run, batch[0]["instance_id"]) for batch in members]
    assert phases == sorted(phases), "AH-11: phases in ascending order, no phase last"
    if not policy["prioritizeUnhealthyInstances"]:
        expected = sorted(
            (before[i] for i in candidates),
            key=lambda i: (phase_of(run, i["instance_id"]), spec_key(i, cross_zone)),
        )
        assert flat == [i["instance_id"] for i in expected[: len(flat)]], "batches follow the AH-11, CZ-2/CZ-3 order"
        # A batch is cut only where the rules say; a hook's rejections make a batch smaller (LH-16).
        for batch, following in zip(members, members[1:]) if not rejected(run) else ():
            assert (
                len(batch) == size
                or not same_cut(batch[0], following[0], cross_zone)
                or phase_of(run, batch[0]["instance_id"]) != phase_of(run, following[0]["instance_id"])
            )


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario=scenarios())
def test_batches_surge_and_counters_hold_azure_behaviour_2_cz_ms(shared_store: Store, scenario: dict[str, Any]) -> None:
    check_run(shared_store, scenario)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario=scenarios(hooked=True))
def test_hook_gated_runs_hold_the_same_invariants_azure_behaviour_2_lh_16_d2_d5(
    shared_store: Store, scenario: dict[str, Any]
) -> None:
    """Issue 12 "Done when": the invariants over runs with protection, skips, hooks and surge. Every batch of a
    platform OS run waits for its BatchStarting event, decided at random (approved, rejected, defaulted)."""
    check_run(shared_store, scenario)


def check_run(shared_store: Store, scenario: dict[str, Any]) -> None:
    """Run the scenario and check every invariant of this module's docstring."""
    outcome = simulate(shared_store, scenario)
    if outcome["run"] is None:
        assert_nothing_to_do(outcome["before"], scenario)
        return
    run, before, view = outcome["run"], outcome["before"], outcome["view"]
    n = len(before)
    assert run["status"] in ("Completed", "Faulted"), run["status"]
    assert_policy(run, scenario)
    assert_left_alone(run, before, scenario)
    assert_batches(run, before)
    after = {i["instance_id"]: i for i in view["instances"]}
    if scenario["hook"] is None or scenario["kind"] != "os-platform":
        assert not rejected(run), "LH-3: only platform OS runs with a BatchStarting hook raise events"
    attempted = {i for b in run["batches"] for i in b["instances"]}
    if scenario["hook"] is not None and scenario["kind"] == "os-platform":
        event(f"hook-gated run; instances rejected: {bool(rejected(run))}")
    assert not attempted & rejected(run), "LH-16: a rejected instance was attempted"
    for iid in rejected(run):  # D2: skipped like a protected one
        assert after[iid]["os_disk"] == before[iid]["os_disk"], f"rejected {iid} was touched"
    for iid in left_alone(run):  # IP-10: neither replaced nor deleted; IP-8/AH-13: left on its image
        assert after[iid]["os_disk"] == before[iid]["os_disk"], f"{iid} was touched"

    # capacity (MS-6): with maxSurge, never fewer than N built instances but while a batch whose quota check
    # failed goes in place (MS-7); never more than N + one batch
    if run["policy"]["maxSurge"]:
        size = limit(n, run["policy"]["maxBatchInstancePercent"])
        quota = scenario["surge_quota"]
        for serving, total, in_place in outcome["capacity"]:
            assert serving >= n - in_place, f"{serving} of {n} instances serving during a maxSurge run"
            assert n <= total <= n + min(size, size if quota is None else quota)
        for batch in run["batches"]:
            assert batch["surge"] is (quota is None or len(batch["instances"]) <= quota), "MS-7 quota check"
    assert outcome["capacity"][-1][1] == n, "the run ends with N instances"

    # counters add up (azure-behaviour §5, MS-6)
    progress = view["rolling_upgrade"]["properties"]["progress"]
    # IP-6, AH-13, LH-16/D5: protected, skipped and hook-rejected instances are in no counter (and never failed)
    candidates = n - len(run["skipped"]) - len(left_alone(run)) - len(rejected(run))
    assert progress["inProgressInstanceCount"] == 0
    assert sum(progress.values()) == candidates
    assert progress["failedInstanceCount"] == sum(b.get("failed", 0) for b in run["batches"])
    assert progress["successfulInstanceCount"] + progress["failedInstanceCount"] == sum(
        len(b["instances"]) for b in run["batches"]
    )
    if run["status"] == "Completed":
        assert progress["pendingInstanceCount"] == 0
