# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots of a store (issue 11 item 2): taken with SQLite's backup API, restored without mixing states.

A plain copy of the store file misses what its -wal holds, and a copy put back beside a leftover -wal mixes
two states (the clock of one, the history of the other). ``store_snapshot`` takes the committed state, -wal
included, into one 0600 file and restores it inside one transaction of the store. Every refusal leaves the
snapshot, the destination and the store byte-identical.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._store.store import SCHEMA_VERSION
from ansible_collections.azsim.vmss.plugins.modules import sim_clock, store_snapshot, vm_image, vmss, vmss_info
from ansible_collections.azsim.vmss.tests.unit._harness import call, tables

IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
WEB = {"resource_group": "rg", "name": "web"}


def snap(store: Path, **args: Any) -> dict[str, Any]:
    return call(store_snapshot, {"store": str(store), **args})


def folder_state(folder: Path) -> dict[str, Any]:
    return {
        str(p.relative_to(folder)): (p.lstat().st_mode, p.lstat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "live" / "vmss.sqlite"
    assert call(vm_image, {"store": str(path), "location": "eastus", **IMAGE, "version": "1.0.0"})["rc"] == 0
    assert call(vmss, {"store": str(path), **WEB, "image": IMAGE, "instances": ["h1", "h2"]})["rc"] == 0
    return path


def change_everything(store: Path) -> None:
    assert call(sim_clock, {"store": str(store), "advance": "PT5H"})["rc"] == 0
    assert call(vm_image, {"store": str(store), "location": "eastus", **IMAGE, "version": "1.1.0"})["rc"] == 0
    assert call(vmss, {"store": str(store), **WEB, "instances": ["h1", "h2", "h3"]})["rc"] == 0


def test_take_writes_one_0600_file_with_the_whole_state_and_again_changes_nothing(store: Path, tmp_path: Path) -> None:
    dest = tmp_path / "kept" / "deep" / "before.sqlite"
    old = os.umask(0)
    try:
        checked = snap(store, dest=str(dest), _ansible_check_mode=True)
        assert checked["rc"] == 0 and checked["changed"] is True and not (tmp_path / "kept").exists()
        taken = snap(store, dest=str(dest), _ansible_diff=True)
    finally:
        os.umask(old)
    assert taken["rc"] == 0 and taken["changed"] is True, taken
    assert taken["diff"]["before"] == {"snapshot": None} and taken["diff"]["after"]["snapshot"]["instances"] == 2
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "kept").stat().st_mode) == stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in dest.parent.iterdir()) == ["before.sqlite"], "one file: no -wal, no temporary left"
    assert tables(dest) | {"journal_mode": None} == tables(store) | {"journal_mode": None}
    assert taken["snapshot"]["content_sha256"] == taken["store"]["content_sha256"]
    before = folder_state(tmp_path / "kept")
    again = snap(store, dest=str(dest))
    assert again["rc"] == 0 and again["changed"] is False and folder_state(tmp_path / "kept") == before


def test_take_includes_what_only_the_wal_holds(store: Path, tmp_path: Path) -> None:
    """A commit still in the -wal (its writer open, no checkpoint) is part of the state; a file copy misses it."""
    writer = sqlite3.connect(str(store), isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 86400 WHERE key = 'now'")
        assert Path(f"{store}-wal").stat().st_size > 0
        plain_copy = tmp_path / "plain.sqlite"
        plain_copy.write_bytes(store.read_bytes())
        dest = tmp_path / "snap.sqlite"
        assert snap(store, dest=str(dest))["rc"] == 0
    finally:
        writer.close()
    assert (
        snap(plain_copy.with_name("x.sqlite"), state="restored", src=str(dest))["store"]["now"]
        == "2025-01-02T00:00:00Z"
    )
    assert call(sim_clock, {"store": str(plain_copy)})["now"] == "2025-01-01T00:00:00Z", "the plain copy missed it"


def test_restore_brings_back_exactly_the_snapshot_and_again_changes_nothing(store: Path, tmp_path: Path) -> None:
    dest = tmp_path / "snap.sqlite"
    assert snap(store, dest=str(dest))["rc"] == 0
    kept = tables(dest)
    change_everything(store)
    after_change = store.read_bytes()
    checked = snap(store, state="restored", src=str(dest), _ansible_check_mode=True)
    assert checked["rc"] == 0 and checked["changed"] is True and store.read_bytes() == after_change
    assert not Path(f"{store}-wal").exists()
    restored = snap(store, state="restored", src=str(dest), _ansible_diff=True)
    assert restored["rc"] == 0 and restored["changed"] is True, restored
    assert (
        restored["diff"]["before"]["store"]["instances"] == 3 and restored["diff"]["after"]["store"]["instances"] == 2
    )
    assert tables(store) | {"journal_mode": None} == kept | {"journal_mode": None}
    assert call(sim_clock, {"store": str(store)})["now"] == "2025-01-01T00:00:00Z"
    same = store.read_bytes()
    again = snap(store, state="restored", src=str(dest))
    assert again["rc"] == 0 and again["changed"] is False and store.read_bytes() == same
    # The restored store works on: new events number on from the snapshot's, as they would have.
    assert call(vmss, {"store": str(store), **WEB, "instances": ["h1", "h2", "h9"]})["rc"] == 0


_KILLED_WRITER = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 7200 WHERE key = 'now'")
conn.execute("DELETE FROM instances")
os._exit(0)  # as SIGKILL after the COMMIT: the -wal keeps the commit, nothing folded it into the file
"""


def test_restore_over_a_store_with_a_crash_wal_does_not_mix_states(store: Path, tmp_path: Path) -> None:
    """Issue 11 item 2: a killed writer left committed frames in the -wal; the restore is the snapshot, whole."""
    dest = tmp_path / "snap.sqlite"
    assert snap(store, dest=str(dest))["rc"] == 0
    kept = tables(dest)
    change_everything(store)
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(store)], check=True)
    assert Path(f"{store}-wal").stat().st_size > 0
    restored = snap(store, state="restored", src=str(dest))
    assert restored["rc"] == 0 and restored["changed"] is True, restored
    assert tables(store) | {"journal_mode": None} == kept | {"journal_mode": None}
    info = call(vmss_info, {"store": str(store), **WEB})
    assert [i["name"] for i in info["instances"]] == ["h1", "h2"] and info["vmss"]["sku"]["capacity"] == 2


def test_restore_to_a_new_path_makes_a_store_and_check_mode_does_not(store: Path, tmp_path: Path) -> None:
    dest = tmp_path / "snap.sqlite"
    assert snap(store, dest=str(dest))["rc"] == 0
    new = tmp_path / "elsewhere" / "vmss.sqlite"
    assert snap(new, state="restored", src=str(dest), _ansible_check_mode=True)["changed"] is True
    assert not new.parent.exists()
    assert snap(new, state="restored", src=str(dest))["changed"] is True
    assert tables(new) | {"journal_mode": None} == tables(dest) | {"journal_mode": None}


def test_an_older_schema_snapshot_is_migrated_on_the_way_in(store: Path, tmp_path: Path) -> None:
    dest = tmp_path / "snap.sqlite"
    assert snap(store, dest=str(dest))["rc"] == 0
    conn = sqlite3.connect(str(dest))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.close()
    restored = snap(tmp_path / "new.sqlite", state="restored", src=str(dest))
    assert restored["rc"] == 0 and restored["store"]["schema_version"] == SCHEMA_VERSION
    assert len(call(vmss_info, {"store": str(tmp_path / "new.sqlite"), **WEB})["instances"]) == 2


def _other_app(path: Path) -> None:
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE accounts (owner TEXT)")
    conn.close()


def _newer(path: Path, store: Path) -> None:
    path.write_bytes(store.read_bytes())
    conn = sqlite3.connect(str(path))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()


def _with_wal(path: Path, store: Path) -> None:
    path.write_bytes(store.read_bytes())
    Path(f"{path}-wal").write_bytes(b"\x00" * 64)
    os.chmod(f"{path}-wal", 0o600)


def _foreign_owner(path: Path, store: Path) -> None:
    path.write_bytes(store.read_bytes())
    os.chown(path, 65534, 65534)  # the tests run as root


def _group_writable(path: Path, store: Path) -> None:
    path.write_bytes(store.read_bytes())
    os.chmod(path, 0o660)


SOURCES: dict[str, tuple[Callable[[Path, Path], Any], str]] = {
    "symlink": (lambda p, s: p.symlink_to(s), "is a symlink"),
    "foreign-owner": (_foreign_owner, "owned by uid 65534"),
    "group-writable": (_group_writable, "writable by group"),
    "wal-beside": (_with_wal, "has a -wal file beside it"),
    "other-application": (lambda p, s: _other_app(p), "another application"),
    "newer-schema": (_newer, "newer than this azsim.vmss understands"),
    "not-sqlite": (lambda p, s: p.write_text("hello\n" * 100), "not a SQLite file"),
    "cut-short": (lambda p, s: p.write_bytes(s.read_bytes()[:-100]), "cut short"),
    "directory": (lambda p, s: p.mkdir(), "not a regular file"),
}


@pytest.mark.parametrize("case", sorted(SOURCES))
def test_a_source_that_is_not_a_snapshot_of_ours_is_refused_and_nothing_changes(
    store: Path, tmp_path: Path, case: str
) -> None:
    make, expected = SOURCES[case]
    src = tmp_path / "src" / "snap.sqlite"
    src.parent.mkdir()
    make(src, store)
    before_src, before_store = folder_state(src.parent), folder_state(store.parent)
    result = snap(store, state="restored", src=str(src))
    assert result["rc"] == 1 and expected in result["msg"] and result["msg"].startswith(f"snapshot {src}: "), result
    assert "internal error" not in result["msg"]
    assert folder_state(src.parent) == before_src and folder_state(store.parent) == before_store


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda p: p.write_text("my notes\n"), "not a SQLite file", id="text-file"),
        pytest.param(lambda p: p.symlink_to(p.parent / "target"), "is a symlink", id="dangling-symlink"),
        pytest.param(_other_app, "another application", id="other-application"),
    ],
)
def test_a_destination_that_is_not_a_snapshot_is_never_overwritten(
    store: Path, tmp_path: Path, make: Any, expected: str
) -> None:
    dest = tmp_path / "dest" / "snap.sqlite"
    dest.parent.mkdir()
    make(dest)
    before = folder_state(dest.parent)
    result = snap(store, dest=str(dest))
    assert result["rc"] == 1 and expected in result["msg"], result
    assert folder_state(dest.parent) == before


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_the_store_itself_is_not_a_snapshot_path(store: Path, suffix: str) -> None:
    result = snap(store, dest=f"{store}{suffix}")
    assert result["rc"] == 1 and result["msg"].startswith("dest: ") and "is the store itself" in result["msg"]
    result = snap(store, state="restored", src=f"{store}{suffix}")
    assert result["rc"] == 1 and result["msg"].startswith("src: ")


def test_a_take_from_a_store_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    result = snap(tmp_path / "missing" / "vmss.sqlite", dest=str(tmp_path / "snap.sqlite"))
    assert result["rc"] == 1 and "does not exist" in result["msg"], result
    assert os.listdir(tmp_path) == []


def test_results_are_json_and_carry_no_secret(store: Path, tmp_path: Path) -> None:
    ext = {
        "name": "c",
        "publisher": "P.Q",
        "type": "T",
        "type_handler_version": "1.0",
        "protected_settings": {"k": "S3CR3T"},
    }
    assert call(vmss, {"store": str(store), **WEB, "extensions": [ext]})["rc"] == 0
    result = snap(store, dest=str(tmp_path / "snap.sqlite"), _ansible_diff=True)
    assert "S3CR3T" not in json.dumps(result) and b"S3CR3T" not in (tmp_path / "snap.sqlite").read_bytes()
