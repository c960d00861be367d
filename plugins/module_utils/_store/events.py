# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event queue of one transaction: read once, kept in memory, its net changes written back at COMMIT.

A fleet's advance pops, cancels and schedules tens of thousands of events in one call, and a run's
``run_step`` event is taken and put back at every step (issue 14). Against the table that was a statement
each, and cancelling by subject scanned the whole table, so a fleet of F scale sets cost F² rows read.
Here every operation is a dict or heap operation; at COMMIT only the rows that are gone are deleted and
only the rows that are new are inserted, with the very ``seq`` SQLite's AUTOINCREMENT would have given
them, and ``sqlite_sequence`` is left where the statements would have left it. The table after COMMIT is
therefore row for row what the statements made, and the order events run in (due, then seq) is the same.

A handler that changes its event's payload changes nothing in the queue: every read hands out a fresh dict,
as a SELECT did (a flat payload is held as the queue's own copy, see ``flat_copy``; others as JSON text).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import heapq
import json
import sqlite3
from collections.abc import Callable
from typing import Any

# seq -> (due, kind, subject, payload: stored text, or the queue's own flat copy of it, see ``flat_copy``)
Row = tuple[int, str, str, "str | dict[str, Any]"]
Pending = tuple[int, int, str, str, dict[str, Any]]


# A heap entry is one int, ``due << _SEQ_BITS | seq``: ordered as (due, seq), as SQLite's seq (a 64-bit rowid, never
# negative) fits below the shift, and compared as one int, where a tuple compared its items (every pop and push
# compares about log2(pending) entries; a fleet's advance pops one event per run step, issue 14). A negative due
# keeps the order: Python's shift and mask act as on an infinite two's complement.
_SEQ_BITS = 64
_SEQ_MASK = (1 << _SEQ_BITS) - 1

# The types whose values JSON gives back as they were (a bool stays a bool; a tuple would come back a list).
_SCALARS = frozenset((str, int, float, bool, type(None)))


def flat_copy(payload: dict[str, Any]) -> dict[str, Any] | None:
    """A copy of ``payload`` the queue may hold instead of its text, or None: only a dict whose keys are strings
    and whose values are scalars, so that the copy shares nothing mutable with the caller and reads back equal
    to what decoding its JSON text would give.

    Nearly every event's payload is such (a run's ``run_step``, a platform rollout's target), and most are
    taken again in the call that scheduled them: held so, a payload is read as ``dict(copy)`` instead of being
    decoded, and encoded only at COMMIT if it is still queued. Any other payload, and every payload read from
    the table, is held as JSON text and decoded at each read."""
    if type(payload) is not dict:  # pylint: disable=unidiomatic-typecheck  # a subclass may encode otherwise
        return None
    for name, value in payload.items():
        if type(name) is not str or type(value) not in _SCALARS:  # pylint: disable=unidiomatic-typecheck
            return None
    return dict(payload)


class EventQueue:
    """The ``events`` table as the transaction sees it; ``write`` puts its changes into the table."""

    def __init__(self, conn: sqlite3.Connection, encode: Callable[[Any], str]) -> None:
        self.conn = conn
        self._encode = encode  # a held payload's stored text, at ``write``
        self._rows: dict[int, Row] = {}
        self._by_subject: dict[str, set[int]] = {}
        for seq, due, kind, subject, payload in conn.execute("SELECT seq, due, kind, subject, payload FROM events"):
            self._add(int(seq), int(due), kind, subject, payload)
        self._stored = set(self._rows)  # the seqs the table holds now
        # A heap of (due, seq) packed as ints (_SEQ_BITS): an entry whose seq is no longer in _rows was taken or
        # cancelled (skipped lazily).
        self._heap = [row[0] << _SEQ_BITS | seq for seq, row in self._rows.items()]
        heapq.heapify(self._heap)
        # AUTOINCREMENT gives one more than the largest seq the table ever had: sqlite_sequence's, or the
        # largest present if sqlite_sequence has no row yet (a snapshot restored without one).
        sequence = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        self._last = max([0 if sequence is None else int(sequence[0]), *self._rows])
        self._last_stored = self._last

    def _add(self, seq: int, due: int, kind: str, subject: str, payload: str | dict[str, Any]) -> None:
        self._rows[seq] = (due, kind, subject, payload)
        self._by_subject.setdefault(subject, set()).add(seq)

    def _remove(self, seq: int) -> Row | None:
        row = self._rows.pop(seq, None)
        if row is not None:
            seqs = self._by_subject[row[2]]
            seqs.discard(seq)
            if not seqs:
                del self._by_subject[row[2]]
        return row

    # -- what the Store offers ------------------------------------------------------------------

    def schedule(self, due: int, kind: str, subject: str, payload: dict[str, Any]) -> int:
        held = flat_copy(payload)  # encoded at COMMIT only if still queued
        stored = self._encode(payload) if held is None else held  # first: a payload JSON refuses takes no seq
        self._last += 1
        self._add(self._last, due, kind, subject, stored)
        heapq.heappush(self._heap, due << _SEQ_BITS | self._last)
        return self._last

    def _head(self, until: int) -> int | None:
        heap, rows = self._heap, self._rows
        while heap:
            entry = heap[0]
            seq = entry & _SEQ_MASK
            if seq in rows:
                return None if entry >> _SEQ_BITS > until else seq
            heapq.heappop(heap)
        return None

    def next_event(self, until: int) -> Pending | None:
        seq = self._head(until)
        return None if seq is None else self._pending(seq, self._rows[seq])

    def pop_event(self, until: int) -> Pending | None:
        """The earliest event due at or before ``until`` (ties in scheduling order), taken off the queue."""
        seq = self._head(until)
        if seq is None:
            return None
        heapq.heappop(self._heap)
        row = self._remove(seq)
        if row is None:  # cannot happen: _head skipped every entry not in _rows
            raise AssertionError(f"event {seq} was at the head of the queue but is not pending")
        return self._pending(seq, row)

    def pending(self, subject: str | None, kind: str | None) -> list[Pending]:
        seqs = self._rows if subject is None else self._by_subject.get(subject, ())
        found = sorted((row[0], seq) for seq in seqs for row in [self._rows[seq]] if kind is None or row[1] == kind)
        return [self._pending(seq, self._rows[seq]) for _due, seq in found]

    def cancel(self, subject: str, kind: str | None) -> None:
        for seq in list(self._by_subject.get(subject, ())):
            if kind is None or self._rows[seq][1] == kind:
                self._remove(seq)

    def reschedule(self, subject: str, kind: str, due: int | None, payload: dict[str, Any]) -> None:
        seqs = self._by_subject.get(subject)
        if seqs:
            self.cancel(subject, kind)
        if due is not None:
            self.schedule(due, kind, subject, payload)

    def cancel_under(self, subject: str) -> None:
        prefix = subject + "/"
        for name in [s for s in self._by_subject if s == subject or s.startswith(prefix)]:
            for seq in list(self._by_subject[name]):
                self._remove(seq)

    def delete(self, seq: int) -> None:
        self._remove(seq)

    @staticmethod
    def _pending(seq: int, row: Row) -> Pending:
        payload = row[3]
        return seq, row[0], row[1], row[2], json.loads(payload) if isinstance(payload, str) else dict(payload)

    # -- back to the table ----------------------------------------------------------------------

    def write(self) -> None:
        """Delete the rows that went, insert the ones that came, and move sqlite_sequence as inserting did."""
        gone = self._stored - self._rows.keys()
        new = sorted(self._rows.keys() - self._stored)
        if gone:
            self.conn.executemany("DELETE FROM events WHERE seq = ?", [(seq,) for seq in sorted(gone)])
        if new:
            self.conn.executemany(
                "INSERT INTO events (seq, due, kind, subject, payload) VALUES (?, ?, ?, ?, ?)",
                [
                    (seq, due, kind, subject, payload if isinstance(payload, str) else self._encode(payload))
                    for seq in new
                    for due, kind, subject, payload in [self._rows[seq]]
                ],
            )
        # Every INSERT left sqlite_sequence at its seq, even for an event scheduled and taken again since.
        if self._last > self._last_stored:
            cur = self.conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'", (self._last,))
            if cur.rowcount == 0:
                self.conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)", (self._last,))
        self._stored = set(self._rows)
        self._last_stored = self._last
