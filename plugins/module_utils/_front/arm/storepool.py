# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint's store connections, kept across requests: one writer at a time, readers side by side.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.

A module process opens the store once per call; the endpoint used to do the same per request, and that was
most of its time (bench/arm_endpoint.py: 2.6 ms per open: the file, sidecar and file-system checks, the
connection, and a ``BEGIN IMMEDIATE`` of its own to check the schema). Here the writer's connection is opened
with every check of ``Store.open`` and kept; the readers are more connections to the file it checked
(``KeptStore.another``: ``open``'s checks read the store's files, and closing them would drop the locks of the
connections already open). Before each request one ``lstat`` makes sure that the path still holds that file,
this user's and writable by no one else, and the transaction checks the schema again (another program may have
changed both since). When the file changed, every connection is dropped and the path opened anew, so a
replaced, removed or foreign file is refused with ``Store.open``'s own message.

Every request is still one transaction (docs/reliability.md). A write is ``BEGIN IMMEDIATE`` as a module's,
on the one writer connection, behind a lock: the endpoint's writers queue here in order instead of each
polling SQLite's busy handler (which sleeps up to 100 ms between tries); other processes' writers (modules)
still meet them at SQLite's lock and its busy timeout. A read is a deferred transaction on a reader
connection that refuses writes (``PRAGMA query_only``): in WAL mode it neither takes nor waits for a lock.

The write-ahead log is kept short. SQLite checkpoints it after COMMIT, but it can only start the log over when
no reader is using it, and under a constant stream of GETs some reader always is: the ``-wal`` file then grows
with every write, for as long as the endpoint runs (12 MB after 3,000 small writes under four polling
threads, against 4 MB without them). So when a write leaves the log past ``wal_limit`` bytes, new reads wait
at a gate while the ones running finish (they take milliseconds), the log is checkpointed and truncated, and
the gate opens. The checkpoint never waits on another process (busy timeout 0 for it): a module holding the
store is not waited for, and the next write tries again.

``version()`` tells, without a transaction, whether the store may have changed since it was last asked. SQLite's
``PRAGMA data_version`` of a connection changes whenever any other connection commits (this endpoint's writer,
other processes' modules); its values are the connection's own, so a reader that sees its value change since it
last looked (or looks for the first time) moves the pool's epoch on, and the version is the epoch with the pool's
generation (the file opened anew). A program that writes the file in place without SQLite's locks is not seen,
as SQLite's own page cache does not see it either (it trusts the WAL index the same way). The check runs
on an idle reader, with no lock held across it: one connection shared for it was a lock that every GET queued at
(its holder gives up the GIL in SQLite and waits to get it back). The endpoint keeps GET answers under the
version (answers.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator

from ansible_collections.azsim.vmss.plugins.module_utils._store.kept_store import KeptStore
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import BUSY_TIMEOUT_MS

# Four times the log SQLite's own checkpoints settle at (1,000 pages of 4 KiB), so that the gate closes only
# when those checkpoints are being starved, not after every burst of writes.
WAL_LIMIT = 16 * 1024 * 1024
DRAIN_WAIT_S = 2.0  # the longest new reads wait for the running ones; past it, no checkpoint this time


def _checkpoint(store: KeptStore) -> None:
    """``wal_checkpoint(TRUNCATE)`` without waiting: busy (another process reads or writes) is left for later."""
    conn = store.conn
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError:
        pass  # locked: the next write tries again
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


class StorePool:
    """Connections to the store at ``path``, kept until ``close``; safe to use from any number of threads."""

    def __init__(self, path: str, wal_limit: int = WAL_LIMIT) -> None:
        self.path = path
        self.wal_limit = wal_limit
        self._gate = threading.Condition()  # the reads under way, and whether new ones wait for a checkpoint
        self._reading = 0
        self._draining = False
        self._guard = threading.Lock()  # the idle readers, the generation and the closed flag
        self._writing = threading.Lock()  # held for a whole write transaction: one writer of this process
        self._writer: KeptStore | None = None
        self._idle: list[KeptStore] = []  # readers, the most recently used last (its pages are the warmest)
        self._generation = 0  # of the writer; a reader of an older one is closed when it comes back
        self._closed = False
        self._epoch = 0  # moved on by version() when a reader sees another connection's commit
        self._seen: weakref.WeakKeyDictionary[KeptStore, int] = weakref.WeakKeyDictionary()  # data_version seen

    @contextlib.contextmanager
    def write(self, commit: bool = True) -> Iterator[KeptStore]:
        """One write transaction (``Store.transaction``), after every other write of this endpoint."""
        with self._writing:
            store = self._anchor()
            try:
                with store.transaction(commit=commit):
                    yield store
                if commit:
                    self._shorten_log(store)
            finally:
                if self._writer is not store:
                    store.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[KeptStore]:
        """One read transaction (``KeptStore.read_transaction``); a write in it fails ("readonly database")."""
        store, generation = self._take()
        try:
            with self._gate:
                while self._draining:
                    self._gate.wait()
                self._reading += 1
            try:
                with store.read_transaction():
                    yield store
            finally:
                with self._gate:
                    self._reading -= 1
                    self._gate.notify_all()
        finally:
            self._give_back(store, generation)

    def version(self) -> tuple[int, int] | None:
        """A value that differs after every change to the store's content, by anyone; None when it cannot be told
        (the transaction that follows meets the trouble, opens the path again or refuses it, and answers it).

        Whatever commits before this is called moves the epoch on before it returns: the first look after that
        commit of any reader sees its data_version changed (or is its first look, which moves it on too). A
        transaction begun after it sees that commit, so an answer computed after asking belongs to this version
        or a later one, never an earlier one.
        """
        try:
            store, generation = self._take()  # its lstat: the path still holds the file, safe
        except Exception:  # pylint: disable=broad-except  # the transaction that follows meets it and answers it
            return None
        try:
            changes = store.conn.execute("PRAGMA data_version").fetchall()[0][0]
        except sqlite3.Error:
            store.close()
            return None
        with self._guard:
            if self._seen.get(store) != changes:
                self._seen[store] = changes
                self._epoch += 1
            epoch = self._epoch
        self._give_back(store, generation)
        return generation, epoch

    def _shorten_log(self, store: KeptStore) -> None:
        """Checkpoint and truncate the ``-wal`` once it is past ``wal_limit``, with this process's reads held
        off. Called holding ``_writing``, after COMMIT."""
        try:
            size = os.stat(self.path + "-wal").st_size
        except OSError:
            return
        if size <= self.wal_limit:
            return
        with self._gate:
            self._draining = True
            try:
                if self._gate.wait_for(lambda: self._reading == 0, timeout=DRAIN_WAIT_S):
                    _checkpoint(store)
            finally:
                self._draining = False
                self._gate.notify_all()

    def close(self) -> None:
        """Close every connection now, or (one in use) when its request ends; later requests open their own."""
        with self._writing:
            with self._guard:
                self._closed = True
                idle, self._idle = self._idle, []
                self._generation += 1
            for reader in idle:
                reader.close()
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def _anchor(self) -> KeptStore:
        """The writer, opened again (readers dropped first) if its file changed. Called holding ``_writing``."""
        store = self._writer
        if store is not None and store.unchanged_on_disk():
            return store
        self._writer = None
        with self._guard:
            idle, self._idle = self._idle, []
            self._generation += 1
        for reader in idle:  # before Store.open reads the file: their locks would go with its descriptors
            reader.close()
        if store is not None:
            store.close()
        store = KeptStore.open(self.path, shared=True)
        if not self._closed:
            self._writer = store
        return store

    def _take(self) -> tuple[KeptStore, int]:
        with self._guard:
            store = self._idle.pop() if self._idle else None
            generation = self._generation
        if store is not None:
            if store.unchanged_on_disk():
                return store, generation
            store.close()
        with self._writing:
            anchor = self._anchor()
            with self._guard:
                generation = self._generation
            store = anchor.another()
            if anchor is not self._writer:
                anchor.close()
        try:
            store.conn.execute("PRAGMA query_only = ON")
        except BaseException:
            store.close()
            raise
        return store, generation

    def _give_back(self, store: KeptStore, generation: int) -> None:
        with self._guard:
            if not self._closed and generation == self._generation:
                self._idle.append(store)
                return
        store.close()
