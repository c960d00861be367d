# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator's state: one SQLite file, one transaction per module call.

A file is checked before anything is written to it: a file that is not a store of ours (not SQLite,
another application's database, a newer schema) is refused and left byte-identical. Every write
happens inside ``transaction()``, which takes the write lock at once (``BEGIN IMMEDIATE``) so that
parallel forks queue behind the busy timeout instead of losing each other's read-modify-write.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.fingerprint import SALT_BYTES
from ansible_collections.azsim.vmss.plugins.module_utils._store.migrations import EPOCH, MIGRATIONS

# What store.py held before reading.py took it, for the many callers that name it here.
from ansible_collections.azsim.vmss.plugins.module_utils._store.reading import (
    BUSY_TIMEOUT_MS,
    SCHEMA_VERSION,
    OpenMode,
    ReadStore,
    default_path,
    migrate,
)

# Store, and the names its callers found here before reading.py and migrations.py took them.
__all__ = ["BUSY_TIMEOUT_MS", "EPOCH", "MIGRATIONS", "OpenMode", "SCHEMA_VERSION", "Store", "default_path", "migrate"]

if TYPE_CHECKING:  # imported where the queue is first used: a call that reads never compiles it (issue 14)
    from ansible_collections.azsim.vmss.plugins.module_utils._store.events import EventQueue

# One encoder for every document: json.dumps with options builds a new encoder per call, which
# dominates writing 100,000 instance rows.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _dumps(doc: Any) -> str:
    # ``_ENCODER.encode`` builds its C encoder anew at each call, most of the cost of a small document (an
    # event's payload, a run): the one built below is reused, as in ``Store.encode``.
    if _C_ENCODER is None:
        return _ENCODER.encode(doc)
    if isinstance(doc, dict) and any(isinstance(v, (dict, list)) and len(v) > _SLICE for v in doc.values()):
        return _dumps_sliced(doc)
    return "".join(_C_ENCODER(doc, 0))


# Entries of a document's value encoded at once by ``_dumps_sliced``.
_SLICE = 2_000


def _dumps_sliced(doc: dict[Any, Any]) -> str:
    """``_dumps`` of a document with a value of many entries (a 100,000-instance run's ``outcome``, its record's
    ``instance_ids``): the same text, that value encoded a slice of its entries at a time.

    Encoded at once, the C encoder keeps several small strings for each entry until it joins them: a
    100,000-instance run's record (2 MB of text) peaked at +11 MB and its run (7 MB) at +16 MB, the call's peak, and
    those hundreds of thousands of small strings leave the allocator's arenas fragmented (issue 14). Here only one
    slice's pieces are alive beside the text, which ``+=`` extends (resized in place when the allocator can, else
    copied once more, as a join would): measured +4 MB and +14.5 MB, and 8 MiB less peak RSS for the run. Keys are
    sorted as the encoder sorts them; a key that is not a string (the encoder converts those after sorting) sends
    the document back to the encoder whole."""
    if not all(isinstance(k, str) for k in doc):
        return "".join(_C_ENCODER(doc, 0))
    text = "{"
    for key in sorted(doc):
        if len(text) > 1:
            text += ","
        text += json.encoder.encode_basestring_ascii(key) + ":"
        value = doc[key]
        if isinstance(value, dict) and len(value) > _SLICE and all(isinstance(k, str) for k in value):
            keys = sorted(value)
            slices = ({k: value[k] for k in keys[at : at + _SLICE]} for at in range(0, len(keys), _SLICE))
            for part in _parts(slices, "{", "}"):
                text += part
        elif isinstance(value, list) and len(value) > _SLICE:
            for part in _parts((value[at : at + _SLICE] for at in range(0, len(value), _SLICE)), "[", "]"):
                text += part
        else:
            text += "".join(_C_ENCODER(value, 0))
    return text + "}"


def _parts(slices: Iterable[Any], opening: str, closing: str) -> Iterator[str]:
    """The text of the dict or list whose non-empty ``slices`` these are, in pieces: each slice encoded without its
    brackets, for the caller to append to its text in place."""
    yield opening
    first = True
    for piece in slices:
        inner = "".join(_C_ENCODER(piece, 0))[1:-1]
        yield inner if first else "," + inner
        first = False
    yield closing


# _ENCODER's own C encoder, as its encode() builds it for each call (no circular check: documents are trees).
# None where the json module has no C speedups; Store.encode then uses _dumps.
_MAKE_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)  # not in typeshed: CPython's _json
_C_ENCODER: Any = (
    None
    if _MAKE_C_ENCODER is None
    else _MAKE_C_ENCODER(
        None,
        _ENCODER.default,
        json.encoder.encode_basestring_ascii,
        None,
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        _ENCODER.sort_keys,
        _ENCODER.skipkeys,
        _ENCODER.allow_nan,
    )
)


class Store(ReadStore):
    """An open store. Use ``with store.transaction():`` around every read and write of one call."""

    def __init__(self, path: str, conn: sqlite3.Connection) -> None:
        super().__init__(path, conn)
        # The event queue as this transaction sees it (_store/events.py), read on first use.
        self._events: EventQueue | None = None

    def _forget_call(self) -> None:
        super()._forget_call()
        self._events = None

    def _before_commit(self) -> None:
        super()._before_commit()
        self.write_events()  # after the flushes, which may schedule

    # -- the virtual clock -----------------------------------------------------------------------

    def set_now(self, seconds: int) -> None:
        if self._in_transaction:
            self._now, self._now_dirty = seconds, True
        else:
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'now'", (str(seconds),))

    def fingerprint_salt(self) -> bytes:
        """This store's random salt for fingerprints of secrets (``_common.fingerprint``), made on first use."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'fingerprint_salt'").fetchone()
        if row is not None:
            return bytes.fromhex(row[0])
        salt = os.urandom(SALT_BYTES)
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('fingerprint_salt', ?)", (salt.hex(),))
        return salt

    # -- the event queue -------------------------------------------------------------------------

    def _queue(self) -> EventQueue:
        if self._events is None:
            # Here, not at the top: a module imports this file at every call, and only calls that move the
            # clock or schedule use the queue; AnsiballZ still packs events.py for every module.
            from ansible_collections.azsim.vmss.plugins.module_utils._store.events import EventQueue  # pylint: disable=import-outside-toplevel

            self._events = EventQueue(self.conn, _dumps)
        return self._events

    def _settle_events(self) -> None:
        """Outside a transaction every call writes at once, as the autocommitted statements did."""
        if not self._in_transaction:
            self.write_events()

    def write_events(self) -> None:
        """Put the queue's changes into the ``events`` table and forget it; before any SQL that reads or
        writes that table itself (COMMIT, ``clear``, a snapshot's restore)."""
        if self._events is not None:
            self._events.write()
            self._events = None

    def schedule(self, due: int, kind: str, subject: str, payload: dict[str, Any] | None = None) -> int:
        seq = self._queue().schedule(due, kind, subject, payload or {})
        self._settle_events()
        return seq

    def next_event(self, until: int) -> tuple[int, int, str, str, dict[str, Any]] | None:
        """The earliest event due at or before ``until`` (ties in scheduling order), or None."""
        item = self._queue().next_event(until)
        self._settle_events()
        return item

    def pop_event(self, until: int) -> tuple[int, int, str, str, dict[str, Any]] | None:
        """``next_event``, taken off the queue."""
        item = self._queue().pop_event(until)
        self._settle_events()
        return item

    def pending_events(self, subject: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        found = self._queue().pending(subject, kind)
        self._settle_events()
        return [
            {"seq": seq, "due": due, "kind": k, "subject": s, "payload": payload} for seq, due, k, s, payload in found
        ]

    def cancel_events(self, subject: str, kind: str | None = None) -> None:
        self._queue().cancel(subject, kind)
        self._settle_events()

    def reschedule_event(self, subject: str, kind: str, due: int | None, payload: dict[str, Any]) -> None:
        """``cancel_events(subject, kind)``, then ``schedule(due, kind, subject, payload)`` unless ``due`` is None: the
        same queue and seqs as those two calls, in one (a run's step does it once per step, issue 14)."""
        self._queue().reschedule(subject, kind, due, payload)
        self._settle_events()

    def cancel_events_under(self, subject: str) -> None:
        """Every event of ``subject`` and of the subjects below it (``subject/...``), of any kind."""
        self._queue().cancel_under(subject)
        self._settle_events()

    def delete_event(self, seq: int) -> None:
        self._queue().delete(seq)
        self._settle_events()

    def put_doc(self, table: str, key: dict[str, Any], doc: Mapping[str, Any]) -> None:
        columns = [*key, "doc"]
        self.conn.execute(
            f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            (*key.values(), _dumps(doc)),
        )

    def put_docs(self, table: str, rows: list[tuple[dict[str, Any], Mapping[str, Any]]]) -> None:
        if not rows:
            return
        columns = [*rows[0][0], "doc"]
        self.conn.executemany(
            f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            # Encoded one at a time as SQLite takes them: a fleet's runs at once would be every text at once.
            ((*key.values(), _dumps(doc)) for key, doc in rows),
        )

    def write_instances(self, scale_set: str, changed: Iterable[tuple[int, str]], removed: list[int]) -> None:
        """Put the ``changed`` rows (instance id, text from ``encode``) and delete the ``removed`` ids, one
        statement each; the scale set's other instances are not touched.

        ``changed`` may be a generator: SQLite takes each row as it is made, so a run's 100,000 texts are never
        all alive at once (issue 14, like ``put_docs``).

        An existing row is updated in place (an upsert), not deleted and inserted again as ``INSERT OR REPLACE``
        does: the key stays, so its index entry stays too, and most rows of a run already exist (issue 14)."""
        if removed:
            self.conn.executemany(
                "DELETE FROM instances WHERE scale_set = ? AND instance_id = ?", [(scale_set, i) for i in removed]
            )
        rows = iter(changed)
        first = next(rows, None)
        if first is None:  # no statement at all, as for the removed: nothing to write touches the database
            return
        self.conn.executemany(
            "INSERT INTO instances (scale_set, instance_id, doc) VALUES (?, ?, ?)"
            " ON CONFLICT (scale_set, instance_id) DO UPDATE SET doc = excluded.doc",
            ((scale_set, i, text) for i, text in itertools.chain((first,), rows)),
        )

    @staticmethod
    def encode(doc: Any) -> str:
        """A document's stored text, the same as ``_dumps`` gives (sorted keys, no spaces), for one of many
        instances: ``JSONEncoder.encode`` builds its C encoder again at every call, a third of the cost of
        encoding an instance, so the one built here is reused."""
        if _C_ENCODER is None:
            return _dumps(doc)
        return "".join(_C_ENCODER(doc, 0))

    def delete_docs(self, table: str, where: dict[str, Any]) -> None:
        clause = " AND ".join(f"{column} = ?" for column in where)
        self.conn.execute(f"DELETE FROM {table} WHERE {clause}", tuple(where.values()))
