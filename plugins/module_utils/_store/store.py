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

import contextlib
import gc
import itertools
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._common.fingerprint import SALT_BYTES, UNKNOWN
from ansible_collections.azsim.vmss.plugins.module_utils._store.files import (
    APPLICATION_ID,
    HOLDING,
    check_ours,
    damaged,
    disk_error,
    foreign,
    hold,
    newer,
    prepare_file,
    release,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.filesystems import check_filesystem
from ansible_collections.azsim.vmss.plugins.module_utils._store.sidecars import (
    check_sidecar_types,
    check_sidecars_belong,
)

SCHEMA_VERSION = 4
# The virtual clock of a new store starts here (2025-01-01T00:00:00Z), never at the wall clock.
EPOCH = 1735689600
BUSY_TIMEOUT_MS = 120_000
OpenMode = Literal["prepare", "write", "read"]

if TYPE_CHECKING:  # imported where the queue is first used: a call that reads never compiles it (issue 14)
    from ansible_collections.azsim.vmss.plugins.module_utils._store.events import EventQueue
# Store.open gives the class it is called on (KeptStore.open, _store/kept_store.py).
Opened = TypeVar("Opened", bound="Store")

# Forward migrations: MIGRATIONS[n] takes a store from schema n - 1 to n. Never edit a shipped step.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, due INTEGER NOT NULL,"
        " kind TEXT NOT NULL, subject TEXT NOT NULL, payload TEXT NOT NULL)",
        "CREATE INDEX events_due ON events (due, seq)",
        "CREATE TABLE images (kind TEXT NOT NULL, image TEXT NOT NULL, version TEXT NOT NULL,"
        " doc TEXT NOT NULL, PRIMARY KEY (kind, image, version))",
        "CREATE TABLE scale_sets (key TEXT PRIMARY KEY, subscription_id TEXT NOT NULL,"
        " resource_group TEXT NOT NULL, doc TEXT NOT NULL)",
        "CREATE TABLE instances (scale_set TEXT NOT NULL, instance_id INTEGER NOT NULL,"
        " doc TEXT NOT NULL, PRIMARY KEY (scale_set, instance_id))",
        "CREATE TABLE runs (scale_set TEXT NOT NULL, run_id INTEGER NOT NULL, kind TEXT NOT NULL,"
        " start INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (scale_set, run_id))",
        "CREATE TABLE features (subscription_id TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,"
        " PRIMARY KEY (subscription_id, name))",
        "CREATE TABLE providers (subscription_id TEXT NOT NULL, namespace TEXT NOT NULL, doc TEXT NOT NULL,"
        " PRIMARY KEY (subscription_id, namespace))",
        f"INSERT INTO meta (key, value) VALUES ('now', '{EPOCH}')",
    ],
    # History reads the newest OS runs of one scale set without decoding every run it ever had.
    2: ["CREATE INDEX runs_by_kind ON runs (scale_set, kind, start, run_id)"],
    # The ARM endpoint's resources around scale sets (resource groups, virtual networks, subnets), by
    # lower-case id; the parent column lists a group's or a network's children without decoding all.
    3: [
        "CREATE TABLE resources (id TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, parent TEXT NOT NULL,"
        " doc TEXT NOT NULL)",
        "CREATE INDEX resources_by_parent ON resources (parent, id)",
    ],
    # Fingerprints of protected settings were HMACs under a key kept in the store itself, so the store alone
    # confirmed a guess. The key goes; an old fingerprint cannot become a new one without the secret, so it is
    # marked unknown and the next write that gives the settings records the new one (docs/reliability.md §5).
    4: [
        "UPDATE scale_sets SET doc = json_set(doc, '$.extension_secrets', json((SELECT json_group_object(e.key,"
        " json_object('credential_expiry', json_extract(e.value, '$.credential_expiry'),"
        " 'protected_settings_fingerprint', CASE WHEN json_extract(e.value, '$.protected_settings_hmac') IS NULL"
        f" THEN NULL ELSE '{UNKNOWN}' END)) FROM json_each(doc, '$.extension_secrets') AS e)))"
        " WHERE json_type(doc, '$.extension_secrets') = 'object'",
        "DELETE FROM meta WHERE key = 'fingerprint_key'",
    ],
}


def default_path() -> str:
    return os.environ.get("AZSIM_VMSS_STORE") or os.path.join(
        os.path.expanduser("~"), ".ansible", "azsim", "vmss.sqlite"
    )


# One encoder for every document: json.dumps with options builds a new encoder per call, which
# dominates writing 100,000 instance rows.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _dumps(doc: Any) -> str:
    # ``_ENCODER.encode`` builds its C encoder anew at each call, most of the cost of a small document (an
    # event's payload, a run): the one built below is reused, as in ``Store.encode``.
    if _C_ENCODER is None:
        return _ENCODER.encode(doc)
    return "".join(_C_ENCODER(doc, 0))


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


class Store:
    """An open store. Use ``with store.transaction():`` around every read and write of one call."""

    def __init__(self, path: str, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        # Per-call caches (see _fleet.py) and the writes they owe the store before COMMIT.
        self.extras: dict[str, Any] = {}
        self.before_commit: list[Any] = []
        self._steps: dict[int, list[str]] = MIGRATIONS
        self._pending = False  # migration and WAL deferred to the first transaction (modes "write", "read")
        self._created: list[str] | None = None  # this Store made the file: the folders it made, deepest first
        self._inode = 0
        self._dev = 0
        self._shared = False  # kept across calls (``open(shared=True)``)
        self._held: tuple[int, int] | None = None  # this connection's count in files.HELD
        # The virtual clock as this transaction sees it: read once, written back once before COMMIT
        # (a fleet's advance moves it at every event; issue 14). None outside a transaction.
        self._now: int | None = None
        self._now_dirty = False
        self._in_transaction = False
        # The event queue as this transaction sees it (_store/events.py), read on first use.
        self._events: EventQueue | None = None

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(
        cls: type[Opened],
        path: str,
        migrations: dict[int, list[str]] | None = None,
        *,
        mode: OpenMode = "prepare",
        shared: bool = False,
    ) -> Opened:
        """Open the store at ``path``; refuse any file that is not ours.

        ``mode``: ``"prepare"`` creates a missing store, switches it to WAL and migrates it now (a
        committed transaction of its own). ``"write"`` (a module call that may commit) creates a missing
        store but changes nothing else yet: the migration runs inside the call's transaction, WAL is
        switched on after its COMMIT, and a store this call created is removed again if the call does
        not commit. ``"read"`` (check mode, read-only modules) never creates, migrates or switches
        anything: a missing store is a ``StoreError``, and the call's transaction must not commit.

        ``shared``: the connection may be used by one thread after another (never by two at once), for a
        server that keeps its connections across requests (``_front/arm/storepool.py``).
        """
        steps = MIGRATIONS if migrations is None else migrations
        if "\x00" in path:  # os.stat and sqlite3 would raise ValueError, not an OSError
            raise StoreError(
                f"store {path!r}: contains a NUL character, which no file path can; give the path of a store file"
            )
        path = os.path.abspath(os.path.expanduser(path))
        check_filesystem(path)  # before anything is created, read or locked there
        created = prepare_file(path, create=mode != "read")
        fresh = created is not None or os.stat(path).st_size == 0
        check_sidecar_types(path)
        if not fresh:
            check_sidecars_belong(path)
        held: tuple[int, int] | None = None
        try:
            if not fresh:
                # Before our own connection exists: closing one would checkpoint a foreign file's pending WAL.
                check_ours(path, max(steps))
            with HOLDING:
                held = hold(path)
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=not shared
            )
        except sqlite3.DatabaseError as exc:
            _release_if(held)
            raise disk_error(path, exc) or damaged(path, exc) from None
        except sqlite3.Error as exc:
            _release_if(held)
            raise StoreError(f"store {path}: cannot be opened ({exc}); check the path and its permissions") from None
        except BaseException:
            _release_if(held)
            raise
        store = cls(path, conn)
        store._held = held
        store._steps = steps
        store._created = created
        store._shared = shared
        opened = os.stat(path)
        store._inode, store._dev = opened.st_ino, opened.st_dev
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            if mode == "prepare":
                _use_wal(path, conn)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    _migrate(path, conn, steps)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            else:
                store._pending = True
        except sqlite3.DatabaseError as exc:
            store.close()
            raise disk_error(path, exc) or damaged(path, exc) from None
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.conn.close()
        _release_if(self._held)
        self._held = None

    @property
    def in_transaction(self) -> bool:
        """Inside ``transaction()``: what ``extras`` holds is forgotten when it ends."""
        return self._in_transaction

    @property
    def created(self) -> bool:
        """Whether this call made the store file (nothing has committed to it yet)."""
        return self._created is not None

    # -- transactions ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Store]:
        """All or nothing. ``commit=False`` runs everything and throws it away (check mode).

        Python's cyclic garbage collector is paused meanwhile: a call loads, changes and writes back up to
        a whole fleet of small dicts and makes no cycles worth collecting, and the collector would rescan
        them all as they pile up (about a third of a 100,000-instance run's CPU).
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                self._forget_if_new()
                self._remove_new_folders()
                raise disk_error(self.path, exc) or damaged(self.path, exc) from None
            raise StoreError(
                f"store {self.path}: could not take the write lock within {BUSY_TIMEOUT_MS // 1000}s ({exc})"
            ) from None
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._still_there()
            if self._created is not None and os.stat(self.path).st_size:
                self._created = None  # another process committed to it first: it is a store now, not ours to remove
            if self._pending or self._shared:
                # Inside the call's transaction: a call that does not commit leaves an older schema as it was.
                # A connection kept across calls checks again what another program may have done since.
                _migrate(self.path, self.conn, self._steps)
            self._now, self._now_dirty = None, False
            self._events = None
            self._in_transaction = True
            yield self
            if commit:
                for flush in self.before_commit:
                    flush()
                self.write_events()
                self._write_now()
                self.conn.execute("COMMIT")
        except BaseException as exc:
            self._forget_if_new()
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already: keep the first error
                self.conn.execute("ROLLBACK")
            self._remove_new_folders()
            cause = disk_error(self.path, exc) if isinstance(exc, sqlite3.OperationalError) else None
            if cause is not None:
                raise cause from None
            raise
        finally:
            self._in_transaction = False
            self._now, self._now_dirty = None, False
            self._events = None
            self.extras.clear()
            self.before_commit.clear()
            if collecting:
                gc.enable()
        if commit:
            self._created = None
            if self._pending:
                self._pending = False
                _use_wal(self.path, self.conn)  # after the COMMIT: a call that commits nothing flips nothing
        else:
            self._forget_if_new()
            self.conn.execute("ROLLBACK")
            self._remove_new_folders()

    def _still_there(self) -> None:
        """The file this Store opened is still the one at its path (a call that made it may have removed it)."""
        try:
            same = os.stat(self.path).st_ino == self._inode
        except OSError:
            same = False
        if not same:
            raise StoreError(
                f"store {self.path}: was removed or replaced while this task waited for it; nothing was changed. "
                "Run the task again"
            )

    def _forget_if_new(self) -> None:
        """A store this call created and never committed to is removed again, while the lock is held."""
        if self._created is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def _remove_new_folders(self) -> None:
        if self._created is None:
            return
        for folder in self._created:  # deepest first; a folder someone else put a file in stays
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        self._created = None

    # -- the virtual clock -----------------------------------------------------------------------

    def now(self) -> int:
        if self._now is not None:
            return self._now
        now = int(self.conn.execute("SELECT value FROM meta WHERE key = 'now'").fetchone()[0])
        if self._in_transaction:  # another process may move it between two transactions, never within one
            self._now = now
        return now

    def set_now(self, seconds: int) -> None:
        if self._in_transaction:
            self._now, self._now_dirty = seconds, True
        else:
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'now'", (str(seconds),))

    def _write_now(self) -> None:
        if self._now_dirty and self._now is not None:
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'now'", (str(self._now),))
            self._now_dirty = False

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

    def cancel_events_under(self, subject: str) -> None:
        """Every event of ``subject`` and of the subjects below it (``subject/...``), of any kind."""
        self._queue().cancel_under(subject)
        self._settle_events()

    def delete_event(self, seq: int) -> None:
        self._queue().delete(seq)
        self._settle_events()

    # -- documents -------------------------------------------------------------------------------

    def get_doc(self, table: str, where: dict[str, Any]) -> dict[str, Any] | None:
        clause = " AND ".join(f"{column} = ?" for column in where)
        row = self.conn.execute(f"SELECT doc FROM {table} WHERE {clause}", tuple(where.values())).fetchone()
        return None if row is None else json.loads(row[0])

    def list_docs(self, table: str, where: dict[str, Any], order: str = "rowid") -> list[dict[str, Any]]:
        clause = " AND ".join(f"{column} = ?" for column in where) or "1 = 1"
        rows = self.conn.execute(
            f"SELECT doc FROM {table} WHERE {clause} ORDER BY {order}", tuple(where.values())
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

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

    # -- instances -------------------------------------------------------------------------------

    def instance_rows(self, scale_set: str) -> Iterator[tuple[int, str]]:
        """A scale set's instances as stored, (instance id, document text), in id order: not decoded, so
        that a caller can keep the text and later write back only the instances whose text changed.

        Rows come as the cursor reads them, not as one list: a caller that decodes as it goes holds one text at a
        time, not 100,000 of them beside the decoded instances (issue 14). Read them all before the next write."""
        for instance_id, text in self.conn.execute(
            "SELECT instance_id, doc FROM instances WHERE scale_set = ? ORDER BY instance_id", (scale_set,)
        ):
            yield int(instance_id), text

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

    def recent_runs(self, scale_set: str, kind: str, since: int | None, limit: int | None) -> list[dict[str, Any]]:
        """Runs of one kind, newest first, started at or after ``since``, at most ``limit`` of them."""
        sql = "SELECT doc FROM runs WHERE scale_set = ? AND kind = ?"
        args: list[Any] = [scale_set, kind]
        if since is not None:
            sql += " AND start >= ?"
            args.append(since)
        sql += " ORDER BY start DESC, run_id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [json.loads(row[0]) for row in self.conn.execute(sql, args).fetchall()]

    def delete_docs(self, table: str, where: dict[str, Any]) -> None:
        clause = " AND ".join(f"{column} = ?" for column in where)
        self.conn.execute(f"DELETE FROM {table} WHERE {clause}", tuple(where.values()))


def _release_if(held: tuple[int, int] | None) -> None:
    if held is not None:
        release(held)


def _use_wal(path: str, conn: sqlite3.Connection) -> None:
    """Switch to WAL, waiting for writers: unlike BEGIN, changing the journal mode does not wait for a lock."""
    for _attempt in range(100):
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0].lower()
            if mode == "wal" or conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        conn.execute("BEGIN IMMEDIATE")  # waits, within the busy timeout, until the writer is done
        conn.execute("ROLLBACK")
    raise StoreError(f"store {path}: could not switch to WAL journal mode; another process keeps it locked")


def migrate(path: str, conn: sqlite3.Connection, steps: dict[int, list[str]] | None = None) -> None:
    """``_migrate`` for another connection than a Store's (a snapshot loaded into memory); ``path`` names it."""
    _migrate(path, conn, MIGRATIONS if steps is None else steps)


def _migrate(path: str, conn: sqlite3.Connection, steps: dict[int, list[str]]) -> None:
    """Bring the schema to the newest version, inside the caller's transaction (which decides whether it stays)."""
    newest = max(steps)
    # Another fork may have created the store meanwhile; and a database whose tables were only in
    # its WAL when the header was read shows them now.
    current, ours = _check_schema(path, conn, newest)
    if current == newest and ours:
        return
    for version in range(current + 1, newest + 1):
        for sql in steps[version]:
            conn.execute(sql)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {newest}")


def _check_schema(path: str, conn: sqlite3.Connection, newest: int) -> tuple[int, bool]:
    """Refuse another application's database or a newer schema; the schema version, and whether it is marked ours."""
    app_id, current, tables = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if app_id != APPLICATION_ID and (app_id or current or tables):
        raise foreign(path)
    if current > newest:
        raise newer(path, current, newest)
    return int(current), app_id == APPLICATION_ID
