# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A store whose connections a server keeps across requests (``_front/arm/storepool.py``).

Apart from ``store.py`` because only the ARM endpoint keeps connections: a module opens one per call, and
AnsiballZ packs (and the module's process compiles) every file a module's imports name, so what only the
endpoint needs is not in the file every module imports (issue 14).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._store.files import HOLDING, damaged, disk_error, hold
from ansible_collections.azsim.vmss.plugins.module_utils._store.reading import (
    BUSY_TIMEOUT_MS,
    _check_schema,
    _newest,
    _release_if,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.sidecars import check_sidecar_types
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store


class KeptStore(Store):
    """A ``Store`` opened with ``KeptStore.open(path, shared=True)``: more connections to the same file, read
    transactions that take no lock, and a check that the path still holds the file it opened."""

    def another(self) -> KeptStore:
        """One more connection to the file this (open) Store checked, for a server that keeps several.

        None of ``open``'s checks that read the store's files is made again: closing any descriptor of a file
        drops every POSIX lock this process holds on it, those of SQLite's connections already open included
        (the endpoint's readers then failed with "disk I/O error"). What a path can change into meanwhile is
        checked without opening anything: the same file (``unchanged_on_disk``) and sidecars that are regular
        files of this user; the schema is checked again in each transaction.
        """
        if not self.unchanged_on_disk():
            raise StoreError(f"store {self.path}: was removed or replaced; open it again")
        check_sidecar_types(self.path)
        with HOLDING:
            held = hold(self.path)
        try:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=not self._shared
            )
        except sqlite3.Error as exc:
            _release_if(held)
            raise disk_error(self.path, exc) or damaged(self.path, exc) from None
        store = KeptStore(self.path, conn)
        store._held = held
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            store.close()
            raise disk_error(self.path, exc) or damaged(self.path, exc) from None
        store._steps, store._inode, store._dev, store._shared = self._steps, self._inode, self._dev, self._shared
        store._pending = self._pending
        return store

    @contextlib.contextmanager
    def read_transaction(self) -> Iterator[Store]:
        """A transaction that only reads: ``BEGIN DEFERRED``, always rolled back.

        In WAL mode a reader takes no lock that a writer waits for, nor waits for one: it reads the last
        committed state as of its first read, whatever writers do meanwhile. For a call that writes nothing
        (an ARM GET); a call that may write, even to throw it away (check mode), needs ``transaction()``,
        since a deferred transaction that turns into a writer after another one committed fails at once with
        "database is locked" instead of waiting. A store still to be migrated is read as ``transaction``
        reads it (the migration inside, rolled back).
        """
        if self._pending:
            with self.transaction(commit=False):
                yield self
            return
        try:
            self.conn.execute("BEGIN DEFERRED")
            self._still_there()
            # What a kept connection cannot see at open: another program may have changed the schema since.
            _check_schema(self.path, self.conn, _newest(self._steps))
        except sqlite3.OperationalError as exc:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise disk_error(self.path, exc) or damaged(self.path, exc) from None
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise
        try:
            self._now, self._now_dirty = None, False
            self._in_transaction = True
            yield self
        finally:
            self._in_transaction = False
            self._now, self._now_dirty = None, False
            self.extras.clear()
            self.before_commit.clear()
            with contextlib.suppress(sqlite3.Error):  # a failed statement may have ended it already
                self.conn.execute("ROLLBACK")

    def unchanged_on_disk(self) -> bool:
        """The path still holds the regular file this Store opened, this user's and writable by no one else.

        One ``lstat``: what a connection kept across calls checks before each one. When it is False the
        connection is dropped and the path opened again, with every check of ``open`` and its message.
        """
        try:
            st = os.lstat(self.path)
        except OSError:
            return False
        return (
            stat.S_ISREG(st.st_mode)
            and st.st_ino == self._inode
            and st.st_dev == self._dev
            and st.st_uid == os.geteuid()
            and not st.st_mode & 0o022
        )
