# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SQLite's logs beside the store (-journal, -wal): whether SQLite would replay into it one that is not its own.

Apart from ``sidecars.py`` so that a call on a store left closed, which has neither file, does not compile it.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import tempfile
from typing import BinaryIO

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._store.files import APPLICATION_ID, read_head

_WAL_MAGIC = (0x377F0682, 0x377F0683)


_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")


def _not_ours(path: str, side: str, why: str) -> StoreError:
    return StoreError(
        f"store {path}: its {side} file {path}{side} does not belong to it ({why}); both were left untouched. "
        f"Move {path}{side} aside if it is left over from another store (or restore the store's own), or point "
        "the store option elsewhere"
    )


def check_logs_belong(path: str) -> None:
    """Refuse a -journal or -wal that SQLite would replay into the store but that is not the store's own.

    SQLite trusts any valid log beside the file: another database's hot journal or another store's
    -wal would be played back into this one (and then deleted). Checked by reading only, before SQLite
    opens anything; a -wal that a live connection holds is that connection's, and is left to SQLite.

    A refusal stands only when the files stayed as they were while they were read and no process holds
    them: a store being created or used meanwhile (a racing first open writes a hot journal, then switches
    to WAL) is read again, and left to SQLite's locking if it keeps changing.
    """
    for _attempt in range(3):
        stamp = _stamp(path)
        try:
            _check_sidecars_once(path)
            return
        except StoreError:
            if _live(path) or not _unchanged(path, stamp):
                continue
            raise


def _check_sidecars_once(path: str) -> None:
    header = read_head(path, 100)
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


def _wal_header(path: str, head: bytes, page_size: int) -> tuple[bool, int, int, int]:
    """The -wal header's byte order, running checksum and page size; refused when it is not the store's kind."""
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
    return big, s0, s1, wal_page


def _committed_frames(
    handle: BinaryIO, head: bytes, big: bool, s0: int, s1: int, wal_page: int
) -> tuple[int, list[int]]:
    """What SQLite would replay: the page count of the last commit, and page 1's change counters up to it.

    Frames are read while their salts and running checksum hold, as SQLite reads them.
    """
    salts = head[16:24]
    counters: list[int] = []  # change counters of page 1 in committed frames
    pending: list[int] = []
    last_commit_pages = 0
    while True:
        frame = handle.read(24)
        page = handle.read(wal_page)
        if len(frame) < 24 or len(page) < wal_page or frame[8:16] != salts:
            break
        s0, s1 = _wal_checksum(frame[:8] + page, big, s0, s1)
        if frame[16:24] != struct.pack(">II", s0, s1):
            break
        if int.from_bytes(frame[0:4], "big") == 1:
            pending.append(int.from_bytes(page[24:28], "big"))
        commit = int.from_bytes(frame[4:8], "big")
        if commit:
            last_commit_pages = commit
            counters += pending
            pending = []
    return last_commit_pages, counters


def _check_wal(path: str, db_header: bytes, page_size: int, db_size: int) -> None:
    stamp = _stamp(path)
    try:
        handle = open(path + "-wal", "rb")
    except FileNotFoundError:
        return
    with handle:
        head = handle.read(32)
        if len(head) < 32:  # empty or cut short before its header: SQLite ignores it
            return
        big, s0, s1, wal_page = _wal_header(path, head, page_size)
        if _live(path):
            return
        last_commit_pages, counters = _committed_frames(handle, head, big, s0, s1, wal_page)
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
    for name in (path, path + "-wal", path + "-journal"):
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
