# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Corrupt and foreign stores, in every module: one clear message, and the file left byte-identical.

Each case puts something that is not a usable store where the ``store`` option points (random bytes,
a store cut short, another application's SQLite file, a store with a newer schema, a read-only file
or folder, a directory). The refusal must be one message that says where (the path), what is wrong, and
what to do, with no traceback and not the glue's "internal error"; and the file (and the folder it is in)
must be exactly as before: same bytes, same mtime, no -wal, -shm or -journal left beside it.

The bad files are a table on ``Store.open``, which refuses them before anything is written. Every module
opens its store through the glue, which reports ``Store.open``'s refusal as it is: one wiring test per
module, through its ``main()``, holds each of them to that with another application's database.

Read-only stores: the tests run as root, for whom permission bits stop nothing and ``os.access`` says
yes to everything. So the real thing is tested in a forked child that drops to uid/gid 65534 before it
runs the module (the kernel refuses its writes, ``os.access`` answers honestly); and, separately, the
read-only branch of ``_store.py`` is driven by monkeypatching ``os.access`` to deny writes, in-process.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import sqlite3
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import SCHEMA_VERSION, Store
from ansible_collections.azsim.vmss.plugins.modules import (
    feature_registration,
    sim_clock,
    vm_image,
    vm_image_info,
    vmss,
    vmss_info,
    vmss_os_rolling_upgrade,
    vmss_upgrade_history,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._harness import call

NOBODY = 65534
IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
# Every module with arguments that would succeed on a good store.
CALLS: dict[str, tuple[Any, dict[str, Any]]] = {
    "sim_clock": (sim_clock, {"advance": "PT1M"}),
    "vm_image": (vm_image, {**IMAGE, "version": "2.0.0"}),
    "vm_image_info": (vm_image_info, dict(IMAGE)),
    "vmss": (
        vmss,
        {"resource_group": "rg", "name": "web", "image": {**IMAGE, "version": "latest"}, "instances": ["a", "b"]},
    ),
    "vmss_info": (vmss_info, {"resource_group": "rg"}),
    "vmss_upgrade_policy": (
        vmss_upgrade_policy,
        {"resource_group": "rg", "name": "web", "rolling_upgrade_policy": {"max_batch_instance_percent": 50}},
    ),
    "vmss_os_rolling_upgrade": (vmss_os_rolling_upgrade, {"resource_group": "rg", "name": "web"}),
    "vmss_upgrade_history": (vmss_upgrade_history, {"resource_group": "rg", "name": "web"}),
    "feature_registration": (feature_registration, {"wait": True}),
}
# What to do: every refusal names a way out.
REMEDIES = (
    "point the store option",
    "move it aside",
    "upgrade the azsim.vmss collection",
    "fix the permissions",
    "give the path of a file",
)


# -- helpers --------------------------------------------------------------------------------------


def _good_store(path: Path) -> bytes:
    """A real store with a scale set, a run and some history in it; closed (no -wal), returned as bytes."""
    store = str(path)
    assert call(vm_image, {"store": store, **IMAGE, "version": "1.0.0"})["rc"] == 0
    assert (
        call(
            vmss,
            {
                "store": store,
                "resource_group": "rg",
                "name": "web",
                "image": {**IMAGE, "version": "latest"},
                "health_probe": {"protocol": "tcp", "port": 22},
                "single_placement_group": False,  # more than 100 instances (azure-behaviour-2 D9)
                "instances": [f"web-{i:03d}" for i in range(200)],
            },
        )["rc"]
        == 0
    )
    assert call(vm_image, {"store": store, **IMAGE, "version": "1.1.0"})["rc"] == 0
    assert call(vmss_os_rolling_upgrade, {"store": store, "resource_group": "rg", "name": "web"})["rc"] == 0
    assert not Path(f"{store}-wal").exists()
    return path.read_bytes()


@pytest.fixture(scope="module")
def good_store(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return _good_store(tmp_path_factory.mktemp("good") / "vmss.sqlite")


def snapshot(path: Path) -> dict[str, Any]:
    """Everything a refusal must leave as it was: bytes, stat, and the folder beside the file."""
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
    else:
        snap["listing"] = sorted(os.listdir(path))
    return snap


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def assert_clear_message(msg: str, path: Path, what: str) -> None:
    assert "internal error" not in msg and "Traceback" not in msg, msg
    assert "\n" not in msg, msg
    assert msg.startswith(f"store {path}: "), msg  # where
    assert what in msg, msg  # what
    assert any(remedy in msg.lower() for remedy in REMEDIES), msg  # what to do


def assert_clear_refusal(result: dict[str, Any], path: Path, what: str) -> None:
    msg = result.get("msg")
    assert result["rc"] == 1 and result.get("failed") is True, result
    assert isinstance(msg, str), result
    assert "exception" not in result, result.get("exception")
    assert_clear_message(msg, path, what)


def refusal(path: Path) -> str:
    """The message ``Store.open`` refuses ``path`` with."""
    with pytest.raises(StoreError) as refused:
        Store.open(str(path))
    return refused.value.message


# -- the bad stores ---------------------------------------------------------------------------------


def _random_bytes(size: int) -> Callable[[Path, bytes], None]:
    def make(path: Path, _good: bytes) -> None:
        path.write_bytes(random.Random(size).randbytes(size))

    return make


def _sqlite_header_then_garbage(path: Path, _good: bytes) -> None:
    path.write_bytes(b"SQLite format 3\x00" + random.Random(3).randbytes(8192))


def _truncated(keep: Callable[[int], int]) -> Callable[[Path, bytes], None]:
    def make(path: Path, good: bytes) -> None:
        path.write_bytes(good[: keep(len(good))])

    return make


def _other_application(wal: bool) -> Callable[[Path, bytes], None]:
    def make(path: Path, _good: bytes) -> None:
        conn = sqlite3.connect(str(path))
        if wal:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER)")
        conn.executemany("INSERT INTO accounts (owner, balance) VALUES (?, ?)", [("alice", 10), ("bob", 20)])
        conn.commit()
        conn.close()

    return make


def _other_application_same_tables(path: Path, good: bytes) -> None:
    """Our very tables, but another application id: still not ours."""
    path.write_bytes(good)
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA application_id = 1234")
    conn.commit()
    conn.close()


def _newer_schema(path: Path, good: bytes) -> None:
    path.write_bytes(good)
    conn = sqlite3.connect(str(path))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


def _directory(path: Path, _good: bytes) -> None:
    path.mkdir()
    (path / "notes.txt").write_text("not a store")


PAGE = 4096
BAD_STORES = [
    pytest.param(_random_bytes(16), "not an azsim.vmss store", id="random-16-bytes"),
    pytest.param(_random_bytes(4096), "not an azsim.vmss store", id="random-4k"),
    pytest.param(_random_bytes(65536), "not an azsim.vmss store", id="random-64k"),
    pytest.param(_sqlite_header_then_garbage, "damaged", id="sqlite-header-then-garbage"),
    pytest.param(_truncated(lambda n: 100), "damaged", id="truncated-to-100-bytes"),
    pytest.param(_truncated(lambda n: PAGE), "damaged", id="truncated-to-first-page"),
    pytest.param(_truncated(lambda n: n // 2 // PAGE * PAGE), "damaged", id="truncated-to-half"),
    pytest.param(_truncated(lambda n: n - PAGE), "damaged", id="truncated-by-last-page"),
    pytest.param(_truncated(lambda n: n - 100), "damaged", id="truncated-by-100-bytes"),
    pytest.param(_truncated(lambda n: n - 1), "damaged", id="truncated-by-1-byte"),
    pytest.param(_other_application(wal=False), "another application", id="other-application"),
    pytest.param(_other_application(wal=True), "another application", id="other-application-wal"),
    pytest.param(_other_application_same_tables, "another application", id="other-application-our-tables"),
    pytest.param(_newer_schema, "newer than this azsim.vmss", id="newer-schema"),
    pytest.param(_directory, "is a directory", id="directory"),
]


# -- the refusals: a table on Store.open -----------------------------------------------------------


@pytest.mark.parametrize(("make", "what"), BAD_STORES)
def test_bad_store_is_refused_clearly_and_left_byte_identical(
    tmp_path: Path, good_store: bytes, make: Callable[[Path, bytes], None], what: str
) -> None:
    path = tmp_path / "vmss.sqlite"
    make(path, good_store)
    time.sleep(0.002)  # a write, even of the same bytes, would move the mtime
    before = snapshot(path)
    msg = refusal(path)
    assert_clear_message(msg, path, what)
    assert changes(before, snapshot(path)) == []
    # and it stays refused: the first attempt did not 'repair' it
    assert refusal(path) == msg
    assert changes(before, snapshot(path)) == []


# -- the wiring: every module's main() reports Store.open's refusal as it is -----------------------


@pytest.mark.parametrize("module_name", sorted(CALLS))
def test_every_module_reports_the_refusal_and_leaves_the_file_byte_identical(
    tmp_path: Path, good_store: bytes, module_name: str
) -> None:
    path = tmp_path / "vmss.sqlite"
    _other_application(wal=False)(path, good_store)
    time.sleep(0.002)
    before = snapshot(path)
    msg = refusal(path)
    module, args = CALLS[module_name]
    result = call(module, {"store": str(path), **args})
    assert_clear_refusal(result, path, "another application")
    assert result["msg"] == msg
    assert changes(before, snapshot(path)) == []


# -- read-only ------------------------------------------------------------------------------------


@pytest.mark.parametrize("module_name", sorted(CALLS))
def test_read_only_branch_with_os_access_denied(
    tmp_path: Path, good_store: bytes, module_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process, as root: os.access is made to say what it says to a user who may not write here."""
    path = tmp_path / "vmss.sqlite"
    path.write_bytes(good_store)
    os.chmod(path, 0o444)
    real_access = os.access

    def access(target: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        if mode & os.W_OK and os.fspath(target) in (str(path), str(tmp_path)):
            return False
        return real_access(target, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    before = snapshot(path)
    module, args = CALLS[module_name]
    result = call(module, {"store": str(path), **args})
    assert_clear_refusal(result, path, "read-only")
    assert changes(before, snapshot(path)) == []


def _in_child_as_nobody(action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``action`` in a forked child that dropped to uid/gid 65534; its result."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                out = action()
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                out = {"child_error": f"{type(exc).__name__}: {exc}"}
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
    status = os.waitpid(pid, 0)[1]
    assert os.waitstatus_to_exitcode(status) == 0, "the child could not drop its privileges"
    result: dict[str, Any] = json.loads(b"".join(chunks))
    return result


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder uid 65534 can reach (pytest's own tmp folders are root's 0700)."""
    top = Path(tempfile.mkdtemp(prefix="azsim-foreign-"))
    os.chmod(top, 0o755)
    inner = top / "store"
    inner.mkdir()
    try:
        yield inner
    finally:
        for root, dirs, files in os.walk(top):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(root, name), 0o700)
        shutil.rmtree(top)


@pytest.mark.system  # a forked child as uid 65534
@pytest.mark.parametrize(
    ("file_mode", "folder_mode"),
    [pytest.param(0o400, 0o700, id="read-only-file"), pytest.param(0o600, 0o500, id="read-only-folder")],
)
@pytest.mark.parametrize("module_name", ["vmss", "sim_clock", "vmss_info"])
def test_read_only_store_for_real(
    shared_dir: Path, good_store: bytes, module_name: str, file_mode: int, folder_mode: int
) -> None:
    """The honest version: a user the kernel will not let write (uid 65534 when the tests run as root, owning
    the store and its folder: a store of another user is refused before its permissions are looked at)."""
    path = shared_dir / "vmss.sqlite"
    path.write_bytes(good_store)
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
        os.chown(shared_dir, NOBODY, NOBODY)
    os.chmod(path, file_mode)
    os.chmod(shared_dir, folder_mode)
    try:
        before = snapshot(path)
        module, args = CALLS[module_name]
        if os.geteuid() == 0:
            result = _in_child_as_nobody(lambda: call(module, {"store": str(path), **args}))
        else:
            if os.access(path, os.W_OK) and os.access(shared_dir, os.W_OK):
                pytest.skip("this user can write despite the mode bits")
            result = call(module, {"store": str(path), **args})
        assert "child_error" not in result, result
        assert_clear_refusal(result, path, "read-only")
        assert changes(before, snapshot(path)) == []
    finally:
        os.chmod(shared_dir, 0o755)


# -- damage SQLite only finds when it reads the page ------------------------------------------------


def _garbage_page(path: Path, good: bytes) -> None:
    """A page in the middle overwritten (bit rot, a bad copy): the header is fine, so opening works."""
    data = bytearray(good)
    middle = len(good) // PAGE // 2 * PAGE
    data[middle : middle + PAGE] = random.Random(5).randbytes(PAGE)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("module_name", sorted(CALLS))
def test_damage_found_mid_call_is_a_clear_failure_not_an_internal_error(
    tmp_path: Path, good_store: bytes, module_name: str
) -> None:
    """Calls that never read the damaged page may work (SQLite does not check every page on open); the
    others fail with 'is damaged' and what to do, and change nothing."""
    path = tmp_path / "vmss.sqlite"
    _garbage_page(path, good_store)
    before = snapshot(path)
    module, args = CALLS[module_name]
    result = call(module, {"store": str(path), **args})
    if result["rc"] == 0:
        return
    assert_clear_refusal(result, path, "is damaged")
    assert changes(before, snapshot(path)) == []
