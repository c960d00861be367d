# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store's files on disk, through the modules' ``main()``: what check mode, reads and refused calls
leave (nothing), sidecars that are not the store's, symlinks and foreign owners, and errors of the disk.

Every "nothing" here is a snapshot of the folder: each file's bytes, mode, owner and mtime, and the
list of names in it (no new -wal, -shm, -journal or folder).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._store.store import MIGRATIONS, SCHEMA_VERSION, Store
from ansible_collections.azsim.vmss.plugins.modules import (
    sim_clock,
    vm_image,
    vm_image_info,
    vmss,
    vmss_info,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._harness import call, folder_snapshot

IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def pragma(path: Path, name: str) -> Any:
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def old_rollback_journal_store(path: Path) -> None:
    """A store of schema 1, in rollback-journal mode, with a scale set: what an older azsim.vmss left."""
    store = Store.open(str(path), migrations={1: MIGRATIONS[1]})
    store.close()
    conn = sqlite3.connect(str(path), isolation_level=None)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    conn.close()
    assert pragma(path, "user_version") == 1 and pragma(path, "journal_mode") == "delete"


# -- item 8: check mode, reads and refused calls write nothing ------------------------------------

NOTHING_WRITTEN = [
    pytest.param(sim_clock, {"advance": "PT1H", "_ansible_check_mode": True}, 0, id="check-mode-sim_clock"),
    pytest.param(
        vmss,
        {
            "resource_group": "rg",
            "name": "web",
            "image": {**IMAGE, "version": "1.0.0"},
            "instances": ["a"],
            "_ansible_check_mode": True,
        },
        1,
        id="check-mode-vmss-unknown-image",
    ),
    pytest.param(vmss_info, {"resource_group": "rg"}, 0, id="vmss_info"),
    pytest.param(vm_image_info, dict(IMAGE), 0, id="vm_image_info"),
    pytest.param(
        vmss_upgrade_policy,
        {"resource_group": "rg", "name": "nope", "rolling_upgrade_policy": {"max_batch_instance_percent": 50}},
        1,
        id="refused-vmss_upgrade_policy",
    ),
    pytest.param(sim_clock, {"advance": "PT1H", "to": "2025-01-02T00:00:00Z"}, 1, id="refused-sim_clock"),
]


@pytest.mark.parametrize(("module", "args", "rc"), NOTHING_WRITTEN)
def test_an_older_store_is_not_migrated_or_converted_by_a_call_that_does_not_commit(
    tmp_path: Path, module: Any, args: dict[str, Any], rc: int
) -> None:
    path = tmp_path / "vmss.sqlite"
    old_rollback_journal_store(path)
    time.sleep(0.01)
    before = folder_snapshot(tmp_path)
    result = call(module, {"store": str(path), **args})
    assert result["rc"] == rc, result
    assert differences(before, folder_snapshot(tmp_path)) == []
    assert pragma(path, "user_version") == 1 and pragma(path, "journal_mode") == "delete"
    # a call that commits migrates it, and switches it to WAL
    assert call(sim_clock, {"store": str(path), "advance": "PT1M"})["rc"] == 0
    assert pragma(path, "user_version") == SCHEMA_VERSION and pragma(path, "journal_mode") == "wal"


@pytest.mark.parametrize(("module", "args", "rc"), NOTHING_WRITTEN)
def test_a_store_that_does_not_exist_is_not_created_by_a_call_that_does_not_commit(
    tmp_path: Path, module: Any, args: dict[str, Any], rc: int
) -> None:
    path = tmp_path / "new" / "deeper" / "vmss.sqlite"
    result = call(module, {"store": str(path), **args})
    reads = module in (vmss_info, vm_image_info)
    if reads:
        assert result["rc"] == 1, result
        assert result["msg"].startswith(f"store {path}: does not exist; nothing was created"), result["msg"]
    else:  # check mode simulates on a store made for the call; a refused call fails as on an existing store
        assert result["rc"] == rc, result
    assert os.listdir(tmp_path) == []
    # a write creates it, with its folders
    assert call(sim_clock, {"store": str(path), "advance": "PT1M"})["rc"] == 0
    assert pragma(path, "user_version") == SCHEMA_VERSION


def test_a_check_mode_read_of_a_wal_store_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "vmss.sqlite"
    assert call(vm_image, {"store": str(path), **IMAGE, "version": "1.0.0"})["rc"] == 0
    time.sleep(0.01)
    before = folder_snapshot(tmp_path)
    reads: list[tuple[Any, dict[str, Any]]] = [
        (sim_clock, {"advance": "PT1H", "_ansible_check_mode": True}),
        (vm_image_info, dict(IMAGE)),
        (vmss_info, {"resource_group": "rg"}),
    ]
    for module, args in reads:
        assert call(module, {"store": str(path), **args})["rc"] == 0
        assert differences(before, folder_snapshot(tmp_path)) == []


# -- item 1: a sidecar that is not the store's own is refused, and nothing is touched ---------------


def fleet_store(path: Path, instances: int, seed: str) -> None:
    """A real store (WAL, closed, so no sidecar) with ``instances`` instance rows."""
    store = Store.open(str(path))
    with store.transaction():
        store.put_docs(
            "instances",
            [
                ({"scale_set": seed, "instance_id": i}, {"name": f"{seed}-{i}", "pad": "x" * 300})
                for i in range(instances)
            ],
        )
    store.close()
    assert not Path(f"{path}-wal").exists()


def committed_wal_of(path: Path, rows: int, seed: str) -> bytes:
    """The -wal a process killed after its COMMIT (before the checkpoint at close) leaves beside ``path``."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT OR REPLACE INTO instances (scale_set, instance_id, doc) VALUES (?, ?, ?)",
        [(seed, 100_000 + i, json.dumps({"late": i, "pad": "y" * 300})) for i in range(rows)],
    )
    conn.execute("UPDATE meta SET value = value + 60 WHERE key = 'now'")
    conn.execute("COMMIT")
    wal = Path(f"{path}-wal").read_bytes()
    conn.close()
    assert wal and not Path(f"{path}-wal").exists()
    return wal


def hot_journal_of_another_database(folder: Path) -> bytes:
    """The -journal a process of another (rollback-journal) database left when it was killed mid-transaction."""
    other = folder / "other.db"
    conn = sqlite3.connect(str(other), isolation_level=None)
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
    conn.executemany("INSERT INTO accounts (owner) VALUES (?)", [("x" * 200,) for _row in range(500)])
    conn.execute("PRAGMA cache_size = 1")  # spill: the journal must be hot on disk while the transaction is open
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE accounts SET owner = 'mallory'")
    journal = Path(f"{other}-journal").read_bytes()
    conn.execute("ROLLBACK")
    conn.close()
    other.unlink()
    assert journal[:8] == bytes.fromhex("d9d505f920a163d7")
    return journal


@pytest.mark.parametrize(
    ("other_instances", "wal_rows"),
    [
        pytest.param(20, 10, id="smaller-store"),
        pytest.param(3000, 400, id="bigger-store"),
        pytest.param(1000, 50, id="same-size-store"),
    ],
)
@pytest.mark.parametrize("module", [vmss_info, sim_clock], ids=["vmss_info", "sim_clock"])
def test_a_stale_wal_of_another_store_is_refused_and_both_files_stay_byte_identical(
    tmp_path: Path, other_instances: int, wal_rows: int, module: Any
) -> None:
    path = tmp_path / "store" / "vmss.sqlite"
    path.parent.mkdir()
    fleet_store(path, 1000, "ours")
    other = tmp_path / "other" / "vmss.sqlite"
    other.parent.mkdir()
    fleet_store(other, other_instances, "theirs")
    Path(f"{path}-wal").write_bytes(committed_wal_of(other, wal_rows, "theirs"))
    time.sleep(0.01)
    before = folder_snapshot(path.parent)
    args = {"resource_group": "rg"} if module is vmss_info else {"advance": "PT1M"}
    result = call(module, {"store": str(path), **args})
    assert result["rc"] == 1, result
    assert result["msg"].startswith(f"store {path}: its -wal file {path}-wal does not belong to it ("), result["msg"]
    assert "damaged" not in result["msg"].split("(")[0] and "\n" not in result["msg"]
    assert differences(before, folder_snapshot(path.parent)) == []


def test_the_stores_own_committed_wal_is_replayed(tmp_path: Path) -> None:
    """A -wal the store's own killed writer left (committed, not yet checkpointed) is its own: used, not refused."""
    path = tmp_path / "vmss.sqlite"
    fleet_store(path, 1000, "ours")
    wal = committed_wal_of(path, 50, "ours")
    # the same store as the killed writer saw it: its file before the checkpoint at close
    fleet_store(tmp_path / "again.sqlite", 1000, "ours")
    os.replace(tmp_path / "again.sqlite", path)
    Path(f"{path}-wal").write_bytes(wal)
    store = Store.open(str(path))
    try:
        with store.transaction(commit=False):
            assert store.get_doc("instances", {"scale_set": "ours", "instance_id": 100_049}) is not None
    finally:
        store.close()


def test_a_hot_journal_of_another_database_is_refused_and_both_files_stay_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "store" / "vmss.sqlite"
    path.parent.mkdir()
    fleet_store(path, 1000, "ours")
    Path(f"{path}-journal").write_bytes(hot_journal_of_another_database(tmp_path))
    time.sleep(0.01)
    before = folder_snapshot(path.parent)
    for module, args in [(vmss_info, {"resource_group": "rg"}), (sim_clock, {"advance": "PT1M"})]:
        result = call(module, {"store": str(path), **args})
        assert result["rc"] == 1, result
        assert result["msg"].startswith(f"store {path}: its -journal file {path}-journal does not belong to it ("), (
            result
        )
        assert differences(before, folder_snapshot(path.parent)) == []


# -- item 6: a sidecar that is not a regular file is refused at once -----------------------------------


def _fifo(side: Path) -> None:
    os.mkfifo(side)


def _directory(side: Path) -> None:
    side.mkdir()


def _symlink(side: Path) -> None:
    target = side.parent / "elsewhere"
    target.write_bytes(b"")
    side.symlink_to(target)


def _device(side: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(side, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null's numbers


def call_in_child(module: Any, args: dict[str, Any], seconds: int = 20) -> dict[str, Any]:
    """``call`` in a forked child, killed after ``seconds``: SQLite retries an open() that a signal
    interrupts, so a FIFO would block the test process itself forever."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            os.write(write_end, json.dumps(call(module, args)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.set_blocking(read_end, False)
    chunks, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = os.read(read_end, 65536)
        except BlockingIOError:
            time.sleep(0.02)
            continue
        if not chunk:
            break
        chunks.append(chunk)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(read_end)
        pytest.fail(f"the module blocked for {seconds}s")
    os.close(read_end)
    os.waitpid(pid, 0)
    result: dict[str, Any] = json.loads(b"".join(chunks))
    return result


@pytest.mark.parametrize("side", ["-wal", "-journal", "-shm"])
@pytest.mark.parametrize("make", [_fifo, _directory, _symlink, _device], ids=["fifo", "directory", "symlink", "device"])
def test_a_sidecar_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, side: str, make: Any) -> None:
    path = tmp_path / "vmss.sqlite"
    fleet_store(path, 10, "ours")
    make(Path(f"{path}{side}"))
    time.sleep(0.01)
    before = folder_snapshot(tmp_path)
    for module, args in [(vmss_info, {"resource_group": "rg"}), (sim_clock, {"advance": "PT1M"})]:
        started = time.monotonic()
        result = call_in_child(module, {"store": str(path), **args})
        assert time.monotonic() - started < 5
        assert result["rc"] == 1, result
        assert result["msg"].startswith(f"store {path}: blocked sidecar {path}{side} ("), result["msg"]
        assert differences(before, folder_snapshot(tmp_path)) == []


# -- item 4: symlinks and foreign owners are not trusted; new folders are 0700 -----------------------

OTHER_UID = 12345
WRITE = (sim_clock, {"advance": "PT1M"})
READ = (vmss_info, {"resource_group": "rg"})


def refused(path: Path, module: Any, args: dict[str, Any], *needles: str) -> str:
    result = call(module, {"store": str(path), **args})
    assert result["rc"] == 1, result
    msg: str = result["msg"]
    assert msg.startswith(f"store {path}: ") and "internal error" not in msg, msg
    for needle in needles:
        assert needle in msg, msg
    return msg


@pytest.mark.parametrize(("module", "args"), [WRITE, READ], ids=["write", "read"])
@pytest.mark.parametrize("target", ["dangling", "empty-file", "store"])
def test_a_symlinked_store_path_is_refused_and_its_target_untouched(
    tmp_path: Path, module: Any, args: dict[str, Any], target: str
) -> None:
    real = tmp_path / "real" / "target.sqlite"
    real.parent.mkdir()
    if target == "empty-file":
        real.write_bytes(b"")
    elif target == "store":
        fleet_store(real, 10, "ours")
    link = tmp_path / "vmss.sqlite"
    link.symlink_to(real)
    time.sleep(0.01)
    before = folder_snapshot(tmp_path)
    refused(link, module, args, "is a symlink", str(real))
    assert differences(before, folder_snapshot(tmp_path)) == []


@pytest.mark.parametrize(("module", "args"), [WRITE, READ], ids=["write", "read"])
def test_a_store_owned_by_another_user_is_refused(tmp_path: Path, module: Any, args: dict[str, Any]) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    path = tmp_path / "vmss.sqlite"
    fleet_store(path, 10, "ours")
    os.chown(path, OTHER_UID, OTHER_UID)
    before = folder_snapshot(tmp_path)
    refused(path, module, args, f"owned by uid {OTHER_UID}", "chown")
    assert differences(before, folder_snapshot(tmp_path)) == []


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_a_store_writable_by_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "vmss.sqlite"
    fleet_store(path, 10, "ours")
    os.chmod(path, mode)
    before = folder_snapshot(tmp_path)
    refused(path, *WRITE, "writable by group or others", "chmod 600")
    assert differences(before, folder_snapshot(tmp_path)) == []


@pytest.mark.parametrize("side", ["-wal", "-journal"])
def test_a_sidecar_owned_by_another_user_is_refused(tmp_path: Path, side: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    path = tmp_path / "vmss.sqlite"
    fleet_store(path, 10, "ours")
    planted = Path(f"{path}{side}")
    planted.write_bytes(b"")
    os.chown(planted, OTHER_UID, OTHER_UID)
    before = folder_snapshot(tmp_path)
    refused(path, *WRITE, f"{planted} is owned by uid {OTHER_UID}", "chown")
    assert differences(before, folder_snapshot(tmp_path)) == []


@pytest.mark.parametrize("exists", [True, False], ids=["existing-store", "new-store"])
def test_a_folder_of_another_user_or_writable_by_others_is_refused(tmp_path: Path, exists: bool) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "vmss.sqlite"
    if exists:
        fleet_store(path, 10, "ours")
    os.chmod(folder, 0o777)
    before = folder_snapshot(tmp_path)
    refused(path, *WRITE, "writable by group or others", "chmod go-w")
    assert differences(before, folder_snapshot(tmp_path)) == []
    if os.geteuid() == 0:
        os.chmod(folder, 0o755)
        os.chown(folder, OTHER_UID, OTHER_UID)
        refused(path, *WRITE, f"owned by uid {OTHER_UID}", "chown")
        assert os.listdir(folder) == (["vmss.sqlite"] if exists else [])


def test_a_sticky_world_writable_folder_like_tmp_is_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "tmp"
    folder.mkdir()
    os.chmod(folder, 0o1777)
    path = folder / "vmss.sqlite"
    assert call(*WRITE[:1], {"store": str(path), **WRITE[1]})["rc"] == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_every_new_folder_is_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "a" / "b" / "c" / "vmss.sqlite"
        assert call(*WRITE[:1], {"store": str(path), **WRITE[1]})["rc"] == 0
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- item 7: errors of the disk name their cause ---------------------------------------------------

_LIMITED = r"""
import contextlib, io, json, resource, signal, sys
from ansible.module_utils.testing import patch_module_args
from ansible_collections.azsim.vmss.plugins.modules import vm_image, vmss
module = {"vmss": vmss, "vm_image": vm_image}[sys.argv[3]]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing the process
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
out = io.StringIO()
with patch_module_args(json.loads(sys.argv[1])), contextlib.redirect_stdout(out):
    try:
        module.main()
    except SystemExit:
        pass
sys.stdout.write(out.getvalue())
"""


def run_with_file_size_limit(args: dict[str, Any], limit: int, module: str = "vmss") -> dict[str, Any]:
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED, json.dumps(args), str(limit), module],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


BIG_SCALE_SET = {
    "resource_group": "rg",
    "name": "web",
    "image": {**IMAGE, "version": "latest"},
    "single_placement_group": False,  # up to 1,000 instances (azure-behaviour-2 D9)
    "instances": [f"web-{i:04d}" for i in range(1000)],
}


def assert_names_the_size_limit(result: dict[str, Any], path: Path) -> None:
    msg = result.get("msg", "")
    assert result.get("failed") is True, result
    assert msg.startswith(f"store {path}: file size limit"), msg
    for wrong in ("damaged", "move it aside", "cannot rollback", "internal error", "write lock"):
        assert wrong not in msg, msg


def test_a_file_size_limit_on_an_existing_store_says_so_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "vmss.sqlite"
    assert call(vm_image, {"store": str(path), **IMAGE, "version": "1.0.0"})["rc"] == 0
    time.sleep(0.01)
    before = folder_snapshot(tmp_path)
    result = run_with_file_size_limit({"store": str(path), **BIG_SCALE_SET}, limit=64 * 1024)
    assert_names_the_size_limit(result, path)
    assert differences(before, folder_snapshot(tmp_path)) == []


@pytest.mark.parametrize("limit", [0, 1024, 16 * 1024])
def test_a_file_size_limit_on_a_new_store_says_so_and_leaves_no_file(tmp_path: Path, limit: int) -> None:
    path = tmp_path / "new" / "vmss.sqlite"
    result = run_with_file_size_limit({"store": str(path), **IMAGE, "version": "1.0.0"}, limit=limit, module="vm_image")
    assert_names_the_size_limit(result, path)
    assert os.listdir(tmp_path) == []


def test_a_full_disk_says_disk_full_and_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC simulated where SQLite reports it (a tiny tmpfs is not available here): the write raises
    SQLite's own 'database or disk is full' and the file system has no space left."""
    from ansible_collections.azsim.vmss.plugins.module_utils._store import store as store_module

    path = tmp_path / "vmss.sqlite"
    assert call(vm_image, {"store": str(path), **IMAGE, "version": "1.0.0"})["rc"] == 0
    time.sleep(0.01)
    before = folder_snapshot(tmp_path)

    def full(*_args: Any, **_kwargs: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    real_statvfs = os.statvfs

    class NoSpace:
        f_bavail = 0
        f_frsize = 4096

    monkeypatch.setattr(store_module.Store, "put_doc", full)
    monkeypatch.setattr(store_module.Store, "put_docs", full)
    monkeypatch.setattr(os, "statvfs", lambda p: NoSpace() if str(p) == str(tmp_path) else real_statvfs(p))
    result = call(vmss, {"store": str(path), **BIG_SCALE_SET})
    assert result["rc"] == 1, result
    assert result["msg"].startswith(f"store {path}: disk full"), result["msg"]
    assert "damaged" not in result["msg"] and "cannot rollback" not in result["msg"]
    assert differences(before, folder_snapshot(tmp_path)) == []
