# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator's state as a call that only reads sees it: opening a store, its transaction, its queries.

What a read-only module packs and imports (issue 14 item 3): the writes, the encoder and the event queue
are ``Store``'s, in store.py. A file is checked before anything is written to it: a file that is not a
store of ours (not SQLite, another application's database, a newer schema) is refused and left
byte-identical. Every call runs inside ``transaction()``, which takes the write lock at once (``BEGIN
IMMEDIATE``) so that parallel forks queue behind the busy timeout instead of losing each other's
read-modify-write.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any, Literal, TypeVar

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError
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

# The newest schema: migrations.py's last step (tests/unit/test_module_imports.py holds them equal).
SCHEMA_VERSION = 4
BUSY_TIMEOUT_MS = 120_000
OpenMode = Literal["prepare", "write", "read"]

# Store.open gives the class it is called on (KeptStore.open, _store/kept_store.py).
Opened = TypeVar("Opened", bound="ReadStore")


def default_path() -> str:
    return os.environ.get("AZSIM_VMSS_STORE") or os.path.join(
        os.path.expanduser("~"), ".ansible", "azsim", "vmss.sqlite"
    )


class ReadStore:
    """An open store, for a call that reads; ``Store`` (store.py) writes too. Use ``with store.transaction():``
    around every read of one call."""

    def __init__(self, path: str, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        # Per-call caches (see _fleet.py) and the writes they owe the store before COMMIT.
        self.extras: dict[str, Any] = {}
        self.before_commit: list[Any] = []
        self._steps: dict[int, list[str]] | None = None  # None: migrations.py's MIGRATIONS
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
        steps = migrations
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
                check_ours(path, _newest(steps))
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
    def transaction(self, commit: bool = True) -> Iterator[ReadStore]:
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
            self._forget_call()
            self._in_transaction = True
            yield self
            if commit:
                self._before_commit()
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
            self._forget_call()
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

    def _forget_call(self) -> None:
        """What a transaction kept of the store (Store adds its event queue)."""
        self._now, self._now_dirty = None, False

    def _before_commit(self) -> None:
        """What a call owes the store before COMMIT (Store adds its event queue)."""
        for flush in self.before_commit:
            flush()
        self._write_now()

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

    def _write_now(self) -> None:
        if self._now_dirty and self._now is not None:
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'now'", (str(self._now),))
            self._now_dirty = False

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

    def instance_texts(self, scale_set: str, size: int) -> Iterator[list[str]]:
        """A scale set's instances as stored, in id order, ``size`` at a time: each time the list of their texts, for
        the loader to parse or decode them together (one decode of many rows shares the keys' strings across them).
        Only the texts, as the cursor reads them: no id or row kept per instance (issue 14: loading 100,000). Read
        them all before the next write."""
        cursor = self.conn.execute("SELECT doc FROM instances WHERE scale_set = ? ORDER BY instance_id", (scale_set,))
        while rows := cursor.fetchmany(size):
            yield [row[0] for row in rows]

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
    _migrate(path, conn, steps)


def _newest(steps: dict[int, list[str]] | None) -> int:
    return SCHEMA_VERSION if steps is None else max(steps)


def _migrate(path: str, conn: sqlite3.Connection, steps: dict[int, list[str]] | None) -> None:
    """Bring the schema to the newest version, inside the caller's transaction (which decides whether it stays).

    ``steps`` None: migrations.py's, imported only here, when a store is older than this code or new (a call on an
    up-to-date store, as most are, does not compile them; issue 14)."""
    newest = _newest(steps)
    # Another fork may have created the store meanwhile; and a database whose tables were only in
    # its WAL when the header was read shows them now.
    current, ours = _check_schema(path, conn, newest)
    if current == newest and ours:
        return
    if steps is None:
        from ansible_collections.azsim.vmss.plugins.module_utils._store.migrations import MIGRATIONS  # pylint: disable=import-outside-toplevel

        steps = MIGRATIONS
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
