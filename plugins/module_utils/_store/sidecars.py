# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SQLite's sidecar files (-wal, -journal, -shm) are part of the store: one that is not a regular file, or
that does not belong to the main file, is refused before SQLite opens anything, leaving both untouched.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._store.files import check_owner

SIDECARS = ("-wal", "-shm", "-journal")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_sidecar_types(path: str) -> None:
    """SQLite's -wal, -shm and -journal must be plain files: a FIFO would block the open forever, a
    directory or a device fails later with a misleading error, a symlink writes wherever it points."""
    for side in SIDECARS:
        try:
            st = os.lstat(path + side)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreError(f"store {path}: its sidecar {path}{side} cannot be examined ({exc.strerror})") from None
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(
                f"store {path}: blocked sidecar {path}{side} ({_kind(st.st_mode)}, not a regular file); the store "
                f"was left untouched. Remove {path}{side} (SQLite makes its own), or point the store option elsewhere"
            )
        check_owner(path, path + side, st)


def check_sidecars_belong(path: str) -> None:
    """Refuse a -journal or -wal that SQLite would replay into the store but that is not the store's own
    (``sidecar_logs.check_logs_belong``). Without either file there is nothing SQLite could replay.
    """
    if not (os.path.lexists(path + "-journal") or os.path.lexists(path + "-wal")):
        return
    # Imported only when there is a log to read: a store left closed has none, and every module call opens
    # one and compiles what it imports (issue 14); AnsiballZ still packs sidecar_logs.py for every module.
    from ansible_collections.azsim.vmss.plugins.module_utils._store.sidecar_logs import check_logs_belong  # pylint: disable=import-outside-toplevel

    check_logs_belong(path)
