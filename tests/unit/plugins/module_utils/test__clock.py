# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The virtual clock: due events run in time order, each at its own time, and the clock ends at the target."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._engine import clock, handlers
from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Event, advance_to
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store as CoreStore  # what handlers get
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.tests.unit._call import act

SUB = "00000000-0000-0000-0000-000000000000"
T0 = EPOCH


@pytest.fixture
def tx(store: Store) -> Iterator[Store]:
    """The store inside a transaction that is thrown away, as a module call in check mode."""
    with store.transaction(commit=False):
        yield store


class Recorder:
    """A handler that records what it saw: the event and the clock while it ran."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, store: CoreStore, event: Event) -> list[dict[str, Any]]:
        self.seen.append(
            {"seq": event.seq, "due": event.due, "now": store.now(), "subject": event.subject, **event.payload}
        )
        return [{"type": "Ran", "subject": event.subject}]


def test_events_run_in_due_order_and_ties_in_scheduling_order(tx: Store) -> None:
    rec = Recorder()
    dues = {"a": 300, "b": 100, "c": 200, "d": 100, "e": 300, "f": 0}
    for subject, offset in dues.items():
        tx.schedule(T0 + offset, "rec", subject)
    advance_to(tx, T0 + 1000, {"rec": rec})
    assert [s["subject"] for s in rec.seen] == ["f", "b", "d", "c", "a", "e"]


def test_the_clock_reads_each_event_due_time_while_its_handler_runs(tx: Store) -> None:
    rec = Recorder()
    for offset in (60, 3600, 3601, 86400):
        tx.schedule(T0 + offset, "rec", f"s{offset}")
    reports = advance_to(tx, T0 + 90000, {"rec": rec})
    assert [(s["due"], s["now"]) for s in rec.seen] == [(T0 + o, T0 + o) for o in (60, 3600, 3601, 86400)]
    assert [r["time"] for r in reports] == [format_timestamp(T0 + o) for o in (60, 3600, 3601, 86400)]
    assert reports[0] == {"time": "2025-01-01T00:01:00Z", "type": "Ran", "subject": "s60"}


def test_an_overdue_event_runs_without_moving_the_clock_back(tx: Store) -> None:
    tx.set_now(T0 + 500)
    rec = Recorder()
    tx.schedule(T0 + 100, "rec", "late")
    advance_to(tx, T0 + 600, {"rec": rec})
    assert rec.seen == [{"seq": rec.seen[0]["seq"], "due": T0 + 100, "now": T0 + 500, "subject": "late"}]
    assert tx.now() == T0 + 600


@pytest.mark.parametrize(
    ("follow_up_offset", "runs_in_this_call"),
    [
        (0, True),  # at once, same instant
        (50, True),  # before the target
        (100, True),  # exactly at the target
        (101, False),  # after the target
    ],
)
def test_events_scheduled_by_handlers(tx: Store, follow_up_offset: int, runs_in_this_call: bool) -> None:
    target = T0 + 200
    seen: list[tuple[str, int]] = []

    def first(store: CoreStore, event: Event) -> list[dict[str, Any]]:
        seen.append(("first", store.now()))
        store.schedule(store.now() + follow_up_offset, "second", "s")
        return []

    def second(store: CoreStore, event: Event) -> list[dict[str, Any]]:
        seen.append(("second", store.now()))
        return []

    tx.schedule(T0 + 100, "first", "s")
    advance_to(tx, target, {"first": first, "second": second})
    follow_up = T0 + 100 + follow_up_offset
    if runs_in_this_call:
        assert seen == [("first", T0 + 100), ("second", follow_up)]
        assert tx.pending_events() == []
    else:
        assert seen == [("first", T0 + 100)]
        assert [(e["kind"], e["due"]) for e in tx.pending_events()] == [("second", follow_up)]
    assert tx.now() == target


def test_a_follow_up_at_the_same_instant_runs_after_events_already_due_then(tx: Store) -> None:
    """Ties are in scheduling order, also for events scheduled while the clock moves."""
    order: list[str] = []

    def first(store: CoreStore, event: Event) -> list[dict[str, Any]]:
        order.append(event.subject)
        store.schedule(event.due, "log", "follow-up")
        return []

    def log(store: CoreStore, event: Event) -> list[dict[str, Any]]:
        order.append(event.subject)
        return []

    tx.schedule(T0 + 10, "first", "first")
    tx.schedule(T0 + 10, "log", "already-due")
    advance_to(tx, T0 + 10, {"first": first, "log": log})
    assert order == ["first", "already-due", "follow-up"]


@pytest.mark.parametrize(
    ("dues", "target", "ran"),
    [
        ([], 0, []),
        ([], 3600, []),
        ([10], 10, [10]),  # due exactly at the target runs
        ([10], 9, []),
        ([0], 0, [0]),  # due now, target now
        ([5, 10, 11, 20], 10, [5, 10]),
    ],
)
def test_advance_leaves_the_clock_at_the_target(tx: Store, dues: list[int], target: int, ran: list[int]) -> None:
    rec = Recorder()
    for due in dues:
        tx.schedule(T0 + due, "rec", str(due))
    advance_to(tx, T0 + target, {"rec": rec})
    assert tx.now() == T0 + target
    assert [s["due"] - T0 for s in rec.seen] == ran
    assert [e["due"] - T0 for e in tx.pending_events()] == [d for d in dues if d not in ran]


@pytest.mark.parametrize("back", [1, 3600, T0])
def test_going_back_is_refused_and_changes_nothing(tx: Store, back: int) -> None:
    tx.set_now(T0 + 100)
    tx.schedule(T0 + 50, "rec", "overdue")
    rec = Recorder()
    with pytest.raises(InvalidInput, match="cannot go back") as info:
        advance_to(tx, T0 + 100 - back, {"rec": rec})
    assert format_timestamp(T0 + 100) in info.value.message
    assert rec.seen == []
    assert tx.now() == T0 + 100
    assert len(tx.pending_events()) == 1


def test_an_event_of_unknown_kind_is_invalid_input(tx: Store) -> None:
    rec = Recorder()
    tx.schedule(T0 + 10, "rec", "fine")
    tx.schedule(T0 + 20, "FromTheFuture", "s")
    with pytest.raises(InvalidInput, match="unknown kind 'FromTheFuture'"):
        advance_to(tx, T0 + 30, {"rec": rec})
    assert [s["subject"] for s in rec.seen] == ["fine"]


def test_an_unknown_kind_in_a_module_call_leaves_the_store_as_it_was(store: Store) -> None:
    with store.transaction():
        store.schedule(T0 + 20, "FromTheFuture", "s")
    with pytest.raises(InvalidInput):
        with store.transaction():
            advance_to(store, T0 + 30, {})
    with store.transaction():
        assert store.now() == T0
        assert [e["kind"] for e in store.pending_events()] == ["FromTheFuture"]


@pytest.mark.parametrize("stop_after", [1, 2, 3])
def test_stop_leaves_the_clock_at_the_event_that_said_stop(tx: Store, stop_after: int) -> None:
    rec = Recorder()
    offsets = [100, 200, 300, 400]
    for offset in offsets:
        tx.schedule(T0 + offset, "rec", str(offset))
    reports = advance_to(tx, T0 + 10_000, {"rec": rec}, stop=lambda: len(rec.seen) >= stop_after)
    assert len(reports) == stop_after
    assert tx.now() == T0 + offsets[stop_after - 1]
    assert [e["due"] - T0 for e in tx.pending_events()] == offsets[stop_after:]


def test_stop_that_never_says_stop_still_reaches_the_target(tx: Store) -> None:
    rec = Recorder()
    tx.schedule(T0 + 100, "rec", "x")
    advance_to(tx, T0 + 500, {"rec": rec}, stop=lambda: False)
    assert tx.now() == T0 + 500


def test_a_handler_that_reschedules_itself_forever_is_stopped(tx: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "MAX_EVENTS_PER_CALL", 50)

    def again(store: CoreStore, event: Event) -> list[dict[str, Any]]:
        store.schedule(event.due, "again", "s")
        return []

    tx.schedule(T0, "again", "s")
    with pytest.raises(InvalidInput, match="looping"):
        advance_to(tx, T0 + 1, {"again": again})


def test_reports_keep_handler_order_and_get_the_time_first(tx: Store) -> None:
    def two(store: CoreStore, event: Event) -> list[dict[str, Any]]:
        return [{"type": "A", "subject": event.subject, "n": 1}, {"type": "B", "subject": event.subject}]

    tx.schedule(T0 + 3600, "two", "vmss/web", {"ignored": True})
    assert advance_to(tx, T0 + 7200, {"two": two}) == [
        {"time": "2025-01-01T01:00:00Z", "type": "A", "subject": "vmss/web", "n": 1},
        {"time": "2025-01-01T01:00:00Z", "type": "B", "subject": "vmss/web"},
    ]


@pytest.fixture(scope="module")
def module_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store.open(str(tmp_path_factory.mktemp("clock") / "vmss.sqlite"))
    try:
        yield opened
    finally:
        opened.close()


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dues=st.lists(st.integers(min_value=0, max_value=500), max_size=25),
    target=st.integers(min_value=0, max_value=500),
)
def test_property_exactly_the_due_events_run_in_order(module_store: Store, dues: list[int], target: int) -> None:
    with module_store.transaction(commit=False):
        rec = Recorder()
        for index, due in enumerate(dues):
            module_store.schedule(T0 + due, "rec", str(index))
        advance_to(module_store, T0 + target, {"rec": rec})
        expected = sorted((due, index) for index, due in enumerate(dues) if due <= target)
        assert [(s["due"] - T0, int(s["subject"])) for s in rec.seen] == expected
        assert all(s["now"] == s["due"] for s in rec.seen)
        assert sorted(e["due"] - T0 for e in module_store.pending_events()) == sorted(d for d in dues if d > target)
        assert module_store.now() == T0 + target


# -- move_clock: the sim_clock module's core -------------------------------------------------------


@pytest.mark.parametrize(
    ("advance", "to", "now"),
    [
        ("PT1H", None, "2025-01-01T01:00:00Z"),
        ("PT0S", None, "2025-01-01T00:00:00Z"),
        ("P63D", None, "2025-03-05T00:00:00Z"),
        (None, "2025-01-02T00:00:00Z", "2025-01-02T00:00:00Z"),
        (None, "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),  # to now: allowed, nothing moves
        (None, "2025-01-01T05:00:00+02:00", "2025-01-01T03:00:00Z"),
        (None, None, "2025-01-01T00:00:00Z"),
    ],
)
def test_move_clock(tx: Store, advance: str | None, to: str | None, now: str) -> None:
    result = act(move_clock, tx, SUB, {"advance": advance, "to": to})
    assert result == {
        "before": {"now": "2025-01-01T00:00:00Z"},
        "after": {"now": now},
        "now": now,
        "previous": "2025-01-01T00:00:00Z",
        "events": [],
    }
    assert format_timestamp(tx.now()) == now


def test_move_clock_runs_registered_handlers(tx: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    monkeypatch.setitem(handlers.HANDLERS, "test-rec", rec)
    tx.schedule(T0 + 1800, "test-rec", "vmss/web")
    tx.schedule(T0 + 7200, "test-rec", "vmss/later")
    result = act(move_clock, tx, SUB, {"advance": "PT1H"})
    assert result["events"] == [{"time": "2025-01-01T00:30:00Z", "type": "Ran", "subject": "vmss/web"}]
    assert [s["now"] for s in rec.seen] == [T0 + 1800]
    assert result["now"] == "2025-01-01T01:00:00Z"


@pytest.mark.parametrize(
    ("advance", "to", "starts"),
    [
        ("PT1H", "2025-01-02T00:00:00Z", "advance and to are mutually exclusive"),
        ("5 minutes", None, "advance: '5 minutes'"),
        ("-PT5M", None, "advance: "),
        (None, "2024-12-31T23:59:59Z", "to: 2024-12-31T23:59:59Z is before"),
        (None, "yesterday", "to: 'yesterday'"),
        (None, "2025-01-01T00:00:00", "to: "),
    ],
)
def test_move_clock_errors_name_the_option(tx: Store, advance: str | None, to: str | None, starts: str) -> None:
    with pytest.raises(InvalidInput) as info:
        act(move_clock, tx, SUB, {"advance": advance, "to": to})
    assert info.value.message.startswith(starts)
    assert tx.now() == T0


def test_move_clock_to_the_past_after_moving_forward(tx: Store) -> None:
    act(move_clock, tx, SUB, {"advance": "PT2H"})
    with pytest.raises(InvalidInput) as info:
        act(move_clock, tx, SUB, {"to": "2025-01-01T01:00:00Z"})
    assert info.value.message.startswith("to: ")
    assert "2025-01-01T02:00:00Z" in info.value.message  # says where the clock is
    assert tx.now() == T0 + 7200


def test_move_clock_to_after_year_9999_is_invalid_input_not_a_crash(tx: Store) -> None:
    """A timestamp past 9999-12-31T23:59:59Z parses but cannot be written back: it must be refused by name,
    not reach the glue as 'internal error in azsim.vmss'."""
    with pytest.raises(InvalidInput) as info:
        act(move_clock, tx, SUB, {"to": "9999-12-31T23:59:59-01:00"})
    assert info.value.message.startswith("to: ")
    assert tx.now() == T0
