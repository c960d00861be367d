# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store's files on disk, through the modules' ``main()``: what check mode, reads and refused calls
leave (nothing), sidecars that are not the store's, symlinks and foreign owners, and errors of the disk.

Every "nothing" here is a snapshot of the folder: each file's bytes, mode, owner and mtime, and the
list of names in it (no new -wal, -shm, -journal or folder).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.azsim.vmss.plugins.module_utils._store.store import MIGRATIONS, SCHEMA_VERSION, Store
from ansible_collections.azsim.vmss.plugins.modules import (
    sim_clock,
    vm_image,
    vm_image_info,
    vmss,
    vmss_info,
    vmss_upgrade_policy,
)

IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}


def call(module: Any, args: dict[str, Any]) -> dict[str, Any]:
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        try:
            module.main()
        except SystemExit as exc:
            code = exc.code or 0
        else:  # pragma: no cover - main() always exits
            code = "did not exit"
    result: dict[str, Any] = json.loads(out.getvalue())
    result["rc"] = code
    return result


def folder_snapshot(folder: Path) -> dict[str, Any]:
    """Every entry under ``folder``: type, mode, owner, size, mtime and bytes of regular files."""
    snap: dict[str, Any] = {}
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            full = Path(root, name)
            st = os.lstat(full)
            entry: dict[str, Any] = {"mode": st.st_mode, "uid": st.st_uid, "size": st.st_size,
                                     "mtime_ns": st.st_mtime_ns}
            if stat.S_ISREG(st.st_mode):
                entry["bytes"] = full.read_bytes()
            snap[str(full.relative_to(folder))] = entry
    return snap


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
    pytest.param(vmss, {"resource_group": "rg", "name": "web", "image": {**IMAGE, "version": "1.0.0"},
                        "instances": ["a"], "_ansible_check_mode": True}, 1, id="check-mode-vmss"),
    pytest.param(vmss_info, {"resource_group": "rg"}, 0, id="vmss_info"),
    pytest.param(vm_image_info, dict(IMAGE), 0, id="vm_image_info"),
    pytest.param(vmss_upgrade_policy, {"resource_group": "rg", "name": "nope",
                                       "rolling_upgrade_policy": {"max_batch_instance_percent": 50}},
                 1, id="refused-vmss_upgrade_policy"),
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
    assert result["rc"] == 1, result
    writes = not (args.get("_ansible_check_mode") or module in (vmss_info, vm_image_info))
    if not writes:
        assert result["msg"].startswith(f"store {path}: does not exist; nothing was created"), result["msg"]
    assert os.listdir(tmp_path) == []
    # a write creates it, with its folders
    assert call(sim_clock, {"store": str(path), "advance": "PT1M"})["rc"] == 0
    assert pragma(path, "user_version") == SCHEMA_VERSION


def test_a_check_mode_read_of_a_wal_store_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "vmss.sqlite"
    assert call(vm_image, {"store": str(path), **IMAGE, "version": "1.0.0"})["rc"] == 0
    time.sleep(0.01)
    before = folder_snapshot(tmp_path)
    for module, args in [(sim_clock, {"advance": "PT1H", "_ansible_check_mode": True}),
                         (vm_image_info, dict(IMAGE)), (vmss_info, {"resource_group": "rg"})]:
        assert call(module, {"store": str(path), **args})["rc"] == 0
        assert differences(before, folder_snapshot(tmp_path)) == []
