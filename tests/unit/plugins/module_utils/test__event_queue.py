# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The in-memory event queue (issue 14) behaves as the SQL statements it replaced, row for row.

Each test drives the Store's queue and, beside it, a plain connection running the statements the Store ran
before the queue was kept in memory (one per operation, AUTOINCREMENT giving the seq). Every answer must be
the same, and after COMMIT both files must hold the same ``events`` rows and the same ``sqlite_sequence``:
the order events run in (due, then seq) and the seq a later call gets depend on both.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._store.events import flat_copy
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store


class _Statements:
    """The queue as it was: one statement per operation on the table (the reference)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def schedule(self, due: int, kind: str, subject: str, payload: dict[str, Any] | None = None) -> int:
        text = json.dumps(payload or {}, sort_keys=True, separators=(",", ":"))
        cur = self.conn.execute(
            "INSERT INTO events (due, kind, subject, payload) VALUES (?, ?, ?, ?)", (due, kind, subject, text)
        )
        return int(cur.lastrowid or 0)

    def next_event(self, until: int) -> tuple[int, int, str, str, dict[str, Any]] | None:
        row = self.conn.execute(
            "SELECT seq, due, kind, subject, payload FROM events WHERE due <= ? ORDER BY due, seq LIMIT 1", (until,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3], json.loads(row[4]))

    def pop_event(self, until: int) -> tuple[int, int, str, str, dict[str, Any]] | None:
        item = self.next_event(until)
        if item is not None:
            self.delete_event(item[0])
        return item

    def pending_events(self, subject: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT seq, due, kind, subject, payload FROM events WHERE 1 = 1"
        args: list[str] = []
        if subject is not None:
            sql, args = sql + " AND subject = ?", [*args, subject]
        if kind is not None:
            sql, args = sql + " AND kind = ?", [*args, kind]
        rows = self.conn.execute(sql + " ORDER BY due, seq", args).fetchall()
        return [{"seq": r[0], "due": r[1], "kind": r[2], "subject": r[3], "payload": json.loads(r[4])} for r in rows]

    def cancel_events(self, subject: str, kind: str | None = None) -> None:
        if kind is None:
            self.conn.execute("DELETE FROM events WHERE subject = ?", (subject,))
        else:
            self.conn.execute("DELETE FROM events WHERE subject = ? AND kind = ?", (subject, kind))

    def cancel_events_under(self, subject: str) -> None:
        prefix = subject + "/"
        self.conn.execute(
            "DELETE FROM events WHERE subject = ? OR substr(subject, 1, ?) = ?", (subject, len(prefix), prefix)
        )

    def delete_event(self, seq: int) -> None:
        self.conn.execute("DELETE FROM events WHERE seq = ?", (seq,))


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two new stores: the first used through its queue, the second's connection through ``_Statements``."""
    stores = (Store.open(str(tmp_path / "queue.sqlite")), Store.open(str(tmp_path / "statements.sqlite")))
    yield stores
    for store in stores:
        store.close()


def _rows(store: Store) -> tuple[list[Any], list[Any]]:
    events = store.conn.execute("SELECT seq, due, kind, subject, payload FROM events ORDER BY seq").fetchall()
    sequence = store.conn.execute("SELECT name, seq FROM sqlite_sequence ORDER BY name").fetchall()
    return events, sequence


SUBJECTS = ("vmss/a", "vmss/a/rollingupgrades/1", "vmss/a/rollingupgrades/2", "vmss/b", "vmss/ab", "f")
KINDS = ("run_step", "platform_rollout", "repairs")


def _random_operation(draw: random.Random, queue: Store, reference: _Statements) -> None:
    """One operation, drawn once, on both; their answers must match."""
    operation = draw.choice(("schedule", "schedule", "schedule", "pop", "next", "pending", "cancel", "under", "delete"))
    due = EPOCH + draw.randrange(0, 50)  # few distinct times: many ties, broken by seq
    subject, kind = draw.choice(SUBJECTS), draw.choice(KINDS)
    maybe_subject, maybe_kind = draw.choice((None, subject)), draw.choice((None, kind))
    if operation == "schedule":
        payload = draw.choice((None, {"scale_set": subject, "n": draw.randrange(9)}))
        assert queue.schedule(due, kind, subject, payload) == reference.schedule(due, kind, subject, payload)
    elif operation == "pop":
        assert queue.pop_event(due) == reference.pop_event(due)
    elif operation == "next":
        assert queue.next_event(due) == reference.next_event(due)
    elif operation == "pending":
        assert queue.pending_events(maybe_subject, maybe_kind) == reference.pending_events(maybe_subject, maybe_kind)
    elif operation == "cancel":
        queue.cancel_events(subject, maybe_kind)
        reference.cancel_events(subject, maybe_kind)
    elif operation == "under":
        queue.cancel_events_under(subject.split("/")[0] + "/a")
        reference.cancel_events_under(subject.split("/")[0] + "/a")
    else:
        seqs = [e["seq"] for e in reference.pending_events()]
        seq = draw.choice(seqs) if seqs else 1
        queue.delete_event(seq)
        reference.delete_event(seq)


@pytest.mark.parametrize("seed", range(12))
def test_the_queue_answers_and_writes_what_the_statements_did(pair: tuple[Store, Store], seed: int) -> None:
    store, other = pair
    draw = random.Random(seed)
    for call in range(6):  # several calls: a later call starts from what the earlier ones committed
        commit = call != 3  # one call in check mode: nothing of it stays, on either side
        with store.transaction(commit=commit), other.transaction(commit=commit):
            reference = _Statements(other.conn)
            for _step in range(draw.randrange(1, 80)):
                _random_operation(draw, store, reference)
            assert store.pending_events() == reference.pending_events()
        assert _rows(store) == _rows(other)


def test_an_event_scheduled_and_taken_in_one_call_still_moves_the_sequence(pair: tuple[Store, Store]) -> None:
    """No row is left, but AUTOINCREMENT used the seq up: the next call's event gets the next one."""
    store, other = pair
    with store.transaction(), other.transaction():
        reference = _Statements(other.conn)
        for side in (store, reference):
            side.schedule(EPOCH, "k", "s")
            assert side.pop_event(EPOCH) is not None
    assert _rows(store) == _rows(other) == ([], [("events", 1)])
    with store.transaction():
        assert store.schedule(EPOCH, "k", "s") == 2


def test_outside_a_transaction_each_operation_is_written_at_once(pair: tuple[Store, Store]) -> None:
    store, _other = pair
    seq = store.schedule(EPOCH + 5, "k", "s", {"a": 1})
    assert _rows(store)[0] == [(seq, EPOCH + 5, "k", "s", '{"a":1}')]
    store.cancel_events("s")
    assert _rows(store) == ([], [("events", seq)])


def test_a_handler_changing_its_payload_changes_nothing_queued(pair: tuple[Store, Store]) -> None:
    store, _other = pair
    with store.transaction():
        store.schedule(EPOCH, "k", "s", {"n": 1})
        store.pending_events()[0]["payload"]["n"] = 2
        item = store.next_event(EPOCH)
        assert item is not None
        item[4]["n"] = 3
        assert store.pending_events()[0]["payload"] == {"n": 1}


def test_a_caller_changing_a_payload_after_scheduling_changes_nothing_queued(pair: tuple[Store, Store]) -> None:
    """A flat payload is held as the queue's own copy, a nested one as its text: neither shares the caller's dict."""
    store, _other = pair
    with store.transaction():
        flat: dict[str, Any] = {"scale_set": "s", "run_id": 1}
        nested: dict[str, Any] = {"ids": ["1"], "fault": {"slow_boot": 5}}
        store.schedule(EPOCH, "k", "s", flat)
        store.schedule(EPOCH, "k", "s", nested)
        flat["run_id"] = 2
        nested["ids"].append("2")
        nested["fault"]["slow_boot"] = 6
        first = store.pop_event(EPOCH)
        assert first is not None and first[4] == {"scale_set": "s", "run_id": 1}
        first[4]["run_id"] = 3  # the handler's copy: the queue never sees it
        assert store.pending_events()[0]["payload"] == {"ids": ["1"], "fault": {"slow_boot": 5}}


def test_held_payloads_are_written_as_their_text(pair: tuple[Store, Store]) -> None:
    """Every kind of scalar a held payload may have is written as JSON text of the payload when it was scheduled,
    byte for byte what the statements wrote, and read back equal in the next call."""
    store, other = pair
    payloads: list[dict[str, Any] | None] = [
        {"b": True, "n": None, "f": 0.1, "i": -(2**70), "s": 'é\u2028"/'},
        {"z": 1, "a": False},
        {},
        None,
        {"nested": {"a": 1}},
        {"list": [1, 2]},
    ]
    with store.transaction(), other.transaction():
        reference = _Statements(other.conn)
        for index, payload in enumerate(payloads):
            assert store.schedule(EPOCH + index, "k", f"s{index}", payload) == reference.schedule(
                EPOCH + index, "k", f"s{index}", payload
            )
            if payload:
                payload.clear()  # after scheduling: nothing queued may change
    assert _rows(store) == _rows(other)
    with store.transaction(commit=False):
        assert [e["payload"] for e in store.pending_events()] == [
            p or {}
            for p in (
                {"b": True, "n": None, "f": 0.1, "i": -(2**70), "s": 'é\u2028"/'},
                {"z": 1, "a": False},
                {},
                {},
                {"nested": {"a": 1}},
                {"list": [1, 2]},
            )
        ]


@pytest.mark.parametrize(
    "payload",
    [
        {"ids": ["1"]},
        {"fault": {"a": 1}},
        {"pair": (1, 2)},
        {1: "a"},  # JSON would read it back as "1"
        OrderedDict(a=1),  # not a plain dict
    ],
)
def test_only_flat_dicts_of_scalars_are_held_as_copies(payload: dict[Any, Any]) -> None:
    assert flat_copy(payload) is None


def test_a_held_copy_is_a_new_dict() -> None:
    payload = {"scale_set": "s", "run_id": 1, "ok": True, "none": None, "x": 1.5}
    held = flat_copy(payload)
    assert held == payload and held is not payload
