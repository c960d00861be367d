# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store: how a new file looks, one transaction per call, refusals, migrations, parallel forks, crashes."""

from __future__ import annotations

import contextlib
import datetime
import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._store import reading as store_module
from ansible_collections.azsim.vmss.plugins.module_utils._store.files import APPLICATION_ID, SQLITE_HEADER
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import (
    EPOCH,
    MIGRATIONS,
    SCHEMA_VERSION,
    Store,
    default_path,
)
from ansible_collections.azsim.vmss.tests.unit._harness import tables

FORK = multiprocessing.get_context("fork")
NOBODY = 65534
TABLES = ("meta", "events", "images", "scale_sets", "instances", "runs", "features", "providers", "resources")


# -- helpers --------------------------------------------------------------------------------------


def _ro(path: Path | str) -> sqlite3.Connection:
    """A second look at a store, independent of the Store under test.

    query_only rather than mode=ro: a mode=ro connection cannot remove the -wal and -shm files when it
    closes, and those leftovers would then count as 'changes' in the snapshots below.
    """
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn


def _pragma(path: Path | str, name: str) -> Any:
    conn = _ro(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def _snapshot(path: Path) -> dict[str, Any]:
    """Everything a refusal must leave as it was: the bytes, the stat, and the folder beside it."""
    st = os.lstat(path)
    snap: dict[str, Any] = {
        "mode": st.st_mode,
        "mtime_ns": st.st_mtime_ns,
        "size": st.st_size,
        "inode": st.st_ino,
        "folder": sorted(os.listdir(path.parent)),
    }
    if stat.S_ISREG(st.st_mode):
        snap["bytes"] = path.read_bytes()
    elif stat.S_ISDIR(st.st_mode):
        snap["listing"] = sorted(os.listdir(path))
    for side in ("-wal", "-shm", "-journal"):
        beside = Path(f"{path}{side}")
        if beside.is_file():
            snap[side] = beside.read_bytes()
    return snap


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Which parts of a snapshot differ (readable in a failure, unlike two dumps of bytes)."""
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def _write_real_store(path: Path) -> bytes:
    """A closed store with some data in it (several pages), returned as bytes."""
    store = Store.open(str(path))
    with store.transaction():
        store.set_now(EPOCH + 3600)
        store.schedule(EPOCH + 7200, "kind", "subject", {"a": 1})
        for i in range(100):
            key = {"key": f"k{i}", "subscription_id": "s", "resource_group": "rg"}
            store.put_doc("scale_sets", key, {"i": i, "pad": "x" * 200})
    store.close()
    assert not Path(f"{path}-wal").exists(), "closing the last connection should checkpoint the WAL"
    return path.read_bytes()


def _counter(path: Path | str) -> int:
    conn = _ro(path)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'counter'").fetchone()
        return int(row[0]) if row else 0
    finally:
        conn.close()


def _increment(store: Store) -> None:
    """A read-modify-write in Python, so that a missing write lock shows up as a lost update."""
    with store.transaction():
        row = store.conn.execute("SELECT value FROM meta WHERE key = 'counter'").fetchone()
        value = int(row[0]) if row else 0
        store.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('counter', ?)", (str(value + 1),))


# -- a new store ----------------------------------------------------------------------------------


@pytest.fixture(params=[0o000, 0o022, 0o077], ids=["umask000", "umask022", "umask077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_new_store_file_is_0600_and_its_new_folder_0700(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "made" / "vmss.sqlite"
    Store.open(str(path)).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    Store.open(str(tmp_path / "vmss.sqlite")).close()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "vmss.sqlite").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        ("journal_mode", "wal"),
        ("application_id", 0x415A5653),
        ("user_version", SCHEMA_VERSION),
        ("integrity_check", "ok"),
    ],
)
def test_new_store_header(store: Store, store_path: Path, pragma: str, expected: Any) -> None:
    assert _pragma(store_path, pragma) == expected


def test_constants_are_what_the_design_says() -> None:
    assert APPLICATION_ID == 0x415A5653 == int.from_bytes(b"AZVS", "big")
    assert EPOCH == int(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    assert SCHEMA_VERSION == max(MIGRATIONS)


def test_new_store_clock_starts_at_epoch(store: Store) -> None:
    with store.transaction():
        assert store.now() == EPOCH
    assert format_timestamp(store.now()) == "2025-01-01T00:00:00Z"


def test_new_store_has_every_table_empty_but_the_clock(store: Store, store_path: Path) -> None:
    dump = tables(store_path)
    assert {t for t in dump if not t.startswith("#") and t != "sqlite_sequence"} == set(TABLES)
    assert dump["meta"] == [("now", str(EPOCH))]
    assert all(dump[t] == [] for t in TABLES if t != "meta")


def test_an_empty_file_becomes_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "vmss.sqlite"
    path.touch()
    store = Store.open(str(path))
    with store.transaction():
        assert store.now() == EPOCH
    store.close()
    assert _pragma(path, "user_version") == SCHEMA_VERSION


def test_reopening_keeps_data_and_schema(store_path: Path) -> None:
    store = Store.open(str(store_path))
    with store.transaction():
        store.set_now(EPOCH + 42)
    store.close()
    before = tables(store_path)
    again = Store.open(str(store_path))
    with again.transaction():
        assert again.now() == EPOCH + 42
    again.close()
    assert tables(store_path) == before


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("/x/y/z.sqlite", "/x/y/z.sqlite"),
        ("", "{home}/.ansible/azsim/vmss.sqlite"),
        (None, "{home}/.ansible/azsim/vmss.sqlite"),
    ],
)
def test_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str | None, expected: str) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    if env is None:
        monkeypatch.delenv("AZSIM_VMSS_STORE", raising=False)
    else:
        monkeypatch.setenv("AZSIM_VMSS_STORE", env)
    assert default_path() == expected.format(home=tmp_path)


# -- one transaction per call ---------------------------------------------------------------------


def _seed_every_table(store: Store) -> None:
    with store.transaction():
        store.set_now(EPOCH + 60)
        store.schedule(EPOCH + 120, "k", "s1", {"n": 1})
        store.schedule(EPOCH + 180, "k", "s2")
        store.put_doc("images", {"kind": "platform", "image": "p:o:s", "version": "1.0.0"}, {"v": 1})
        store.put_doc("scale_sets", {"key": "a", "subscription_id": "s", "resource_group": "rg"}, {"v": 1})
        store.put_doc("instances", {"scale_set": "a", "instance_id": 0}, {"v": 1})
        store.put_doc("runs", {"scale_set": "a", "run_id": 1, "kind": "manual", "start": EPOCH}, {"v": 1})
        store.put_doc("features", {"subscription_id": "s", "name": "f"}, {"v": 1})
        store.put_doc("providers", {"subscription_id": "s", "namespace": "n"}, {"v": 1})
        store.put_doc(
            "resources", {"id": "/subscriptions/s/resourcegroups/rg", "subscription_id": "s", "parent": ""}, {"v": 1}
        )


def _touch_every_table(store: Store) -> None:
    store.set_now(EPOCH + 999)
    store.schedule(EPOCH + 5, "k", "s3")
    store.cancel_events("s1")
    store.put_doc("images", {"kind": "platform", "image": "p:o:s", "version": "1.0.0"}, {"v": 2})
    store.put_doc("images", {"kind": "platform", "image": "p:o:s", "version": "2.0.0"}, {"v": 2})
    store.delete_docs("scale_sets", {"key": "a"})
    store.put_docs("instances", [({"scale_set": "a", "instance_id": i}, {"v": 2}) for i in range(5)])
    store.put_doc("runs", {"scale_set": "a", "run_id": 2, "kind": "manual", "start": EPOCH}, {"v": 2})
    store.put_doc("features", {"subscription_id": "s", "name": "f"}, {"v": 2})
    store.delete_docs("providers", {"subscription_id": "s"})
    store.delete_docs("resources", {"subscription_id": "s"})
    store.conn.execute("CREATE TABLE scratch (x)")  # even DDL goes with the transaction


class _Boom(Exception):
    pass


@pytest.mark.parametrize("exc_type", [_Boom, KeyboardInterrupt, SystemExit, sqlite3.IntegrityError])
def test_an_exception_in_a_transaction_leaves_every_table_as_before(
    store: Store, store_path: Path, exc_type: type[BaseException]
) -> None:
    _seed_every_table(store)
    before = tables(store_path)
    with pytest.raises(exc_type):
        with store.transaction():
            _touch_every_table(store)
            assert store.now() == EPOCH + 999  # the writes did happen inside
            raise exc_type("inside")
    assert tables(store_path) == before
    assert not store.conn.in_transaction
    # the connection is usable and the lock is free for the next call
    other = sqlite3.connect(str(store_path), timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    with store.transaction():
        assert store.now() == EPOCH + 60


def test_check_mode_transaction_runs_everything_and_writes_nothing(store: Store, store_path: Path) -> None:
    _seed_every_table(store)
    before = tables(store_path)
    with store.transaction(commit=False):
        _touch_every_table(store)
        assert store.now() == EPOCH + 999
        assert [e["subject"] for e in store.pending_events()] == ["s3", "s2"]
        assert store.get_doc("scale_sets", {"key": "a"}) is None
    assert tables(store_path) == before
    assert not store.conn.in_transaction
    with store.transaction():
        assert store.now() == EPOCH + 60


def test_a_committed_transaction_is_seen_by_another_connection(store: Store, store_path: Path) -> None:
    _seed_every_table(store)
    with store.transaction():
        _touch_every_table(store)
    dump = tables(store_path)
    assert dump["meta"] == [("now", str(EPOCH + 999))]
    assert "scratch" in dump
    assert dump["scale_sets"] == [] and dump["providers"] == []
    assert len(dump["instances"]) == 5


def test_a_transaction_takes_the_write_lock_at_once(store: Store, store_path: Path) -> None:
    """BEGIN IMMEDIATE: even before its first write, a call holds the lock another fork would need."""
    other = sqlite3.connect(str(store_path), timeout=0, isolation_level=None)
    try:
        with store.transaction():
            store.now()  # a read only
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_transaction_that_cannot_get_the_lock_raises_store_error(
    store: Store, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 100)
    impatient = Store.open(str(store_path))
    holder = sqlite3.connect(str(store_path), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError) as info:
            with impatient.transaction():
                pytest.fail("the body must not run without the lock")
        assert str(store_path) in str(info.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        impatient.close()


def test_event_queue_order_and_filters(store: Store) -> None:
    with store.transaction():
        a = store.schedule(EPOCH + 20, "x", "s1")
        b = store.schedule(EPOCH + 10, "y", "s2", {"k": [1, 2]})
        c = store.schedule(EPOCH + 10, "x", "s1")
        assert [e["seq"] for e in store.pending_events()] == [b, c, a]
        assert [e["seq"] for e in store.pending_events(subject="s1")] == [c, a]
        assert [e["seq"] for e in store.pending_events(kind="y")] == [b]
        assert store.next_event(EPOCH + 9) is None
        assert store.next_event(EPOCH + 10) == (b, EPOCH + 10, "y", "s2", {"k": [1, 2]})
        store.cancel_events("s1", kind="x")
        assert [e["seq"] for e in store.pending_events()] == [b]
        store.delete_event(b)
        assert store.pending_events() == []


# -- refusals -------------------------------------------------------------------------------------


def _random(seed: int, size: int) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "vmss.sqlite"
        path.write_bytes(random.Random(seed).randbytes(size))
        return path

    return make


def _sqlite_header_then_garbage(folder: Path) -> Path:
    path = folder / "vmss.sqlite"
    path.write_bytes(SQLITE_HEADER + random.Random(7).randbytes(8192))
    return path


def _truncated(fraction: float | None, size: int | None = None) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        whole = _write_real_store(folder / "whole.sqlite")
        os.remove(folder / "whole.sqlite")
        path = folder / "vmss.sqlite"
        path.write_bytes(whole[: size if size is not None else int(len(whole) * (fraction or 0))])
        return path

    return make


def _other_application(folder: Path) -> Path:
    path = folder / "vmss.sqlite"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
    conn.execute("INSERT INTO accounts (owner) VALUES ('alice')")
    conn.commit()
    conn.close()
    return path


def _other_application_with_its_own_id(folder: Path) -> Path:
    path = folder / "vmss.sqlite"
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA application_id = 0x12345678")
    conn.commit()
    conn.close()
    return path


def _other_application_wal(folder: Path) -> Path:
    path = folder / "vmss.sqlite"
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
    conn.commit()
    conn.close()
    return path


def _user_version(version: int) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "vmss.sqlite"
        _write_real_store(path)
        conn = sqlite3.connect(str(path))
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()
        conn.close()
        return path

    return make


def _directory(folder: Path) -> Path:
    path = folder / "vmss.sqlite"
    path.mkdir()
    (path / "inside").write_text("x")
    return path


def _fifo(folder: Path) -> Path:
    path = folder / "vmss.sqlite"
    os.mkfifo(path)
    return path


REFUSALS = [
    pytest.param(_random(1, 16), "not an azsim.vmss store", id="random-16-bytes"),
    pytest.param(_random(2, 5), "not an azsim.vmss store", id="random-5-bytes"),
    pytest.param(_random(3, 65536), "not an azsim.vmss store", id="random-64k"),
    pytest.param(_sqlite_header_then_garbage, "damaged or not a database", id="sqlite-header-then-garbage"),
    pytest.param(_truncated(None, 100), "damaged or not a database", id="truncated-first-100-bytes"),
    pytest.param(_truncated(0.5), "damaged or not a database", id="truncated-first-half"),
    pytest.param(_other_application, "another application", id="other-application"),
    pytest.param(_other_application_with_its_own_id, "another application", id="other-application-id"),
    pytest.param(_other_application_wal, "another application", id="other-application-wal"),
    pytest.param(_user_version(SCHEMA_VERSION + 1), "newer than this azsim.vmss", id="schema-version-plus-one"),
    pytest.param(_user_version(2**31 - 1), "newer than this azsim.vmss", id="schema-version-huge"),
    pytest.param(_directory, "is a directory", id="directory"),
    pytest.param(_fifo, "not a regular file", id="fifo"),
]


@pytest.mark.parametrize(("make", "reason"), REFUSALS)
def test_refusal_leaves_the_file_byte_identical(tmp_path: Path, make: Callable[[Path], Path], reason: str) -> None:
    path = make(tmp_path)
    time.sleep(0.01)  # so that a write, even of the same bytes, would move the mtime
    before = _snapshot(path)
    with pytest.raises(StoreError) as info:
        Store.open(str(path))
    assert str(path) in info.value.message
    assert reason in info.value.message
    assert _changes(before, _snapshot(path)) == []


@pytest.mark.parametrize(("make", "reason"), REFUSALS[:11])
def test_refusal_is_repeatable(tmp_path: Path, make: Callable[[Path], Path], reason: str) -> None:
    """A refused file stays refused: the first attempt did not 'repair' it into a store."""
    path = make(tmp_path)
    for _attempt in range(2):
        with pytest.raises(StoreError, match=reason):
            Store.open(str(path))


def _wal_left_behind(folder: Path, ours_but_newer: bool) -> Path:
    """A WAL database whose writer died: the newest pages are only in the -wal file."""
    live = folder / "live"
    live.mkdir()
    src = live / "vmss.sqlite"
    if ours_but_newer:
        _write_real_store(src)
    conn = sqlite3.connect(str(src), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    if ours_but_newer:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    else:
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
        conn.execute("INSERT INTO accounts (owner) VALUES ('alice')")
    for name in os.listdir(live):  # a copy while the writer is still open = what a crash leaves
        shutil.copy2(live / name, folder / name)
    conn.close()
    shutil.rmtree(live)
    path = folder / "vmss.sqlite"
    assert Path(f"{path}-wal").stat().st_size > 0
    return path


@pytest.mark.parametrize("ours_but_newer", [False, True], ids=["other-application", "newer-schema"])
def test_refusal_leaves_a_pending_wal_alone(tmp_path: Path, ours_but_newer: bool) -> None:
    """A refused file keeps its pending WAL: no connection is opened, so nothing is checkpointed into it."""
    path = _wal_left_behind(tmp_path, ours_but_newer)
    before = _snapshot(path)
    with pytest.raises(StoreError):
        Store.open(str(path))
    assert _changes(before, _snapshot(path)) == []


# -- permissions: run as an unprivileged user when the tests run as root ---------------------------


def _in_child_as_nobody(action: Callable[[], Any]) -> tuple[str, str]:
    """Run ``action`` in a forked child that dropped to uid/gid 65534; (exception type, message)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                action()
                out = ["", ""]
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                out = [type(exc).__name__, str(exc)]
            os.write(write_end, json.dumps(out).encode())
        except BaseException:  # noqa: BLE001
            code = 3
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child could not drop privileges"
    kind, message = json.loads(b"".join(chunks))
    return kind, message


def _open_unprivileged(path: Path) -> tuple[str, str]:
    def action() -> None:
        Store.open(str(path)).close()

    if os.geteuid() == 0:
        return _in_child_as_nobody(action)
    try:
        action()
    except BaseException as exc:  # noqa: BLE001
        return type(exc).__name__, str(exc)
    return "", ""


@pytest.fixture
def shared_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder an unprivileged child can reach (pytest's tmp_path base is 0700 root's when root)."""
    if os.geteuid() != 0:
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="azsim-store-test-"))
    os.chmod(folder, 0o755)
    inner = folder / "d"
    inner.mkdir()
    try:
        yield inner
    finally:
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(root, name), 0o700)
        shutil.rmtree(folder)


@pytest.mark.system  # a forked child as uid 65534
@pytest.mark.parametrize(
    ("file_mode", "folder_mode"),
    [
        pytest.param(0o400, 0o700, id="read-only-file"),
        pytest.param(0o600, 0o500, id="read-only-folder"),
    ],
)
def test_read_only_store_is_refused_untouched(shared_dir: Path, file_mode: int, folder_mode: int) -> None:
    """As root os.access() says yes to everything, so the attempt runs in a child as uid 65534, who owns
    the store and its folder (a store of another user is refused before its permissions are looked at)."""
    path = shared_dir / "vmss.sqlite"
    _write_real_store(path)
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
        os.chown(shared_dir, NOBODY, NOBODY)
    os.chmod(path, file_mode)
    os.chmod(shared_dir, folder_mode)
    try:
        if os.geteuid() != 0 and os.access(path, os.W_OK) and os.access(shared_dir, os.W_OK):
            pytest.skip("this user can write despite the mode bits")
        before = _snapshot(path)
        kind, message = _open_unprivileged(path)
        assert kind == "StoreError"
        assert str(path) in message and "read-only" in message
        assert _changes(before, _snapshot(path)) == []
    finally:
        os.chmod(shared_dir, 0o755)


@pytest.mark.system  # a forked child as uid 65534
def test_a_store_that_cannot_be_created_is_a_store_error(shared_dir: Path) -> None:
    os.chmod(shared_dir, 0o555)
    path = shared_dir / "sub" / "vmss.sqlite"
    try:
        kind, message = _open_unprivileged(path)
        assert kind == "StoreError"
        assert str(path) in message and "cannot be created" in message
        assert os.listdir(shared_dir) == []
    finally:
        os.chmod(shared_dir, 0o755)


# -- forward migrations ---------------------------------------------------------------------------


def test_forward_migration_keeps_data_and_a_newer_store_is_then_refused(store_path: Path) -> None:
    v1 = {1: MIGRATIONS[1]}
    v2 = {1: MIGRATIONS[1], 2: ["CREATE TABLE extra (x)", "INSERT INTO extra (x) VALUES (42)"]}

    store = Store.open(str(store_path), migrations=v1)
    with store.transaction():
        store.set_now(EPOCH + 3600)
        store.put_doc("features", {"subscription_id": "s", "name": "f"}, {"state": "Registered"})
    store.close()
    assert _pragma(store_path, "user_version") == 1

    store = Store.open(str(store_path), migrations=v2)
    with store.transaction():
        assert store.now() == EPOCH + 3600
        assert store.get_doc("features", {"subscription_id": "s", "name": "f"}) == {"state": "Registered"}
        assert store.conn.execute("SELECT x FROM extra").fetchall() == [(42,)]
    store.close()
    assert _pragma(store_path, "user_version") == 2
    assert _pragma(store_path, "application_id") == APPLICATION_ID

    before = _snapshot(store_path)
    with pytest.raises(StoreError, match="schema version 2, newer than this azsim.vmss understands \\(1\\)"):
        Store.open(str(store_path), migrations=v1)
    assert _changes(before, _snapshot(store_path)) == []


def test_a_new_store_runs_every_step_in_order(store_path: Path) -> None:
    steps = {
        1: MIGRATIONS[1],
        2: ["CREATE TABLE extra (x)"],
        3: ["INSERT INTO extra (x) SELECT value FROM meta WHERE key = 'now'"],  # needs 1 and 2 done first
    }
    Store.open(str(store_path), migrations=steps).close()
    assert _pragma(store_path, "user_version") == 3
    assert tables(store_path)["extra"] == [(str(EPOCH),)]


def test_a_failing_migration_step_changes_nothing(store_path: Path) -> None:
    Store.open(str(store_path), migrations={1: MIGRATIONS[1]}).close()
    before = tables(store_path)
    broken = {1: MIGRATIONS[1], 2: ["CREATE TABLE extra (x)", "THIS IS NOT SQL"]}
    with pytest.raises(StoreError) as info:
        Store.open(str(store_path), migrations=broken)
    assert str(store_path) in info.value.message
    assert tables(store_path) == before  # no half-applied step 2: no 'extra', user_version still 1


# -- parallel forks -------------------------------------------------------------------------------


def _worker(path: str, increments: int, barrier: Any, results: Any) -> None:  # pragma: no cover - child
    try:
        barrier.wait(timeout=60)
        store = Store.open(path)
        try:
            for _round in range(increments):
                _increment(store)
        finally:
            store.close()
        results.put("ok")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        results.put(f"{type(exc).__name__}: {exc}")


def _race(path: Path, processes: int, increments: int) -> list[str]:
    barrier = FORK.Barrier(processes)
    results = FORK.Queue()
    children = [
        FORK.Process(target=_worker, args=(str(path), increments, barrier, results)) for _process in range(processes)
    ]
    for child in children:
        child.start()
    try:
        outcomes = [results.get(timeout=180) for _child in children]
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():  # pragma: no cover - only when something hangs
                child.kill()
                child.join()
    assert all(child.exitcode == 0 for child in children)
    return outcomes


@pytest.mark.system  # 16 forked processes
def test_parallel_read_modify_write_loses_no_update(store_path: Path) -> None:
    Store.open(str(store_path)).close()  # the same fresh store for everyone
    outcomes = _race(store_path, processes=16, increments=25)
    assert outcomes == ["ok"] * 16
    assert _counter(store_path) == 400
    assert _pragma(store_path, "integrity_check") == "ok"


FIRST_OPEN_ROUNDS = 20


@pytest.mark.system  # 20 rounds of 16 forked processes
def test_racing_first_opens_all_succeed_and_make_one_store(tmp_path: Path) -> None:
    """16 processes open a path that does not exist yet, at once; repeated, because it is a race."""
    failures = []
    for round_ in range(FIRST_OPEN_ROUNDS):
        path = tmp_path / f"round{round_}" / "vmss.sqlite"
        outcomes = _race(path, processes=16, increments=1)
        bad = sorted({o for o in outcomes if o != "ok"})
        if bad:
            failures.append(f"round {round_}: {bad}")
            continue
        dump = tables(path)
        assert dump["#user_version"] == SCHEMA_VERSION
        assert dump["#application_id"] == APPLICATION_ID
        assert dump["meta"] == [("counter", "16"), ("now", str(EPOCH))]  # one store, used by all 16
        assert _pragma(path, "integrity_check") == "ok"
        assert _pragma(path, "journal_mode") == "wal"
    assert failures == []


def _empty_sqlite_file(path: Path, wal: bool) -> None:
    """Page 1 written, no tables, application_id 0: what a racing creator leaves before migrating."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("VACUUM")
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    assert path.stat().st_size > 0


def test_open_waits_for_a_writer_instead_of_failing(store_path: Path) -> None:
    """Deterministic form of one race above: another connection holds the write lock of a half-made store.

    The journal-mode switch gets SQLITE_BUSY at once (SQLite does not call the busy handler for it);
    Store.open must wait for the writer instead of reporting 'damaged or not a database (database is locked)'.
    """
    _empty_sqlite_file(store_path, wal=False)
    holder = sqlite3.connect(str(store_path), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("PRAGMA user_version = 0")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        store = Store.open(str(store_path))
        with store.transaction():
            assert store.now() == EPOCH
        store.close()
    finally:
        release.join()
        holder.close()


_CREATE_STORE = (
    "import sys\n"
    "from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store\n"
    "Store.open(sys.argv[1]).close()\n"
)


class _Rows:
    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows


class _InterleavingConnection:
    """The connection Store.open makes, except that right after it reads the application id another
    process creates the store, as a racing first open does."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self.creator: subprocess.Popen[bytes] | None = None

    def execute(self, sql: str, *args: Any) -> Any:
        rows = self._conn.execute(sql, *args).fetchall()
        if self.creator is None and "application_id" in sql.lower():
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
            self.creator = subprocess.Popen([sys.executable, "-c", _CREATE_STORE, str(self._path)], env=env)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.creator.wait(timeout=10)  # a fix that serialises opens makes it wait for us instead
        return _Rows(rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@pytest.mark.system  # a Python subprocess
def test_open_reads_the_header_as_one_snapshot(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic form of the other race above: the store is created between two header reads.

    Reading application_id, user_version and the table count in separate statements could see 0 / 1 / 11
    and refuse our own new store as 'another application'; the decision must rest on one snapshot.
    """
    _empty_sqlite_file(store_path, wal=True)
    real_connect = sqlite3.connect
    wrapped: list[_InterleavingConnection] = []

    def connect(*args: Any, **kwargs: Any) -> Any:
        conn = _InterleavingConnection(real_connect(*args, **kwargs), store_path)
        wrapped.append(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    try:
        store = Store.open(str(store_path))
    finally:
        monkeypatch.undo()
        for conn in wrapped:
            if conn.creator is not None:
                assert conn.creator.wait(timeout=60) == 0
    try:
        assert wrapped and wrapped[0].creator is not None, "the interleaving did not happen"
        with store.transaction():
            assert store.now() == EPOCH
    finally:
        store.close()
    assert _pragma(store_path, "user_version") == SCHEMA_VERSION


# -- a process killed in the middle of a transaction ----------------------------------------------


def _killed_writer(path: str, rows: int, ready: Any) -> None:  # pragma: no cover - child, killed
    store = Store.open(path)
    with store.transaction():
        store.set_now(EPOCH + 86400)
        store.cancel_events("keep")
        store.put_docs(
            "instances", [({"scale_set": "dead", "instance_id": i}, {"pad": "y" * 1000}) for i in range(rows)]
        )
        ready.send_bytes(b"inside")
        time.sleep(600)


@pytest.mark.system  # a forked child killed with SIGKILL
@pytest.mark.parametrize("rows", [1, 20_000], ids=["small", "spills-to-wal"])
def test_sigkill_in_a_transaction_leaves_the_store_as_before(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 10_000)  # a lock left behind fails fast, not in 120 s
    store = Store.open(str(store_path))
    with store.transaction():
        store.set_now(EPOCH + 60)
        store.schedule(EPOCH + 120, "k", "keep")
        store.put_doc("instances", {"scale_set": "live", "instance_id": 0}, {"v": 1})
    store.close()
    before = tables(store_path)

    parent_end, child_end = FORK.Pipe(duplex=False)
    child = FORK.Process(target=_killed_writer, args=(str(store_path), rows, child_end))
    child.start()
    try:
        assert parent_end.poll(120), "the child never got inside its transaction"
        assert parent_end.recv_bytes() == b"inside"
        if rows > 1:
            assert Path(f"{store_path}-wal").stat().st_size > 1_000_000, "uncommitted pages did not reach the WAL"
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    finally:
        child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL

    assert tables(store_path) == before
    assert _pragma(store_path, "integrity_check") == "ok"
    store = Store.open(str(store_path))
    try:
        with store.transaction():
            assert store.now() == EPOCH + 60
            store.set_now(EPOCH + 90)
        with store.transaction():
            assert store.now() == EPOCH + 90
            assert [e["subject"] for e in store.pending_events()] == ["keep"]
    finally:
        store.close()
    assert _pragma(store_path, "integrity_check") == "ok"


def test_a_version_1_store_is_migrated_to_the_runs_index_and_keeps_its_data(store_path: Path) -> None:
    """Migration 2 (index of runs by scale set, kind and start) applies to a store made before it."""
    old = Store.open(str(store_path), migrations={1: MIGRATIONS[1]})
    with old.transaction():
        old.put_doc("runs", {"scale_set": "k", "run_id": 1, "kind": "os", "start": EPOCH}, {"run_id": 1, "kind": "os"})
    old.close()
    assert _pragma(store_path, "user_version") == 1
    store = Store.open(str(store_path))
    try:
        with store.transaction():
            assert store.recent_runs("k", "os", None, None) == [{"run_id": 1, "kind": "os"}]
        indexes = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        store.close()
    assert _pragma(store_path, "user_version") == SCHEMA_VERSION
    assert "runs_by_kind" in indexes and "resources_by_parent" in indexes
