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
import json
import os
import resource
import shutil
import sqlite3
import stat
import struct
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError

# 'AZVS' in ASCII: marks a SQLite file as ours in its header (PRAGMA application_id).
APPLICATION_ID = 0x415A5653
SCHEMA_VERSION = 2
# The virtual clock of a new store starts here (2025-01-01T00:00:00Z), never at the wall clock.
EPOCH = 1735689600
BUSY_TIMEOUT_MS = 120_000
_SQLITE_HEADER = b"SQLite format 3\x00"
OpenMode = Literal["prepare", "write", "read"]

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
}


def default_path() -> str:
    return os.environ.get("AZSIM_VMSS_STORE") or os.path.join(
        os.path.expanduser("~"), ".ansible", "azsim", "vmss.sqlite"
    )


# One encoder for every document: json.dumps with options builds a new encoder per call, which
# dominates writing 100,000 instance rows.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _dumps(doc: Any) -> str:
    return _ENCODER.encode(doc)


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

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str, migrations: dict[int, list[str]] | None = None, *, mode: OpenMode = "prepare"
    ) -> Store:
        """Open the store at ``path``; refuse any file that is not ours.

        ``mode``: ``"prepare"`` creates a missing store, switches it to WAL and migrates it now (a
        committed transaction of its own). ``"write"`` (a module call that may commit) creates a missing
        store but changes nothing else yet: the migration runs inside the call's transaction, WAL is
        switched on after its COMMIT, and a store this call created is removed again if the call does
        not commit. ``"read"`` (check mode, read-only modules) never creates, migrates or switches
        anything: a missing store is a ``StoreError``, and the call's transaction must not commit.
        """
        steps = MIGRATIONS if migrations is None else migrations
        if "\x00" in path:  # os.stat and sqlite3 would raise ValueError, not an OSError
            raise StoreError(f"store {path!r}: contains a NUL character, which no file path can; give the path of a store file")
        path = os.path.abspath(os.path.expanduser(path))
        created = _prepare_file(path, create=mode != "read")
        fresh = created is not None or os.stat(path).st_size == 0
        _check_sidecar_types(path)
        if not fresh:
            _check_sidecars_belong(path)
        try:
            if not fresh:
                # Before our own connection exists: closing one would checkpoint a foreign file's pending WAL.
                _check_ours(path, max(steps))
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise _disk_error(path, exc) or _damaged(path, exc) from None
        except sqlite3.Error as exc:
            raise StoreError(f"store {path}: cannot be opened ({exc}); check the path and its permissions") from None
        store = cls(path, conn)
        store._steps = steps
        store._created = created
        store._inode = os.stat(path).st_ino
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
            conn.close()
            raise _disk_error(path, exc) or _damaged(path, exc) from None
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self.conn.close()

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
                raise _disk_error(self.path, exc) or _damaged(self.path, exc) from None
            raise StoreError(
                f"store {self.path}: could not take the write lock within {BUSY_TIMEOUT_MS // 1000}s ({exc})"
            ) from None
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._still_there()
            if self._created is not None and os.stat(self.path).st_size:
                self._created = None  # another process committed to it first: it is a store now, not ours to remove
            if self._pending:
                # Inside the call's transaction: a call that does not commit leaves an older schema as it was.
                _migrate(self.path, self.conn, self._steps)
            yield self
            if commit:
                for flush in self.before_commit:
                    flush()
                self.conn.execute("COMMIT")
        except BaseException as exc:
            self._forget_if_new()
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already: keep the first error
                self.conn.execute("ROLLBACK")
            self._remove_new_folders()
            cause = _disk_error(self.path, exc) if isinstance(exc, sqlite3.OperationalError) else None
            if cause is not None:
                raise cause from None
            raise
        finally:
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
        return int(self.conn.execute("SELECT value FROM meta WHERE key = 'now'").fetchone()[0])

    def set_now(self, seconds: int) -> None:
        self.conn.execute("UPDATE meta SET value = ? WHERE key = 'now'", (str(seconds),))

    def fingerprint_key(self) -> bytes:
        """This store's random key for fingerprints of secrets, made on first use."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'fingerprint_key'").fetchone()
        if row is not None:
            return bytes.fromhex(row[0])
        key = os.urandom(32)
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('fingerprint_key', ?)", (key.hex(),))
        return key

    # -- the event queue -------------------------------------------------------------------------

    def schedule(self, due: int, kind: str, subject: str, payload: dict[str, Any] | None = None) -> int:
        cur = self.conn.execute(
            "INSERT INTO events (due, kind, subject, payload) VALUES (?, ?, ?, ?)",
            (due, kind, subject, _dumps(payload or {})),
        )
        return int(cur.lastrowid or 0)

    def next_event(self, until: int) -> tuple[int, int, str, str, dict[str, Any]] | None:
        """The earliest event due at or before ``until`` (ties in scheduling order), or None."""
        row = self.conn.execute(
            "SELECT seq, due, kind, subject, payload FROM events WHERE due <= ? ORDER BY due, seq LIMIT 1",
            (until,),
        ).fetchone()
        if row is None:
            return None
        return int(row[0]), int(row[1]), row[2], row[3], json.loads(row[4])

    def pending_events(self, subject: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT seq, due, kind, subject, payload FROM events WHERE 1 = 1"
        args: list[Any] = []
        if subject is not None:
            sql += " AND subject = ?"
            args.append(subject)
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        rows = self.conn.execute(sql + " ORDER BY due, seq", args).fetchall()
        return [
            {"seq": r[0], "due": r[1], "kind": r[2], "subject": r[3], "payload": json.loads(r[4])} for r in rows
        ]

    def cancel_events(self, subject: str, kind: str | None = None) -> None:
        if kind is None:
            self.conn.execute("DELETE FROM events WHERE subject = ?", (subject,))
        else:
            self.conn.execute("DELETE FROM events WHERE subject = ? AND kind = ?", (subject, kind))

    def delete_event(self, seq: int) -> None:
        self.conn.execute("DELETE FROM events WHERE seq = ?", (seq,))

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
            [(*key.values(), _dumps(doc)) for key, doc in rows],
        )

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


def _prepare_file(path: str, create: bool = True) -> list[str] | None:
    """Check the file at ``path``; create it 0600 (and its folders 0700) if missing and ``create``.

    Returns the folders it created, deepest first, when it created the file; None when the file was there.
    The path itself is never followed if it is a symlink (``lstat``, ``O_EXCL`` refuses one when creating).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not create:
            raise StoreError(
                f"store {path}: does not exist; nothing was created (check mode and read-only modules never create "
                "a store). Point the store option or AZSIM_VMSS_STORE at an existing store, or run a task that "
                "writes to create it"
            ) from None
        try:
            made = _make_folders(os.path.dirname(path))
            _check_folder(path)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
        except FileExistsError:  # another process made it meanwhile (or planted a symlink): checked as found
            return _prepare_file(path, create=False)
        except OSError as exc:
            raise StoreError(
                f"store {path}: cannot be created ({exc.strerror}); choose a writable path with the store "
                "option or AZSIM_VMSS_STORE"
            ) from None
        os.close(fd)
        return made
    except OSError as exc:
        raise StoreError(f"store {path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise StoreError(
            f"store {path}: is a symlink (to {os.readlink(path)}); a store is never opened through one. Give the "
            "path of the real file with the store option or AZSIM_VMSS_STORE"
        )
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"store {path}: is a directory; give the path of a file inside it, e.g. {path}/vmss.sqlite")
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"store {path}: is not a regular file; give the path of a store file")
    _check_folder(path)
    _check_owner(path, path, st)
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(os.path.dirname(path), os.W_OK):
        raise StoreError(
            f"store {path}: is read-only for this user (the store and its folder must be writable, for its "
            "journal); fix the permissions or copy it somewhere writable"
        )
    if st.st_size == 0:
        return None
    with open(path, "rb") as handle:
        header = handle.read(100)
    if header[: len(_SQLITE_HEADER)] != _SQLITE_HEADER:
        raise StoreError(
            f"store {path}: is not an azsim.vmss store (not a SQLite file); it was left untouched. "
            "Point the store option or AZSIM_VMSS_STORE at another path"
        )
    # SQLite only ever writes whole pages: a file that ends inside a page was cut short (a copy or a disk
    # that ran out), and SQLite would read the missing bytes as zeros instead of failing.
    page_size = int.from_bytes(header[16:18], "big") if len(header) >= 18 else 0
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1) or st.st_size % page_size:
        raise StoreError(
            f"store {path}: is damaged or not a database ({st.st_size} bytes is not a whole number of "
            f"{page_size}-byte pages: the file was cut short); it was left untouched. Move it aside and let "
            "azsim.vmss create a new one, or point the store option elsewhere"
        )
    return None


def _check_owner(path: str, name: str, st: os.stat_result) -> None:
    """Like ssh's StrictModes: a store file or sidecar of another user, or that others may write, is not trusted."""
    if st.st_uid != os.geteuid():
        raise StoreError(
            f"store {path}: {name} is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()}); it was left "
            f"untouched. chown it to this user if it is yours, or point the store option at a store of your own"
        )
    if st.st_mode & 0o022:
        raise StoreError(
            f"store {path}: {name} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); it was left "
            f"untouched. Run chmod 600 {name} (or chmod go-w) if it is yours, or point the store option elsewhere"
        )


def _check_folder(path: str) -> None:
    """The store's folder: this user's or root's, and not writable by others unless sticky (as /tmp)."""
    folder = os.path.dirname(path)
    try:
        st = os.stat(folder)
    except OSError:
        return  # reported by whatever fails next, with its own reason
    if st.st_uid not in (os.geteuid(), 0):
        raise StoreError(
            f"store {path}: its folder {folder} is owned by uid {st.st_uid}, neither this user (uid {os.geteuid()}) "
            f"nor root; nothing was written. chown it to this user, or point the store option at a folder of your own"
        )
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise StoreError(
            f"store {path}: its folder {folder} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}) "
            f"without the sticky bit, so another user could replace the store; nothing was written. Run chmod go-w "
            f"{folder} (or chmod +t), or point the store option at a folder of your own"
        )


def _make_folders(folder: str) -> list[str]:
    """``os.makedirs`` with every new folder 0700 whatever the umask; the folders made, deepest first."""
    missing = []
    while not os.path.isdir(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    made: list[str] = []
    for new in reversed(missing):
        try:
            os.mkdir(new, 0o700)
        except FileExistsError:
            continue
        os.chmod(new, 0o700)  # mkdir's mode is masked by the umask
        made.insert(0, new)
    return made


def _disk_error(path: str, exc: Exception) -> StoreError | None:
    """The real cause of an SQLite I/O failure, when it is the disk or a limit and not the data."""
    text = str(exc).lower()
    if "disk i/o error" not in text and "full" not in text and "unable to open" not in text:
        return None
    folder = os.path.dirname(path)
    try:
        vfs = os.statvfs(folder)
        free = vfs.f_bavail * vfs.f_frsize
    except OSError:
        free = -1
    if 0 <= free < 1024 * 1024 or ("full" in text and free < 0):
        return StoreError(
            f"store {path}: disk full ({exc}; {max(free, 0)} bytes free in {folder}); nothing was changed and the "
            "store was left as it was. Free some space and run the task again"
        )
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if soft != resource.RLIM_INFINITY:
        return StoreError(
            f"store {path}: file size limit of this process reached ({exc}; RLIMIT_FSIZE, ulimit -f, is {soft} "
            "bytes); nothing was changed and the store was left as it was. Raise the limit and run the task again"
        )
    if "full" in text:
        return StoreError(
            f"store {path}: disk full ({exc}); nothing was changed and the store was left as it was. Free some "
            "space (or check the file system's quota) and run the task again"
        )
    return None


def _damaged(path: str, exc: Exception) -> StoreError:
    return StoreError(
        f"store {path}: is damaged or not a database ({exc}); move it aside and let azsim.vmss create a new one, "
        "or point the store option elsewhere"
    )


def _check_ours(path: str, newest: int) -> None:
    """Refuse another application's database or a newer schema by reading the file's header only.

    SQLite is not asked: any connection to a WAL database writes its -shm index, and the last one to
    close checkpoints the WAL into the file. What only a pending WAL holds is checked again inside the
    first write transaction (``_migrate``).
    """
    with open(path, "rb") as handle:
        header = _newest_page_one(path + "-wal") or handle.read(108)
    if len(header) < 108:
        raise StoreError(
            f"store {path}: is too short to be a SQLite database ({len(header)} bytes); it was left untouched. "
            "Move it aside and let azsim.vmss create a new one, or point the store option elsewhere"
        )
    # Database header: user_version at offset 60, application_id at 68 (big-endian). Page 1's b-tree
    # header follows at 100: page type (0x0D = leaf) and, at 103, how many schema entries it holds.
    version = int.from_bytes(header[60:64], "big")
    app_id = int.from_bytes(header[68:72], "big")
    has_schema = header[100] != 0x0D or int.from_bytes(header[103:105], "big") > 0
    if app_id != APPLICATION_ID and (app_id or version or has_schema):
        raise _foreign(path)
    if version > newest:
        raise _newer(path, version, newest)


def _newest_page_one(wal_path: str) -> bytes | None:
    """The first 108 bytes of page 1 as the last transaction committed to a WAL file left beside the database.

    WAL format: a 32-byte header (magic, version, page size, checkpoint, two salts, checksum), then
    frames of a 24-byte header (page number, database size after commit or 0, the salts, checksum) and
    one page. Frames whose salts differ are left over from before the last checkpoint.
    """
    try:
        handle = open(wal_path, "rb")
    except OSError:
        return None
    with handle:
        header = handle.read(32)
        if len(header) < 32 or int.from_bytes(header[0:4], "big") not in (0x377F0682, 0x377F0683):
            return None
        page_size = int.from_bytes(header[8:12], "big") or 65536
        salts = header[16:24]
        committed = pending = None
        while True:
            frame = handle.read(24)
            if len(frame) < 24 or frame[8:16] != salts:
                return committed
            page = handle.read(page_size)
            if len(page) < page_size:
                return committed
            if int.from_bytes(frame[0:4], "big") == 1:
                pending = page[:108]
            if int.from_bytes(frame[4:8], "big") and pending is not None:  # a commit frame
                committed, pending = pending, None


SIDECARS = ("-wal", "-shm", "-journal")
_WAL_MAGIC = (0x377F0682, 0x377F0683)
_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symlink"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _check_sidecar_types(path: str) -> None:
    """SQLite's -wal, -shm and -journal must be plain files: a FIFO would block the open forever, a
    directory or a device fails later with a misleading error, a symlink writes wherever it points."""
    for side in SIDECARS:
        try:
            st = os.lstat(path + side)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreError(f"store {path}: its sidecar {path}{side} cannot be examined ({exc.strerror})") from None
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(
                f"store {path}: blocked sidecar {path}{side} ({_kind(st.st_mode)}, not a regular file); the store "
                f"was left untouched. Remove {path}{side} (SQLite makes its own), or point the store option elsewhere"
            )
        _check_owner(path, path + side, st)


def _not_ours(path: str, side: str, why: str) -> StoreError:
    return StoreError(
        f"store {path}: its {side} file {path}{side} does not belong to it ({why}); both were left untouched. "
        f"Move {path}{side} aside if it is left over from another store (or restore the store's own), or point "
        "the store option elsewhere"
    )


def _check_sidecars_belong(path: str) -> None:
    """Refuse a -journal or -wal that SQLite would replay into the store but that is not the store's own.

    SQLite trusts any valid log beside the file: another database's hot journal or another store's
    -wal would be played back into this one (and then deleted). Checked by reading only, before SQLite
    opens anything; a -wal that a live connection holds is that connection's, and is left to SQLite.
    """
    with open(path, "rb") as handle:
        header = handle.read(100)
    db_size = os.stat(path).st_size
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    wal_mode = header[18] == 2
    _check_journal(path, page_size, wal_mode)
    _check_wal(path, header, page_size, db_size)


def _check_journal(path: str, page_size: int, wal_mode: bool) -> None:
    try:
        with open(path + "-journal", "rb") as handle:
            head = handle.read(28)
    except FileNotFoundError:
        return
    if not head or head[0] == 0:  # empty, or zeroed (journal_mode PERSIST): not hot, SQLite ignores it
        return
    if _live(path):  # a writer's journal (also while it switches the store to WAL): SQLite does not replay it
        return
    if head[:8] != _JOURNAL_MAGIC:
        raise _not_ours(path, "-journal", "not a SQLite rollback journal")
    if wal_mode:
        raise _not_ours(path, "-journal", "a rollback journal beside a store in WAL mode, which never writes one")
    journal_page = int.from_bytes(head[24:28], "big")
    if len(head) == 28 and journal_page != page_size:
        raise _not_ours(path, "-journal", f"it is of {journal_page}-byte pages, the store of {page_size}-byte pages")


def _live(path: str) -> bool:
    """Whether a process holds a SQLite lock on the store or its -shm (then its -wal is being used).

    Read from /proc/locks, so that no file of the store is opened and closed here (closing any
    descriptor of a file drops this process's POSIX locks on it). Without /proc/locks: assumed live.
    """
    keys = set()
    for name in (path, path + "-shm"):
        try:
            st = os.stat(name)
        except OSError:
            continue
        keys.add(f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}")
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            return any(len(f := line.split()) > 5 and f[5] in keys for line in handle)
    except OSError:
        return True


def _wal_checksum(data: bytes, big: bool, s0: int, s1: int) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def _check_wal(path: str, db_header: bytes, page_size: int, db_size: int) -> None:
    wal = path + "-wal"
    stamp = _stamp(path)
    try:
        handle = open(wal, "rb")
    except FileNotFoundError:
        return
    with handle:
        head = handle.read(32)
        if len(head) < 32:  # empty or cut short before its header: SQLite ignores it
            return
        magic = int.from_bytes(head[0:4], "big")
        if magic not in _WAL_MAGIC:
            raise _not_ours(path, "-wal", "not a SQLite write-ahead log")
        big = magic & 1 == 1
        s0, s1 = _wal_checksum(head[:24], big, 0, 0)
        if head[24:32] != struct.pack(">II", s0, s1):
            raise _not_ours(path, "-wal", "its header checksum does not match")
        wal_page = int.from_bytes(head[8:12], "big") or 65536
        if wal_page != page_size:
            raise _not_ours(path, "-wal", f"it is of {wal_page}-byte pages, the store of {page_size}-byte pages")
        if _live(path):
            return
        salts = head[16:24]
        counters: list[int] = []  # change counters of page 1 in committed frames
        pending: list[int] = []
        frames = last_commit_pages = 0
        while True:
            frame = handle.read(24)
            page = handle.read(wal_page)
            if len(frame) < 24 or len(page) < wal_page or frame[8:16] != salts:
                break
            s0, s1 = _wal_checksum(frame[:8] + page, big, s0, s1)
            if frame[16:24] != struct.pack(">II", s0, s1):
                break
            frames += 1
            if int.from_bytes(frame[0:4], "big") == 1:
                pending.append(int.from_bytes(page[24:28], "big"))
            commit = int.from_bytes(frame[4:8], "big")
            if commit:
                last_commit_pages = commit
                counters += pending
                pending = []
    if not last_commit_pages:
        return  # nothing committed: SQLite replays nothing from it
    why = None
    db_counter = int.from_bytes(db_header[24:28], "big")
    if last_commit_pages * page_size < db_size:
        why = f"replaying it would cut the store from {db_size} to {last_commit_pages * page_size} bytes"
    elif counters and not counters[0] - 1 <= db_counter <= counters[-1]:
        why = "its change counters do not follow the store's"
    else:
        why = _replay_problem(path)
    # A process may have opened the store meanwhile (and checkpointed, restarted or removed the -wal while it
    # was read): what was read is then no evidence, and that process owns the -wal.
    if why is not None and not _live(path) and _unchanged(path, stamp):
        raise _not_ours(path, "-wal", why)


def _stamp(path: str) -> list[tuple[int, int, int] | None]:
    out: list[tuple[int, int, int] | None] = []
    for name in (path, path + "-wal"):
        try:
            st = os.stat(name)
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return out


def _unchanged(path: str, stamp: list[tuple[int, int, int] | None]) -> bool:
    return _stamp(path) == stamp


def _replay_problem(path: str) -> str | None:
    """Replay the -wal into a private copy (never the store): why the result is not a whole store of ours, or None."""
    with tempfile.TemporaryDirectory(prefix="azsim-wal-check-") as scratch:
        copy = os.path.join(scratch, "copy.sqlite")
        try:
            shutil.copyfile(path, copy)
            shutil.copyfile(path + "-wal", copy + "-wal")
        except FileNotFoundError:  # checkpointed and removed by its owner meanwhile
            return None
        try:
            conn = sqlite3.connect(copy, isolation_level=None)
            try:
                check = " ".join(str(conn.execute("PRAGMA quick_check(1)").fetchone()[0]).split())[:200]
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            check, app_id = str(exc), APPLICATION_ID
    if check != "ok":
        return f"replayed into a copy of the store it gives a damaged database: {check}"
    if app_id != APPLICATION_ID:
        return "replayed into a copy of the store it gives another application's database"
    return None


def _foreign(path: str) -> StoreError:
    return StoreError(
        f"store {path}: is a SQLite database of another application, not an azsim.vmss store; it was left "
        "untouched. Point the store option or AZSIM_VMSS_STORE at another path"
    )


def _newer(path: str, version: int, newest: int) -> StoreError:
    return StoreError(
        f"store {path}: has schema version {version}, newer than this azsim.vmss understands ({newest}); it was "
        "left untouched. Upgrade the azsim.vmss collection to use it"
    )


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


def _migrate(path: str, conn: sqlite3.Connection, steps: dict[int, list[str]]) -> None:
    """Bring the schema to the newest version, inside the caller's transaction (which decides whether it stays)."""
    newest = max(steps)
    # Another fork may have created the store meanwhile; and a database whose tables were only in
    # its WAL when the header was read shows them now.
    app_id, current, tables = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if app_id != APPLICATION_ID and (app_id or current or tables):
        raise _foreign(path)
    if current > newest:
        raise _newer(path, current, newest)
    if current == newest and app_id == APPLICATION_ID:
        return
    for version in range(current + 1, newest + 1):
        for sql in steps[version]:
            conn.execute(sql)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {newest}")
