# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: keep the store's state in a snapshot file, or bring a snapshot back (issue 11 item 2).

The file work (backup API, checks of the snapshot file, the atomic replace, the restore of the rows) is
``_store.snapshot``'s; this decides what a call does and what it returns. ``before`` and ``after`` are
summaries with a digest of everything the state holds, so that taking a snapshot that ``dest`` already
holds, or restoring the state the store already has, changes nothing and writes nothing.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput, StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._store import snapshot
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import MIGRATIONS

SnapshotState = Literal["present", "restored"]


class SnapshotResult(Outcome, total=False):
    snapshot: dict[str, Any]
    store: dict[str, Any]


def store_snapshot(
    call: Call, *, state: SnapshotState = "present", dest: str | None = None, src: str | None = None
) -> SnapshotResult:
    """``present``: ``dest`` holds the store's committed state. ``restored``: the store holds ``src``'s state."""
    if state == "present":
        if src is not None:
            raise InvalidInput("src: only with state restored; state present takes dest", option="src")
        return _take(call, dest)
    if state == "restored":
        if dest is not None:
            raise InvalidInput("dest: only with state present; state restored takes src", option="dest")
        return _restore(call, src)
    raise InvalidInput(f"state: {state!r} is not allowed; use present or restored", option="state")


def _take(call: Call, dest: str | None) -> SnapshotResult:
    store = call.store
    path = snapshot.resolve(dest, "dest", store.path)
    if store.created:
        raise StoreError(
            f"store {store.path}: does not exist; nothing was created and no snapshot written. Point the store option "
            "or AZSIM_VMSS_STORE at the store to keep"
        )
    source = snapshot.read_committed(store.path)
    try:
        live = snapshot.summary(source)
    finally:
        source.close()
    existing = None
    if snapshot.exists(path):
        # Only a snapshot (or store) of this collection is ever replaced: any other file is left alone.
        snapshot.check_file(path, max(MIGRATIONS))
        held = snapshot.load_unmigrated(path)
        try:
            existing = snapshot.summary(held)
        finally:
            held.close()
    if existing != live and not call.check_mode:
        snapshot.write(store.path, path)
    return {
        "snapshot": {"path": path, **live},
        "store": live,
        "before": {"snapshot": existing},
        "after": {"snapshot": live},
    }


def _restore(call: Call, src: str | None) -> SnapshotResult:
    store = call.store
    path = snapshot.resolve(src, "src", store.path)
    if not snapshot.exists(path):
        raise InvalidInput(
            f"src: {path} does not exist; give the path of a snapshot taken with state present", option="src"
        )
    source = snapshot.load(path)
    try:
        wanted = snapshot.summary(source)
        store.write_events()  # the rows below are read and replaced with SQL, not through the queue
        current = None if store.created else snapshot.summary(store.conn)
        if current != wanted:
            snapshot.replace_contents(store.conn, source, path)  # the call's transaction commits it, or not at all
    finally:
        source.close()
    return {
        "snapshot": {"path": path, **wanted},
        "store": wanted,
        "before": {"store": current},
        "after": {"store": wanted},
    }
