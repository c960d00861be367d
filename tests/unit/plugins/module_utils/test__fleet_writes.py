# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet writes back only the instance rows marked as changed (issue 14: a call that moves one batch of a
large scale set must not rewrite the scale set). Temporary triggers count every insert and update of an instance
row, so the counts tell which rows a call wrote (a rewritten row keeps its rowid: Store.write_instances updates
it in place)."""

from __future__ import annotations

import copy
import json
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any, cast

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import VERIFY_MARKS, fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.loaded_instances import compact_disk, new_disk
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import (
    is_protected_from_scale_in,
    is_protected_from_scale_set_actions,
    protection_policy,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, OsDisk, Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import new_outcome
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import public_instance, unprotected_policy
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    HEALTH_EXTENSION,
    KEY,
    Sim,
    sim,
)


def rows(sim: Sim) -> dict[int, tuple[int, dict[str, object]]]:
    """Instance id -> (times written since the first call, stored document) of the scale set's instances."""
    conn = sim.store.conn
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS writes (scale_set TEXT NOT NULL, instance_id INTEGER NOT NULL,"
        " n INTEGER NOT NULL, PRIMARY KEY (scale_set, instance_id))"
    )
    for event in ("INSERT", "UPDATE"):
        conn.execute(
            f"CREATE TEMP TRIGGER IF NOT EXISTS count_{event.lower()} AFTER {event} ON main.instances BEGIN"
            " INSERT OR IGNORE INTO writes VALUES (new.scale_set, new.instance_id, 0);"
            " UPDATE writes SET n = n + 1 WHERE scale_set = new.scale_set AND instance_id = new.instance_id; END"
        )
    found = conn.execute(
        "SELECT i.instance_id, coalesce(w.n, 0), i.doc FROM instances i LEFT JOIN writes w"
        " ON w.scale_set = i.scale_set AND w.instance_id = i.instance_id WHERE i.scale_set = ?",
        (KEY,),
    )
    return {int(iid): (int(written), json.loads(doc)) for iid, written, doc in found}


def test_only_the_changed_instance_is_rewritten(sim: Sim) -> None:
    sim.vmss(5)
    before = rows(sim)

    def change(store: Store) -> None:
        fleet = fleet_of(store)
        fleet.record(KEY)  # a touched scale set is written back with its record, as a run step does
        instance = fleet.by_id(KEY)["2"]
        instance["health"] = "Unhealthy"
        fleet.changed(KEY, instance)
        fleet.touch(KEY)

    sim.call(change)
    after = rows(sim)
    assert after[2][1]["health"] == "Unhealthy"
    assert after[2][0] != before[2][0]
    assert {i: after[i] for i in (0, 1, 3, 4)} == {i: before[i] for i in (0, 1, 3, 4)}


def test_a_touched_scale_set_without_changes_writes_no_instance(sim: Sim) -> None:
    sim.vmss(3)
    before = rows(sim)

    def touch(store: Store) -> None:
        fleet = fleet_of(store)
        fleet.record(KEY)  # a touched scale set is written back with its record, as a run step does
        fleet.instances(KEY)
        fleet.touch(KEY)

    sim.call(touch)
    assert rows(sim) == before


def test_a_marked_then_removed_instance_is_deleted_and_a_new_id_written(sim: Sim) -> None:
    """As a maxSurge run does: the old instance is marked (Deleting) and then removed, its successor added under a
    new id; as a Replace repair does: an instance takes a new id (``reindex``). Only those rows are written."""
    sim.vmss(4)
    before = rows(sim)

    def surge_and_replace(store: Store) -> None:
        fleet = fleet_of(store)
        instances = fleet.instances(KEY)
        old = fleet.by_id(KEY)["1"]
        old["provisioning_state"] = "Deleting"
        fleet.changed(KEY, old)
        new = copy.deepcopy(old)
        new["instance_id"], new["provisioning_state"] = "10", "Succeeded"
        instances.remove(old)
        instances.append(new)
        fleet.removed(KEY, "1")
        fleet.changed(KEY, new)
        replaced = fleet.by_id(KEY)["3"]
        replaced["instance_id"] = "11"
        fleet.reindex(KEY, replaced, "3")

    sim.call(surge_and_replace)
    after = rows(sim)
    assert sorted(after) == [0, 2, 10, 11]
    assert {i: after[i] for i in (0, 2)} == {i: before[i] for i in (0, 2)}
    assert after[10][1]["provisioning_state"] == "Succeeded"
    assert after[11][1]["name"] == before[3][1]["name"]


def change_without_mark(store: Store) -> None:
    """Instance 1 turns unhealthy and nobody calls Fleet.changed; only the record is touched."""
    fleet = fleet_of(store)
    fleet.record(KEY)
    fleet.by_id(KEY)["1"]["health"] = "Unhealthy"
    fleet.touch(KEY)


def test_an_unmarked_change_fails_the_verification(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    """With AZSIM_VMSS_VERIFY_MARKS=1 (the unit tests' conftest sets it) a change nobody marked would be lost at
    commit: the flush raises instead, and the transaction rolls back."""
    monkeypatch.setenv(VERIFY_MARKS, "1")
    sim.vmss(3)
    before = rows(sim)

    with pytest.raises(AssertionError, match=r"instances \[1\] of .* not marked"):
        sim.call(change_without_mark)
    assert rows(sim) == before


def test_without_verification_an_unmarked_change_is_not_written(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production and the benchmarks: no instance is encoded unless marked (this is what makes flush cheap)."""
    monkeypatch.delenv(VERIFY_MARKS, raising=False)
    sim.vmss(3)
    before = rows(sim)

    sim.call(change_without_mark)
    assert rows(sim) == before


def test_loaded_instances_share_equal_values_and_read_back_unchanged(sim: Sim) -> None:
    """Issue 14, memory: equal strings and extension lists are one object across the loaded instances (and across
    scale sets), an instance's name is the record's key for it, and the dicts share one key table;
    what the fleet holds still encodes to exactly the stored text."""
    sim.vmss(3, extensions=[HEALTH_EXTENSION])
    stored = rows(sim)

    def load(store: Store) -> None:
        a, b, c = fleet_of(store).instances(KEY)
        assert a["health"] is b["health"] is c["health"]
        assert a["os_disk"]["image_version"] is b["os_disk"]["image_version"]
        assert a["extensions"] is b["extensions"] and a["extensions"][0]["name"] == "health"
        assert a["data_disks"] is b["data_disks"] and a["data_disks"] == []
        # Each dict shares its key table with the others (PEP 412), so it is smaller than a dict of its own.
        assert all(sys.getsizeof(i) < sys.getsizeof(dict(i)) for i in (a, b, c))
        name = fleet_of(store).record(KEY)["instance_ids"]  # type: ignore[index]
        assert [next(n for n in name if n == i["name"]) is i["name"] for i in (a, b, c)] == [True] * 3
        assert [json.loads(store.encode(i)) for i in (a, b, c)] == [stored[i][1] for i in (0, 1, 2)]

    sim.call(load)
    assert rows(sim) == stored


def test_scaling_in_deletes_the_row_and_keeps_the_others(sim: Sim) -> None:
    sim.vmss(4)
    before = rows(sim)
    sim.vmss(names=["w0", "w1", "w3"])
    after = rows(sim)
    assert sorted(after) == [0, 1, 3]
    assert after == {i: before[i] for i in (0, 1, 3)}  # the instances that stay are not written


def test_scaling_out_adds_rows_and_check_mode_writes_none(sim: Sim) -> None:
    sim.vmss(2)
    before = rows(sim)
    with sim.store.transaction(commit=False):
        fleet = fleet_of(sim.store)
        fleet.record(KEY)
        fleet.by_id(KEY)["0"]["health"] = "Unhealthy"
        fleet.touch(KEY)
    assert rows(sim) == before
    sim.vmss(names=["w0", "w1", "w2"])
    after = rows(sim)
    assert sorted(after) == [0, 1, 2]
    assert {i: after[i] for i in (0, 1)} == before
    assert after[2][1]["name"] == "w2"


def test_the_instance_encoder_writes_the_stores_text() -> None:
    """Store.encode (a reused C encoder) gives exactly the text every other write gives: sorted keys, no spaces,
    non-ASCII escaped, floats as repr; else an unchanged instance would look changed, or two texts would differ."""
    doc = {"b": [1, 2.5, None, True], "a": {"z": "é\u2603\n", "y": -0.0, "x": 1e300}, "c": ""}
    assert Store.encode(doc) == json.dumps(doc, sort_keys=True, separators=(",", ":"))
    assert Store.encode(doc) == '{"a":{"x":1e+300,"y":-0.0,"z":"\\u00e9\\u2603\\n"},"b":[1,2.5,null,true],"c":""}'


def test_the_unhealthy_count_follows_marks_made_after_a_count_and_still_writes_them(sim: Sim) -> None:
    """azure-behaviour §3.1's pre-batch count is kept from the marks (issue 14): an instance marked again after a
    count is counted anew, a removed one drops out, and the marks a count took are still written at commit."""
    sim.vmss(4)
    before = rows(sim)

    def change(store: Store) -> list[int]:
        fleet = fleet_of(store)
        fleet.record(KEY)
        by_id = fleet.by_id(KEY)
        counts = [fleet.unhealthy_count(KEY)]
        by_id["1"]["health"] = "Unhealthy"
        fleet.changed(KEY, by_id["1"])
        by_id["2"]["power_state"] = "stopped"
        fleet.changed(KEY, by_id["2"])
        counts.append(fleet.unhealthy_count(KEY))
        by_id["1"]["health"] = "Healthy"  # marked again after the count that saw it unhealthy
        fleet.changed(KEY, by_id["1"])
        counts.append(fleet.unhealthy_count(KEY))
        fleet.instances(KEY).remove(by_id.pop("2"))
        fleet.removed(KEY, "2")
        counts.append(fleet.unhealthy_count(KEY))
        fleet.touch(KEY)
        return counts

    assert sim.call(change) == [0, 2, 1, 0]
    after = rows(sim)
    assert sorted(after) == [0, 1, 3]
    assert after[1][0] == before[1][0] + 1 and after[1][1] == before[1][1]  # written once, at commit
    assert {i: after[i] for i in (0, 3)} == {i: before[i] for i in (0, 3)}


def test_new_outcomes_share_a_key_table_and_read_as_plain_dicts() -> None:
    """A run's outcomes (a million in the 1,000 x 1,000 fleet) share their keys, as loaded instances do; they
    compare, encode and take further keys as any dict."""
    outcome = new_outcome("in_progress", 3)
    assert outcome == {"result": "in_progress", "batch": 3} and list(outcome) == ["result", "batch"]
    outcome["resolved"] = 60

    shared = _allocated(lambda: _resolved(new_outcome("upgraded", 1)))
    own = _allocated(lambda: _resolved({"result": "upgraded", "batch": 1}))
    assert shared < own * 3 // 4  # PEP 412 sharing, as _model/loaded_instances.compact
    assert Store.encode(outcome) == '{"batch":3,"resolved":60,"result":"in_progress"}'
    outcome["failed_at"] = 30
    assert dict(outcome) == {"result": "in_progress", "batch": 3, "resolved": 60, "failed_at": 30}


def _resolved(outcome: Any) -> dict[str, Any]:
    outcome["resolved"] = 60
    return cast(dict[str, Any], outcome)


def test_os_disks_share_a_key_table_and_keep_their_order() -> None:
    """Issue 14, memory: a loaded OS disk (compact_disk, the stored text's order) and a run's new one (new_disk, name
    first as results have always shown it) share their keys; they compare, encode and list as the plain dicts."""
    stored: OsDisk = {"image_version": "1.0.0", "name": "web_0_OsDisk_1_ab"}
    loaded = compact_disk(stored)
    assert loaded == stored and list(loaded) == ["image_version", "name"]
    made = new_disk("web_0_OsDisk_2_cd", "1.1.0")
    assert made == {"name": "web_0_OsDisk_2_cd", "image_version": "1.1.0"} and list(made) == ["name", "image_version"]
    assert Store.encode(made) == '{"image_version":"1.1.0","name":"web_0_OsDisk_2_cd"}'
    # Allocated, not sys.getsizeof (which counts a shared table's whole capacity): about 100 bytes against 190.
    own = _allocated(lambda: {"name": "n", "image_version": "v"})
    assert _allocated(lambda: new_disk("n", "v")) < own * 3 // 4
    assert _allocated(lambda: compact_disk({"image_version": "v", "name": "n"})) < own * 3 // 4
    odd = compact_disk(cast(OsDisk, {"image_version": "1.0.0", "name": "n", "extra": 1}))  # not in the table: kept
    assert odd == {"image_version": "1.0.0", "name": "n", "extra": 1}


def test_loaded_os_disks_are_shared_dicts_that_read_back_unchanged(sim: Sim) -> None:
    sim.vmss(2)
    stored = rows(sim)

    def load(store: Store) -> None:
        a, b = fleet_of(store).instances(KEY)
        assert [a["os_disk"], b["os_disk"]] == [stored[0][1]["os_disk"], stored[1][1]["os_disk"]]
        assert isinstance(a["os_disk"], dict) and a["os_disk"] is not b["os_disk"]

    sim.call(load)
    assert rows(sim) == stored


def test_a_view_of_many_instances_shows_one_default_protection_dict() -> None:
    """design.md round 2 / azure-behaviour-2 IP-1: every instance shows a protectionPolicy, both false by default;
    a view of many instances gives the unprotected ones one dict (17 MB at 100,000), the protected their own."""
    record = cast(Record, {"model_version": 1, "model": {"properties": {}}})
    plain = cast(Instance, {"instance_id": "0", "name": "w0", "model_version": 1, "disk_generation": 1})
    protected = cast(Instance, {**plain, "protection_policy": {"protectFromScaleIn": True}})
    unprotected = unprotected_policy()
    views = [public_instance(i, record, False, unprotected) for i in (plain, plain, protected)]
    assert views[0]["protection_policy"] is views[1]["protection_policy"] is unprotected
    assert unprotected == {"protectFromScaleIn": False, "protectFromScaleSetActions": False}
    assert views[2]["protection_policy"] == {"protectFromScaleIn": True, "protectFromScaleSetActions": False}
    assert [public_instance(i, record, False) for i in (plain, plain, protected)] == views  # equal to one by one
    assert unprotected_policy() is not unprotected  # each view its own


@pytest.mark.parametrize(
    "stored",
    [None, {}, {"protectFromScaleIn": True}, {"protectFromScaleSetActions": True}, {"protectFromScaleIn": False}]
    + [{"protectFromScaleIn": a, "protectFromScaleSetActions": b} for a in (True, False) for b in (True, False)],
)
def test_the_protection_predicates_answer_as_the_policy_does(stored: dict[str, bool] | None) -> None:
    """IP-3/IP-4: the predicates read the stored policy directly; the same answers as protection_policy gives."""
    instance: dict[str, Any] = {} if stored is None else {"protection_policy": stored}
    policy = protection_policy(instance)
    assert is_protected_from_scale_set_actions(instance) is policy["protectFromScaleSetActions"]
    assert is_protected_from_scale_in(instance) is (
        policy["protectFromScaleIn"] or policy["protectFromScaleSetActions"]
    )


def test_instance_texts_hold_the_rows_in_id_order(sim: Sim) -> None:
    sim.vmss(5)
    with sim.store.transaction(commit=False):
        chunks = list(sim.store.instance_texts(KEY, 2))
        texts = [text for _iid, text in sim.store.instance_rows(KEY)]
    assert [len(c) for c in chunks] == [2, 2, 1] and [t for c in chunks for t in c] == texts


def _allocated(make: Callable[[], Any]) -> int:
    """Bytes allocated for each of 1,000 results of ``make`` kept alive."""
    tracemalloc.start()
    try:
        kept = [make() for _copy in range(1000)]
        return tracemalloc.get_traced_memory()[0] // len(kept)
    finally:
        tracemalloc.stop()
