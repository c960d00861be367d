# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots of a store: one self-contained file, taken with SQLite's backup API, restored under the write lock.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.

A store is up to three files (the main file, its ``-wal`` of committed transactions not yet folded in, and
the ``-shm`` index); a copy of the main file alone while a ``-wal`` holds commits is an older state, and a
copy put beside another store's leftover ``-wal`` mixes two states. So:

- **Taking** reads the store through a second, read-only connection while the call's own connection holds
  the write lock (no writer can commit meanwhile), copies it page by page with ``Connection.backup`` into a
  new ``0600`` file beside the destination (its ``-wal`` included, as SQLite reads it), switches the copy to
  rollback-journal mode so that it is one file, syncs it and renames it over the destination: a reader of
  the destination sees the old snapshot or the new one, never half of one.
- **Restoring** cannot use the backup API into the store: ``sqlite3_backup_init`` refuses a destination
  connection with an open transaction, and the call's transaction is what holds the write lock (letting go
  of it would let another task write between the check and the copy). The snapshot is instead opened
  ``immutable`` (nothing is written beside it), copied into memory with the backup API, migrated there to
  this version's schema, and its rows replace the store's, rowids and AUTOINCREMENT counters included,
  inside the call's one transaction: it commits whole or not at all (check mode rolls it back), and the
  store's own ``-wal`` stays SQLite's, so nothing can mix.

A snapshot file is refused unless it is a regular file of this user, not writable by group or others, not
a symlink, with no ``-wal`` or ``-journal`` beside it, a SQLite file of whole pages whose application id is
azsim.vmss's and whose schema version this collection understands.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
import urllib.parse
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput, StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._store.files import (
    APPLICATION_ID,
    SQLITE_HEADER,
    check_folder,
    make_folders,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import BUSY_TIMEOUT_MS, MIGRATIONS, migrate

SIDECARS = ("-wal", "-journal")


def resolve(value: object, option: str, store_path: str) -> str:
    """The absolute path an option names; never the store itself or one of its sidecars."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{option}: give the path of a snapshot file", option=option)
    if "\x00" in value:
        raise InvalidInput(f"{option}: {value!r} contains a NUL character, which no file path can", option=option)
    path = os.path.abspath(os.path.expanduser(value))
    if path in (store_path, *(store_path + side for side in (*SIDECARS, "-shm"))):
        raise InvalidInput(
            f"{option}: {path} is the store itself (or one of its files); give another path for the snapshot",
            option=option,
        )
    return path


def exists(path: str) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"snapshot {path}: cannot be read ({exc.strerror})") from None
    return True


def check_file(path: str, newest: int) -> None:
    """Refuse a file that is not a snapshot of this collection that this version can read; read its header only."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise StoreError(f"snapshot {path}: cannot be read ({exc.strerror}); nothing was changed") from None
    if stat.S_ISLNK(st.st_mode):
        raise StoreError(
            f"snapshot {path}: is a symlink (to {os.readlink(path)}); a snapshot is never read or written through "
            "one. Give the path of the real file"
        )
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"snapshot {path}: is not a regular file; give the path of a snapshot file")
    if st.st_uid != os.geteuid():
        raise StoreError(
            f"snapshot {path}: is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()}); it was left "
            "untouched. chown it to this user if it is yours"
        )
    if st.st_mode & 0o022:
        raise StoreError(
            f"snapshot {path}: is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}), so another "
            f"user could have changed it; it was left untouched. Run chmod 600 {path} if it is yours"
        )
    for side in SIDECARS:
        if exists(path + side):
            raise StoreError(
                f"snapshot {path}: has a {side} file beside it, so the file alone is not its whole state (a store in "
                "use, or copied without stopping its tasks); it was left untouched. Take snapshots with "
                "azsim.vmss.store_snapshot, which writes one self-contained file"
            )
    with open(path, "rb") as handle:
        header = handle.read(108)
    page_size = int.from_bytes(header[16:18], "big") if len(header) >= 18 else 0
    page_size = 65536 if page_size == 1 else page_size
    if len(header) < 108 or header[: len(SQLITE_HEADER)] != SQLITE_HEADER:
        raise StoreError(f"snapshot {path}: is not an azsim.vmss snapshot (not a SQLite file); it was left untouched")
    if page_size < 512 or page_size & (page_size - 1) or st.st_size % page_size:
        raise StoreError(
            f"snapshot {path}: is damaged ({st.st_size} bytes is not a whole number of {page_size}-byte pages: the "
            "file was cut short); it was left untouched"
        )
    if int.from_bytes(header[68:72], "big") != APPLICATION_ID:
        raise StoreError(
            f"snapshot {path}: is a SQLite database of another application, not an azsim.vmss store or snapshot; it "
            "was left untouched"
        )
    version = int.from_bytes(header[60:64], "big")
    if version > newest:
        raise StoreError(
            f"snapshot {path}: has schema version {version}, newer than this azsim.vmss understands ({newest}); it "
            "was left untouched. Upgrade the azsim.vmss collection to restore it"
        )


def load_unmigrated(path: str) -> sqlite3.Connection:
    """A snapshot already checked with ``check_file``, copied into memory as it is (to compare it)."""
    return _copy(path, migrated=False)


def load(path: str) -> sqlite3.Connection:
    """A checked snapshot, copied into memory and migrated to this version's schema; the file is only read."""
    check_file(path, max(MIGRATIONS))
    return _copy(path, migrated=True)


def _copy(path: str, migrated: bool) -> sqlite3.Connection:
    uri = "file:" + urllib.parse.quote(path) + "?immutable=1"  # immutable: no lock, no -shm, no journal beside it
    memory = sqlite3.connect(":memory:", isolation_level=None)
    try:
        source = sqlite3.connect(uri, uri=True)
        try:
            source.backup(memory)
        finally:
            source.close()
        if memory.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
            raise StoreError(f"snapshot {path}: is damaged (quick_check failed); it was left untouched")
        if migrated:
            memory.execute("BEGIN")
            migrate(path, memory)
            memory.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        memory.close()
        raise StoreError(f"snapshot {path}: is damaged or not a database ({exc}); it was left untouched") from None
    except BaseException:
        memory.close()
        raise
    return memory


def read_committed(store_path: str) -> sqlite3.Connection:
    """A read-only connection to the store: what is committed (its -wal included), not the call's own changes."""
    uri = "file:" + urllib.parse.quote(store_path) + "?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)


def write(store_path: str, dest: str) -> None:
    """Copy the store's committed state into ``dest`` (one file, 0600), replacing a snapshot there atomically."""
    made = make_folders(os.path.dirname(dest))
    check_folder(dest, "snapshot")
    temp = os.path.join(os.path.dirname(dest), f".{os.path.basename(dest)}.azsim-tmp-{os.urandom(6).hex()}")
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
        os.close(fd)
        source = read_committed(store_path)
        try:
            target = sqlite3.connect(temp, isolation_level=None)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal to carry along
            finally:
                target.close()
        finally:
            source.close()
        fd = os.open(temp, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, dest)
        folder = os.open(os.path.dirname(dest), os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except BaseException as exc:
        for leftover in (temp, temp + "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        for folder_made in made:
            with contextlib.suppress(OSError):
                os.rmdir(folder_made)
        if isinstance(exc, (OSError, sqlite3.Error)):
            raise StoreError(f"snapshot {dest}: could not be written ({exc}); nothing was changed") from None
        raise


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [str(r[0]) for r in rows]


def _columns(conn: sqlite3.Connection, table: str) -> tuple[list[str], bool]:
    """A table's columns, and whether one of them is its rowid (an INTEGER PRIMARY KEY)."""
    info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    keys = [row for row in info if row[5]]
    aliased = len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER"
    return [str(row[1]) for row in info], aliased


def replace_contents(conn: sqlite3.Connection, source: sqlite3.Connection, path: str) -> None:
    """Make every table of ``conn`` (inside its open transaction) hold exactly ``source``'s rows, rowids kept."""
    tables = _tables(conn)
    if tables != _tables(source):
        raise StoreError(
            f"snapshot {path}: its tables differ from this version's store ({_tables(source)}); nothing was changed"
        )
    for table in tables:
        columns, aliased = _columns(source, table)
        selected = columns if aliased else ["rowid", *columns]
        names = ", ".join(f'"{c}"' for c in selected)
        conn.execute(f'DELETE FROM "{table}"')
        rows = source.execute(f'SELECT {names} FROM "{table}" ORDER BY rowid')
        conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(selected))})', rows)
    has_sequence = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone()[0]
    if has_sequence:  # AUTOINCREMENT counters: the snapshot's, so that new events number on from where it was
        conn.execute("DELETE FROM sqlite_sequence")
        conn.executemany(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
            source.execute("SELECT name, seq FROM sqlite_sequence"),
        )


def summary(conn: sqlite3.Connection) -> dict[str, Any]:
    """What a snapshot or store holds, and a digest of all of it: equal digests, equal states."""
    digest = hashlib.sha256()
    version, app_id = conn.execute(
        "SELECT (SELECT user_version FROM pragma_user_version), (SELECT application_id FROM pragma_application_id)"
    ).fetchone()
    digest.update(f"{app_id}:{version}\n".encode())
    for (sql,) in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"):
        digest.update(f"{sql}\n".encode())
    counts: dict[str, int] = {}
    for table in [*_tables(conn), "sqlite_sequence"]:
        try:
            rows = conn.execute(f'SELECT rowid, * FROM "{table}" ORDER BY rowid')
        except sqlite3.OperationalError:  # no AUTOINCREMENT table yet
            continue
        count = 0
        for row in rows:
            digest.update(f"{table}:{row!r}\n".encode())
            count += 1
        counts[table] = count
    now = conn.execute("SELECT value FROM meta WHERE key = 'now'").fetchone() if "meta" in counts else None
    return {
        "schema_version": int(version),
        "now": format_timestamp(int(now[0])) if now else None,
        "scale_sets": counts.get("scale_sets", 0),
        "instances": counts.get("instances", 0),
        "runs": counts.get("runs", 0),
        "images": counts.get("images", 0),
        "events": counts.get("events", 0),
        "content_sha256": digest.hexdigest(),
    }
