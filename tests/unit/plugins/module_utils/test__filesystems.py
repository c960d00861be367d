# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A store on a file system where SQLite's WAL is not safe (network and shared file systems: sqlite.org/wal.html,
"WAL does not work over a network filesystem") is refused at open, before anything is touched (issue 15 part 4).

The file system is read from /proc/self/mountinfo; the pure functions get fake mountinfo texts, the module test a
fake mountinfo file in place of the real one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._store import filesystems
from ansible_collections.azsim.vmss.plugins.module_utils._store.filesystems import (
    Mount,
    check_filesystem,
    mount_of,
    parse_mountinfo,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.plugins.modules import sim_clock, vmss_info
from ansible_collections.azsim.vmss.tests.unit._harness import run

# A container's mountinfo: overlay root, a local volume, an NFS share, an SMB share, sshfs, 9p, fuse-overlayfs.
MOUNTINFO = """\
650 600 0:52 / / rw,relatime master:300 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
651 650 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
652 650 0:56 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
660 650 253:1 /volumes/azsim /runner/azsim rw,relatime - ext4 /dev/mapper/vg-data rw
661 650 0:60 / /mnt/nfs rw,relatime shared:12 master:3 - nfs4 fileserver:/export/azsim rw,vers=4.2
662 650 0:61 / /mnt/smb rw,relatime - cifs //winserver/share rw,vers=3.1.1
663 650 0:62 / /mnt/ssh rw,nosuid,nodev,relatime - fuse.sshfs me@host:/srv rw,user_id=0
664 650 0:63 / /mnt/c rw,noatime - 9p drvfs rw,aname=drvfs;path=C:\\
665 650 0:64 / /mnt/fov rw,relatime - fuse.fuse-overlayfs fuse-overlayfs rw
666 661 253:2 / /mnt/nfs/local rw,relatime - xfs /dev/sdb1 rw
667 650 0:65 / /mnt/with\\040space rw,relatime - nfs server:/a\\040b rw
"""


def test_parse_mountinfo_reads_point_type_and_source_past_optional_fields_and_escapes() -> None:
    mounts = parse_mountinfo(MOUNTINFO + "garbage line\n\n")
    assert mounts[0] == Mount("/", "overlay", "overlay")
    assert Mount("/mnt/nfs", "nfs4", "fileserver:/export/azsim") in mounts  # two optional fields before " - "
    assert Mount("/mnt/with space", "nfs", "server:/a b") in mounts  # \040 is a space
    assert len(mounts) == 11


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/runner/azsim", "/runner/azsim"),
        ("/runner/azsim/store", "/runner/azsim"),
        ("/runner/azsimx", "/"),  # a mount point is a prefix by whole folders only
        ("/mnt/nfs/dir", "/mnt/nfs"),
        ("/mnt/nfs/local/dir", "/mnt/nfs/local"),  # the longest mount point wins
        ("/tmp", "/"),
        ("/", "/"),
    ],
)
def test_mount_of_takes_the_longest_mount_point_above_the_path(path: str, expected: str) -> None:
    mount = mount_of(path, parse_mountinfo(MOUNTINFO))
    assert mount is not None and mount.mount_point == expected


def test_a_later_mount_on_the_same_point_hides_the_earlier() -> None:
    text = MOUNTINFO + "700 650 0:70 / /runner/azsim rw - nfs4 nas:/x rw\n"
    mount = mount_of("/runner/azsim/s", parse_mountinfo(text))
    assert mount is not None and mount.fstype == "nfs4"


@pytest.mark.parametrize(
    ("folder", "fstype"),
    [
        ("/mnt/nfs", "nfs4"),
        ("/mnt/smb", "cifs"),
        ("/mnt/ssh", "fuse.sshfs"),
        ("/mnt/c", "9p"),
        ("/mnt/with space", "nfs"),
    ],
)
def test_a_store_on_a_network_or_shared_file_system_is_refused_naming_it_and_the_fix(
    folder: str, fstype: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filesystems, "existing_folder", os.path.dirname)
    with pytest.raises(StoreError) as refused:
        check_filesystem(f"{folder}/vmss.sqlite", MOUNTINFO)
    message = refused.value.message
    assert message.startswith(f"store {folder}/vmss.sqlite: is on a {fstype} file system (")
    assert f"mounted at {folder})" in message
    assert "WAL" in message and "nothing was read or written" in message
    assert "AZSIM_VMSS_STORE" in message and "local file system" in message and "docs/awx.md" in message


@pytest.mark.parametrize("folder", ["/runner/azsim", "/", "/tmp", "/mnt/fov", "/mnt/nfs/local", "/dev"])
def test_a_store_on_a_local_file_system_is_accepted(folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """overlay (a container's root), ext4/xfs volumes, tmpfs, and fuse-overlayfs (rootless containers) are local."""
    monkeypatch.setattr(filesystems, "existing_folder", os.path.dirname)
    check_filesystem(f"{folder}/vmss.sqlite", MOUNTINFO)


def test_the_folder_is_the_nearest_existing_one_with_symlinks_resolved(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert filesystems.existing_folder(str(tmp_path / "link" / "new" / "deeper" / "vmss.sqlite")) == str(real)
    text = f"1 0 0:1 / / rw - ext4 /dev/vda rw\n2 1 0:2 / {real} rw - nfs4 nas:/x rw\n"
    with pytest.raises(StoreError, match="is on a nfs4 file system"):
        check_filesystem(str(tmp_path / "link" / "new" / "vmss.sqlite"), text)


def test_without_mountinfo_there_is_no_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS, BSD, Windows: no /proc/self/mountinfo, and os.statvfs does not give a type: the store is used."""
    monkeypatch.setattr(filesystems, "MOUNTINFO", str(tmp_path / "no-such-file"))
    check_filesystem(str(tmp_path / "vmss.sqlite"))
    Store.open(str(tmp_path / "vmss.sqlite")).close()


def test_this_machines_own_mountinfo_is_read(tmp_path: Path) -> None:
    """The real /proc/self/mountinfo (Linux): the tests' temporary folder is on a mount it lists."""
    if not os.path.exists(filesystems.MOUNTINFO):
        pytest.skip("no /proc/self/mountinfo on this system")
    with open(filesystems.MOUNTINFO, encoding="utf-8") as handle:
        mounts = parse_mountinfo(handle.read())
    assert any(m.mount_point == "/" for m in mounts)
    assert mount_of(os.path.realpath(tmp_path), mounts) is not None


# -- through the modules: refused before anything is created, read or locked ---------------------------------------


def _on_nfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    fake = tmp_path / "mountinfo"
    fake.write_text(
        f"1 0 0:1 / / rw - ext4 /dev/vda rw\n2 1 0:2 / {os.path.realpath(folder)} rw - nfs4 nas:/azsim rw\n"
    )
    monkeypatch.setattr(filesystems, "MOUNTINFO", str(fake))


def test_a_module_refuses_a_store_on_nfs_and_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    share = tmp_path / "share"
    share.mkdir()
    _on_nfs(tmp_path, monkeypatch, share)
    store = share / "azsim" / "vmss.sqlite"
    rc, result = run(sim_clock, {"store": str(store), "advance": "PT1H"})
    assert rc == 1
    assert result["msg"].startswith(f"store {store}: is on a nfs4 file system (nas:/azsim mounted at ")
    assert os.listdir(share) == []  # neither the store nor its folder


def test_a_read_only_module_refuses_an_existing_store_on_nfs_and_leaves_it_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    store = share / "vmss.sqlite"
    assert run(sim_clock, {"store": str(store), "advance": "PT1H"})[0] == 0  # made while the share was "local"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in share.iterdir()}
    _on_nfs(tmp_path, monkeypatch, share)
    rc, result = run(vmss_info, {"store": str(store), "resource_group": "rg"})
    assert rc == 1 and "is on a nfs4 file system" in result["msg"], result
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in share.iterdir()} == before
