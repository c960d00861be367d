# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale sets and instances held in memory for the length of one module call.

Moving the clock through a long run handles many events of the same scale set; reading and writing
its (possibly 100,000) instances at every event would dominate. The fleet loads each scale set once
per call, hands out the same dicts to every handler, and writes back what changed just before the
call's transaction commits. In check mode nothing is written.

Instances are written back row by row, and only the rows marked as changed: the code that changes an
instance says so (``changed``, ``removed``), so a call that moves one batch of a 1,000-instance scale set
encodes and rewrites that batch, not the scale set, and nothing is kept per instance to find out what
changed (issue 14). A change left unmarked would be lost at commit; with ``AZSIM_VMSS_VERIFY_MARKS=1``
(the unit tests set it; production and the benchmarks do not) every flush also compares each loaded
instance with its stored row and raises on any difference, so a missing mark fails the tests.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import os
from typing import cast

from ansible_collections.azsim.vmss.plugins.module_utils._model import scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import count_unhealthy, is_unhealthy
from ansible_collections.azsim.vmss.plugins.module_utils._model.instance_text import instance_text
from ansible_collections.azsim.vmss.plugins.module_utils._model.loaded_instances import SharedValues
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import is_protected_from_scale_set_actions
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import ACTIVE, Run, RunKind, is_active
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store


class Fleet:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._records: dict[str, Record | None] = {}
        self._instances: dict[str, list[Instance]] = {}
        self._dirty: set[str] = set()
        # The ids of instances changed since the load (``changed``; the instance's own id string, so a mark costs a
        # set entry) and of rows to delete (``removed``).
        self._changed: dict[str, set[str]] = {}
        # Marks already taken into ``_unhealthy`` by ``unhealthy_count`` (moved out of ``_changed``: see there), still
        # to write at commit, and each counted scale set's unhealthy instance ids as of its last count.
        self._counted: dict[str, set[str]] = {}
        self._unhealthy: dict[str, set[str]] = {}
        self._removed: dict[str, set[int]] = {}
        self._verify = os.environ.get(VERIFY_MARKS) == "1"
        self._by_id: dict[str, dict[str, Instance]] = {}
        self._shared = SharedValues()
        self._runs: dict[tuple[str, int], Run] = {}
        self._dirty_runs: set[tuple[str, int]] = set()
        # Each asked scale set's newest run id (None: no run), the store's and this call's (``latest_run_id``).
        self._latest: dict[str, int | None] = {}

    def record(self, key: str) -> Record | None:
        record = self._records.get(key)  # asked several times at every run step: one lookup when known
        if record is None and key not in self._records:
            record = self._records[key] = cast(Record | None, self.store.get_doc("scale_sets", {"key": key}))
        return record

    def instances(self, key: str) -> list[Instance]:
        if key not in self._instances:
            record = self.record(key)
            names = self._shared.known_names(record["instance_ids"] if record else {})
            instances: list[Instance] = []
            # Read a chunk at a time as the cursor reads, so that only one chunk's texts are alive beside the loaded
            # instances, not all of them (issue 14: the load was 3x the texts). A text in the usual frame is parsed
            # straight into its instance; the others of a chunk are decoded together, which shares the keys' strings
            # across them (about 40% less memory than row by row).
            for texts in self.store.instance_texts(key, LOAD_CHUNK):
                instances.extend(self._shared.load_texts(texts, names))
                del texts
            self._instances[key] = instances
        return self._instances[key]

    def any_instance_behind(self, key: str, version: str) -> bool:
        """Whether an instance not protected from scale-set actions runs another image version than ``version``.

        The call's own instances when it loaded them (they may have changed), else a query that decodes none.
        """
        if key in self._instances:
            return any(
                i["os_disk"]["image_version"] != version and not is_protected_from_scale_set_actions(i)
                for i in self._instances[key]
            )
        return scaleset.any_instance_behind(self.store, key, version)

    def by_id(self, key: str) -> dict[str, Instance]:
        """Instances by instance id; the same dicts as ``instances``."""
        if key not in self._by_id:
            self._by_id[key] = {i["instance_id"]: i for i in self.instances(key)}
        return self._by_id[key]

    def reindex(self, key: str, instance: Instance, old_id: str) -> None:
        """``instance`` got a new instance id (a Replace repair): its old row goes, its new one is written; keep
        ``instances`` in id order, rebuild ``by_id``."""
        self.instances(key).sort(key=lambda i: int(i["instance_id"]))
        self._by_id.pop(key, None)
        self.removed(key, old_id)
        self.changed(key, instance)

    def touch(self, key: str) -> None:
        """The record of ``key`` changed: write it back at commit."""
        self._dirty.add(key)

    def changed(self, key: str, instance: Instance) -> None:
        """``instance`` (one of ``instances(key)``, or one just added to it) changed: write its row at commit."""
        self.marks(key).add(instance["instance_id"])

    def marks(self, key: str) -> set[str]:
        """The ids of ``key``'s instances marked changed so far: a run step adds to it directly (hundreds of
        thousands of marks in a fleet advance), and must not keep it past the step (``flush`` starts anew)."""
        marked = self._changed.get(key)
        if marked is None:
            marked = self._changed[key] = set()
        return marked

    def unhealthy_count(self, key: str) -> int:
        """How many of ``key``'s instances are unhealthy (``count_unhealthy``), counted anew only for the instances
        marked changed since the last count: the pre-batch check asks before every batch (azure-behaviour §3.1),
        and walking all N instances each time was 8% of a 100,000-instance run (issue 14).

        The marks are a set, so an instance marked again after a count would not show as new: a count moves the
        marks it has seen out of ``marks(key)`` (into ``_counted``, written at commit all the same), emptying the
        set in place so that a run step holding it keeps marking into it. An instance that changes unmarked is
        caught by ``VERIFY_MARKS`` twice: here against a full count, and at flush against its stored row.
        """
        marks = self.marks(key)
        by_id = self.by_id(key)
        unhealthy = self._unhealthy.get(key)
        if unhealthy is None:
            unhealthy = self._unhealthy[key] = {i["instance_id"] for i in self.instances(key) if is_unhealthy(i)}
        else:
            for iid in marks:
                instance = by_id.get(iid)
                if instance is not None and is_unhealthy(instance):
                    unhealthy.add(iid)
                else:
                    unhealthy.discard(iid)
        # Deleted instances leave ``by_id`` without a mark of their own (``removed``): drop them here.
        gone = [iid for iid in unhealthy if iid not in by_id]
        unhealthy.difference_update(gone)
        if marks:
            counted = self._counted.get(key)
            if counted is None:
                counted = self._counted[key] = set()
            counted |= marks
            marks.clear()
        if self._verify and len(unhealthy) != count_unhealthy(self.instances(key)):
            raise AssertionError(
                f"fleet: {len(unhealthy)} unhealthy instances of {key} counted from the marks, "
                f"{count_unhealthy(self.instances(key))} in fact: a change was not marked with Fleet.changed"
            )
        return len(unhealthy)

    def removed(self, key: str, instance_id: str) -> None:
        """The instance ``instance_id`` left ``instances(key)``: delete its row at commit."""
        self._removed.setdefault(key, set()).add(int(instance_id))

    def save(self, record: Record, instances: list[Instance] | None = None) -> None:
        """Write the record (and instances) now, and keep them as the call's copy."""
        key = scaleset.record_key(record)
        scaleset.save(self.store, record)
        self._records[key] = record
        if instances is not None:
            self._replace_instances(key, instances)
            self._instances[key] = instances
            self._by_id.pop(key, None)
            self._changed.pop(key, None)
            self._counted.pop(key, None)
            self._unhealthy.pop(key, None)
            self._removed.pop(key, None)

    def delete(self, key: str) -> None:
        """Remove the scale set with everything of it: instances, runs (so its history) and every event under it.

        A scale set created again under the same name then starts empty (design.md, round 2 ``state: absent``):
        no old run is its latest, and no event of an old run wakes to act on the new instances.
        """
        scaleset.delete(self.store, key)
        self.store.delete_docs("runs", {"scale_set": key})
        self.store.cancel_events_under(key)
        self._records[key] = None
        self._instances.pop(key, None)
        self._by_id.pop(key, None)
        self._dirty.discard(key)
        self._changed.pop(key, None)
        self._counted.pop(key, None)
        self._unhealthy.pop(key, None)
        self._removed.pop(key, None)
        for cached in [k for k in self._runs if k[0] == key]:
            del self._runs[cached]
            self._dirty_runs.discard(cached)
        self._latest[key] = None

    # -- runs ----------------------------------------------------------------------------------

    def run(self, key: str, run_id: int) -> Run | None:
        run = self._runs.get((key, run_id))  # asked at every run step: one lookup when known
        if run is None:
            doc = self.store.get_doc("runs", {"scale_set": key, "run_id": run_id})
            if doc is None:
                return None
            run = self._runs[(key, run_id)] = cast(Run, doc)
        return run

    def latest_run_id(self, key: str) -> int | None:
        """The newest run's id: asked of the store once per call and scale set, then kept current by ``add_run``
        (the engine asks it at every run step and every check of a scale set's state)."""
        if key not in self._latest:
            # No run of this call is missed: ``add_run`` asks here before it caches one.
            stored = self.store.conn.execute("SELECT max(run_id) FROM runs WHERE scale_set = ?", (key,)).fetchone()[0]
            self._latest[key] = stored
        return self._latest[key]

    def latest_run(self, key: str) -> Run | None:
        run_id = self.latest_run_id(key)
        return None if run_id is None else self.run(key, run_id)

    def latest_run_active(self, key: str) -> bool:
        """``is_active(latest_run(key))``, without decoding a run this call has not loaded: the platforms ask it of
        every scale set a new image reaches, whose newest run may be a finished one of a thousand instances (a
        document of about 100 KB) that nothing else in the call reads."""
        run_id = self.latest_run_id(key)
        if run_id is None:
            return False
        run = self._runs.get((key, run_id))
        if run is not None:
            return is_active(run)
        row = self.store.conn.execute(
            "SELECT json_extract(doc, '$.status') FROM runs WHERE scale_set = ? AND run_id = ?", (key, run_id)
        ).fetchone()
        return row is not None and row[0] in ACTIVE

    def recent_runs(self, key: str, kind: RunKind, since: int | None = None, limit: int | None = None) -> list[Run]:
        """Runs of one kind, newest first (start, then id), with this call's changes; see Store.recent_runs."""
        found = {doc["run_id"]: cast(Run, doc) for doc in self.store.recent_runs(key, kind, since, limit)}
        for (cached_key, run_id), run in self._runs.items():
            if cached_key == key and run["kind"] == kind and (since is None or run["start"] >= since):
                found[run_id] = run
            elif cached_key == key:
                found.pop(run_id, None)
        newest = sorted(found.values(), key=lambda r: (r["start"], r["run_id"]), reverse=True)
        return newest if limit is None else newest[:limit]

    def add_run(self, key: str, run: Run) -> None:
        latest = self.latest_run_id(key)
        self._runs[(key, run["run_id"])] = run
        self._dirty_runs.add((key, run["run_id"]))
        self._latest[key] = run["run_id"] if latest is None else max(latest, run["run_id"])

    def touch_run(self, key: str, run_id: int) -> None:
        self._dirty_runs.add((key, run_id))

    def flush(self) -> None:
        self.store.put_docs(
            "runs",
            [
                ({"scale_set": key, "run_id": run_id, "kind": run["kind"], "start": run["start"]}, run)
                for key, run_id in sorted(self._dirty_runs)
                for run in [self._runs[(key, run_id)]]
            ],
        )
        self._dirty_runs.clear()
        for key in sorted(self._dirty | self._changed.keys() | self._counted.keys() | self._removed.keys()):
            record = self.record(key)
            if record is None:
                continue
            if key in self._dirty:
                scaleset.save(self.store, record)
            marked = self._changed.get(key, set())
            counted = self._counted.get(key)
            self._write_marked(key, marked | counted if counted else marked, self._removed.get(key, set()))
        self._dirty.clear()
        self._changed.clear()
        self._counted.clear()
        self._removed.clear()
        if self._verify:
            self._verify_marks()

    def _write_marked(self, key: str, marked: set[str], removed: set[int]) -> None:
        """Put the marked instances' rows, delete the removed ids' rows: one statement each. An instance marked and
        then removed (a maxSurge run's old instance) is not written."""
        by_id = self._by_id.get(key)
        if by_id is None or not marked <= by_id.keys():  # ``by_id`` not built, or an instance added beside it
            self._by_id.pop(key, None)
            by_id = self.by_id(key)
        encode = self.store.encode
        # In id order (the rows' key order), sorted as numbers. A generator: each text is encoded as SQLite takes it
        # and dies at once, where a list held a run's 100,000 texts at the peak of the call (issue 14).
        ids = sorted(marked, key=int)
        if removed:
            ids = [iid for iid in ids if int(iid) not in removed]
        changed = (
            (int(iid), instance_text(instance, encode)) for iid in ids if (instance := by_id.get(iid)) is not None
        )
        self.store.write_instances(key, changed, sorted(removed))

    def _replace_instances(self, key: str, instances: list[Instance]) -> None:
        """Make the stored instances of ``key`` exactly ``instances`` (a list built anew, as by the ``vmss``
        module): the rows whose text differs are put and the ids no longer there deleted, one statement each."""
        old = dict(self.store.instance_rows(key))
        encode = self.store.encode
        changed: list[tuple[int, str]] = []
        ids: set[int] = set()
        for instance in instances:
            iid = int(instance["instance_id"])
            ids.add(iid)
            text = instance_text(instance, encode)
            if old.get(iid) != text:
                changed.append((iid, text))
        self.store.write_instances(key, changed, [iid for iid in old if iid not in ids])

    def _verify_marks(self) -> None:
        """``AZSIM_VMSS_VERIFY_MARKS=1``: every loaded scale set's instances are now exactly its stored rows, else
        a change was not marked (``changed``, ``removed``) and would have been lost. Encoded the general way, so
        that it also checks ``instance_text``'s rows."""
        encode = self.store.encode
        for key, instances in sorted(self._instances.items()):
            if self.record(key) is None:
                continue
            stored = dict(self.store.instance_rows(key))
            held = {int(i["instance_id"]): encode(i) for i in instances}
            wrong = sorted(iid for iid in stored.keys() | held.keys() if stored.get(iid) != held.get(iid))
            if wrong:
                raise AssertionError(
                    f"fleet: instances {wrong[:10]} of {key} differ from their stored rows at flush: a change was "
                    "not marked with Fleet.changed or Fleet.removed"
                )


VERIFY_MARKS = "AZSIM_VMSS_VERIFY_MARKS"
# Rows decoded at once when a scale set is loaded (``instances``): big enough to share keys, small next to 100,000.
LOAD_CHUNK = 1_000


def fleet_of(store: Store) -> Fleet:
    """The call's fleet, created on first use."""
    fleet = store.extras.get("fleet")
    if fleet is None:
        fleet = Fleet(store)
        store.extras["fleet"] = fleet
        store.before_commit.append(fleet.flush)
    return fleet
