# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file system a store is on, and whether SQLite's WAL mode is safe there.

The store runs in WAL mode. SQLite's documentation (https://www.sqlite.org/wal.html, "all processes using a
database must be on the same host computer; WAL does not work over a network filesystem", and
https://www.sqlite.org/useovernet.html) says why a network file system breaks it: the -shm index is shared
memory (mmap of a file) that only one host's page cache keeps coherent, and the POSIX advisory locks it relies on
are emulated or ignored by NFS (lockd), SMB/CIFS, sshfs and 9p. Two writers then both believe they hold the lock,
and the store is corrupted or loses transactions without an error. So a store on such a file system is refused
before anything is opened.

The file system is found by reading ``/proc/self/mountinfo`` (Linux): the mount whose mount point is the longest
prefix of the store's folder (its nearest existing ancestor, symlinks resolved). Nothing is written. Where there is
no mountinfo (macOS, BSD, Windows) there is no check: ``os.statvfs`` does not say the type.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError

MOUNTINFO = "/proc/self/mountinfo"

# File system types (mountinfo's field after " - ") on which WAL's locks or shared memory are known not to hold.
# FUSE file systems are listed by subtype ("fuse.sshfs"): a FUSE file system is not a network one as such, and the
# local ones (fuse-overlayfs under rootless containers, ntfs-3g) keep the store safe.
UNSAFE_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "9p",  # virtio/Plan 9 shares: WSL2's Windows drives, QEMU and some container runtimes' host folders
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "davfs",
        "fuse.sshfs",
        "fuse.glusterfs",
        "fuse.cephfs",
        "fuse.ceph-fuse",
        "fuse.s3fs",
        "fuse.rclone",
        "fuse.gcsfuse",
        "fuse.goofys",
        "fuse.blobfuse",
        "fuse.blobfuse2",
        "fuse.davfs2",
        "fuse.juicefs",
        "fuse.smbnetfs",
    }
)


@dataclass(frozen=True)
class Mount:
    mount_point: str
    fstype: str
    source: str


_ESCAPE = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes (\\040, \\011, \\012, \\134)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of a ``/proc/<pid>/mountinfo`` text, in its order (a later mount on the same point hides an earlier).

    A line: ``id parent major:minor root mount_point options [optional fields...] - fstype source super_options``.
    Lines that do not have that shape are skipped.
    """
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        try:
            dash = fields.index("-", 6)
        except ValueError:
            continue
        if len(fields) < dash + 3:
            continue
        mounts.append(Mount(_unescape(fields[4]), fields[dash + 1], _unescape(fields[dash + 2])))
    return mounts


def mount_of(path: str, mounts: list[Mount]) -> Mount | None:
    """The mount ``path`` (absolute, symlinks resolved) is on: the longest mount point that is ``path`` or a folder
    above it, the last mounted of equals."""
    best: Mount | None = None
    for mount in mounts:
        point = mount.mount_point.rstrip("/") or "/"
        inside = path == point or path.startswith(point + "/") or point == "/"
        if inside and (best is None or len(point) >= len(best.mount_point.rstrip("/") or "/")):
            best = mount
    return best


def existing_folder(path: str) -> str:
    """The store's folder, or the nearest folder above it that exists (a new store's folders are made later),
    with symlinks resolved: the file system the store will be on."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return os.path.realpath(folder)


def check_filesystem(path: str, mountinfo: str | None = None) -> None:
    """Refuse a store whose folder is on a file system of UNSAFE_TYPES; say nothing where it cannot be told.

    ``mountinfo`` is the text of /proc/self/mountinfo (read here when not given: tests pass their own).
    """
    if mountinfo is None:
        try:
            with open(MOUNTINFO, encoding="utf-8", errors="surrogateescape") as handle:
                mountinfo = handle.read()
        except OSError:
            return  # not Linux (or no /proc): no way to tell the file system's type, so no check
    folder = existing_folder(path)
    mount = mount_of(folder, parse_mountinfo(mountinfo))
    if mount is None or mount.fstype.lower() not in UNSAFE_TYPES:
        return
    raise StoreError(
        f"store {path}: is on a {mount.fstype} file system ({mount.source} mounted at {mount.mount_point}), where "
        "SQLite's WAL mode, which the store uses, is not safe: its locks and shared-memory index do not hold across "
        "a network or shared file system, and the store could be corrupted or lose changes; nothing was read or "
        "written. Put the store on a local file system (the store option or AZSIM_VMSS_STORE: a local disk, or a "
        "container volume backed by one; docs/awx.md), or serve it with the Azure endpoint from a host where it is "
        "local (docs/azure-endpoint.md)"
    )
