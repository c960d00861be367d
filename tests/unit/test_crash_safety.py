# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Crashes: a module process killed with SIGKILL in the middle of a long call loses nothing.

The call is ``vmss_os_rolling_upgrade`` with ``wait: true`` on a 10,000-instance scale set, run the way
Ansible runs a module: a separate ``python -m ...vmss_os_rolling_upgrade <args.json>`` process. The scale
set is built once (per xdist worker) and the store file copied for every trial. One un-killed run first
measures the call (when the store is opened, when its write-ahead log starts to grow, when it is
closed, when the process ends) and gives the reference "after" store.

Twenty seeded kill points (``TRIALS``):
- ``anytime``: a delay drawn between 50 ms and the call's full duration;
- ``in-transaction``: a delay drawn between the store's opening and its closing;
- ``mid-write``: the moment the -wal file has grown past a size drawn between 5% and 95% of what the
  un-killed call writes there; so the process dies while its COMMIT is still to come;
- ``first-commit``: the moment a second connection sees the first COMMIT (``PRAGMA data_version``).
  One call makes one COMMIT, so the store must then read as after the call; a call that committed
  part of its work early (two transactions) is caught here, between its commits.

After each kill: ``PRAGMA integrity_check`` is ok, every table reads exactly as before the call (or,
when the kill came after COMMIT, exactly as the un-killed call left it, never anything in between), and
the next call works: run again, it leaves the store exactly as the un-killed call did.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._model import capacity
from ansible_collections.azsim.vmss.plugins.modules import vm_image, vmss, vmss_os_rolling_upgrade
from ansible_collections.azsim.vmss.tests.unit._harness import call, tables

# Module processes killed with SIGKILL: the system tier (pyproject.toml), left out of `make units-fast`.
pytestmark = pytest.mark.system

INSTANCES = 10_000
SEED = 20250101
TRIALS = (
    [("anytime", i) for i in range(6)]
    + [("in-transaction", i) for i in range(4)]
    + [("mid-write", i) for i in range(6)]
    + [("first-commit", i) for i in range(4)]
)
MODULE = "ansible_collections.azsim.vmss.plugins.modules.vmss_os_rolling_upgrade"
IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
UPGRADE = {"resource_group": "rg-big", "name": "big", "state": "started", "wait": True}
POLL = 0.001


def _collections_dir() -> str:
    for entry in sys.path:
        if os.path.isdir(os.path.join(entry, "ansible_collections", "azsim", "vmss", "plugins")):
            return entry
    raise RuntimeError("ansible_collections.azsim.vmss is not on sys.path (tests/unit/conftest.py puts it there)")


def integrity(path: Path) -> str:
    conn = sqlite3.connect(str(path))
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def wal_size(path: Path) -> int:
    try:
        return os.path.getsize(f"{path}-wal")
    except FileNotFoundError:
        return -1


class CommitWatcher:
    """A second connection to the store that notices the first COMMIT of another (``PRAGMA data_version``)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA query_only = ON")
        self.start = self.version()

    def version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def committed(self) -> bool:
        try:
            return self.version() != self.start
        except sqlite3.OperationalError:  # pragma: no cover - busy for a moment
            return False

    def close(self) -> None:
        self.conn.close()


def place(folder: Path, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "vmss.sqlite"
    path.write_bytes(data)
    return path


def start(path: Path, folder: Path) -> subprocess.Popen[bytes]:
    args = folder / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"store": str(path), **UPGRADE}}))
    env = {**os.environ, "PYTHONPATH": _collections_dir(), "PYTHONDONTWRITEBYTECODE": "1"}
    with open(folder / "stdout.json", "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", MODULE, str(args)], env=env, stdout=out, stderr=subprocess.PIPE, cwd=folder
        )


@dataclass
class Reference:
    data: bytes
    before: dict[str, Any]
    after: dict[str, Any]
    opened: float  # seconds from the start of the process: the -wal appears (Store.open)
    writing: float  # the -wal starts to grow (pages of the transaction)
    closed: float  # the -wal is gone (COMMIT, then the last connection closed and checkpointed)
    duration: float  # the process has exited
    wal_peak: int
    timings: list[tuple[float, int]] = field(default_factory=list)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the stores live: on tmpfs when there is one. A SIGKILL leaves the kernel's page cache as it
    was, so the file system under the store does not change what is tested (a power cut would), and
    tmpfs spares each trial the fsync of an 8 MB checkpoint."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="azsim-crash-", dir="/dev/shm"))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("crash-scratch")


@pytest.fixture(scope="module")
def reference(scratch: Path) -> Reference:
    folder = scratch / "template"
    folder.mkdir()
    template = folder / "template.sqlite"
    assert call(vm_image, {"store": str(template), **IMAGE, "version": "1.0.0"})["rc"] == 0
    # 10,000 instances, ten times what a user may create (azure-behaviour-2 D9): a big store makes every kill
    # point land inside long writes. The limit is raised for this one creation; the killed call is a rolling
    # upgrade, which never checks it.
    saved, capacity.MAX_INSTANCES = capacity.MAX_INSTANCES, INSTANCES
    try:
        built = call(
            vmss,
            {
                "store": str(template),
                "resource_group": UPGRADE["resource_group"],
                "name": UPGRADE["name"],
                "image": {**IMAGE, "version": "latest"},
                "health_probe": {"protocol": "tcp", "port": 22},
                "single_placement_group": False,
                "instances": [f"vm{i:05d}" for i in range(INSTANCES)],
                "return_all_instances": True,
            },
        )
    finally:
        capacity.MAX_INSTANCES = saved
    assert built["rc"] == 0 and len(built["instances"]) == INSTANCES
    assert call(vm_image, {"store": str(template), **IMAGE, "version": "1.1.0"})["rc"] == 0
    assert not Path(f"{template}-wal").exists()
    data = template.read_bytes()
    before = tables(template)

    # The un-killed call, watched: it measures the call and gives the store it must leave.
    run_dir = folder / "unkilled"
    path = place(run_dir, data)
    began = time.monotonic()
    proc = start(path, run_dir)
    seen: list[tuple[float, int]] = []
    while proc.poll() is None:
        size = wal_size(path)
        if not seen or seen[-1][1] != size:
            seen.append((time.monotonic() - began, size))
        time.sleep(POLL)
    duration = time.monotonic() - began
    err = proc.communicate()[1]
    assert proc.returncode == 0, err.decode()
    result = json.loads((run_dir / "stdout.json").read_text())
    assert result["changed"] is True and result["rolling_upgrade"]["properties"]["runningStatus"]["code"] == "Completed"
    after = tables(path)
    assert after != before
    opened = next(t for t, s in seen if s >= 0)
    writing = next(t for t, s in seen if s > 32)
    closed = next(t for t, s in seen if s < 0 and t > opened)
    return Reference(data, before, after, opened, writing, closed, duration, max(s for _t, s in seen), seen)


def _kill_when(proc: subprocess.Popen[bytes], condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and not condition() and time.monotonic() < deadline:
        time.sleep(POLL)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()


@pytest.mark.parametrize(("kind", "index"), TRIALS, ids=[f"{k}-{i}" for k, i in TRIALS])
def test_sigkill_leaves_the_store_as_before_and_the_next_call_works(
    reference: Reference, scratch: Path, kind: str, index: int
) -> None:
    rng = random.Random(f"{SEED}:{kind}:{index}")
    tmp_path = scratch / f"{kind}-{index}"
    path = place(tmp_path, reference.data)
    if kind == "anytime":
        delay = rng.uniform(0.05, reference.duration)
        how = f"after {delay:.3f}s of {reference.duration:.3f}s"
    elif kind == "in-transaction":
        delay = rng.uniform(reference.opened, reference.closed)
        how = f"after {delay:.3f}s (store open {reference.opened:.3f}s to {reference.closed:.3f}s)"
    elif kind == "mid-write":
        threshold = int(rng.uniform(0.05, 0.95) * reference.wal_peak)
        how = f"when the -wal passed {threshold} of {reference.wal_peak} bytes"
    else:
        how = "as soon as another connection saw the first COMMIT"

    if kind == "first-commit":
        watcher = CommitWatcher(path)  # before the call starts, so that no commit goes unseen
    began = time.monotonic()
    proc = start(path, tmp_path)
    if kind == "mid-write":
        _kill_when(proc, lambda: wal_size(path) >= threshold, reference.duration * 10)
    elif kind == "first-commit":
        _kill_when(proc, watcher.committed, reference.duration * 10)
        watcher.close()
    else:
        _kill_when(proc, lambda: time.monotonic() - began >= delay, reference.duration * 10)
    killed = proc.returncode == -signal.SIGKILL
    wal_left = wal_size(path)

    assert integrity(path) == "ok", how
    state = tables(path)
    if state == reference.before:
        outcome = "before"
    elif state == reference.after and not killed:
        outcome = "after (the call had finished)"
    elif state == reference.after:
        outcome = "after (killed after COMMIT)"
    else:
        changed = sorted(k for k in state.keys() | reference.before.keys() if state.get(k) != reference.before.get(k))
        pytest.fail(f"killed {how}: the store is neither as before nor as after the call; tables differing: {changed}")
    print(f"{kind}-{index}: killed={killed} {how}; -wal left {wal_left} bytes; store reads as {outcome}")

    # The next call works, and (whatever the kill interrupted) ends exactly where the un-killed call did.
    again = call(vmss_os_rolling_upgrade, {"store": str(path), **UPGRADE})
    assert again["rc"] == 0 and not again.get("failed"), again.get("msg")
    assert again["changed"] is (outcome == "before")
    assert integrity(path) == "ok"
    assert tables(path) == reference.after
