# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failed instances of a run, found without scanning its whole outcome at every batch end (issue 14).

azure-behaviour-2 ER-6: a run going on with failed instances names every one of them in its error, and the
orchestrator asks again after each instance's outcome; on a 100,000-instance scale set, scanning the outcome
each time was 8% of the run. A result turns into a failure only within its own batch, while that batch is the
current one (a restore that fails it, a deadline, a failed surge), and it stays a failure: a breach rollback
turns ``failed`` into ``rolled_back`` or ``rollback_failed`` (both FAILED_RESULTS), and a cancel or a finish
drops only outcomes still in progress. So the failed ids of the ended batches are gathered once per store
transaction, each batch when it has ended.

The batch in flight is read once per transaction too, unless it starts in it (``RunFailures.started``); from then
on the orchestrator tells every result it decides (``RunFailures.note``). What is gathered lives in
``store.extras`` (forgotten when the transaction ends, as the fleet's loaded runs are), keyed by the run document
itself: the fleet hands the same dict to every step of a call.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import (
    FAILED_RESULTS,
    Outcome,
    OutcomeResult,
    Run,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

_EXTRAS_KEY = "run_failures"


class RunFailures:
    """One run's failed ids, as far as gathered in this transaction."""

    __slots__ = ("current", "current_ids", "ended", "ended_ids", "run")

    def __init__(self, run: Run) -> None:
        self.run = run  # held so that the key, the run's id(), is not reused by another dict meanwhile
        self.ended = 0  # how many of the run's first batches are ended and gathered in ``ended_ids``
        self.ended_ids: list[str] = []  # their failed instance ids, in instance-id order
        self.current = -1  # the index (from 0) of the batch ``current_ids`` follows; -1: none
        self.current_ids: set[str] = set()  # its failed ids, kept by ``note``

    def _forget(self) -> None:
        self.ended, self.ended_ids, self.current, self.current_ids = 0, [], -1, set()

    def ids(self) -> list[str]:
        """The ids whose outcome in the run is a failure (FAILED_RESULTS), in instance-id order: the list a scan of
        ``run["outcome"]`` gives (run_checks.failed_of), without the scan."""
        self._gather_ended()
        batches = self.run["batches"]
        outcome = self.run["outcome"]
        current = self.ended
        if current >= len(batches):
            return list(self.ended_ids)
        if self.current != current:
            self.current, self.current_ids = current, set(_failed_in(outcome, batches[current]["instances"]))
        # A batch is current until it ends, and only one at a time; any later one is scanned (none is expected).
        later = [iid for batch in batches[current + 1 :] for iid in _failed_in(outcome, batch["instances"])]
        if not self.current_ids and not later:
            return list(self.ended_ids)
        return sorted([*self.ended_ids, *self.current_ids, *later], key=int)

    def _gather_ended(self) -> None:
        """Add the failed ids of the batches ended since last asked to ``ended_ids``: those ``note`` followed as it
        went, the others read from the outcome."""
        batches = self.run["batches"]
        if self.ended > len(batches):  # a batch gathered was taken back: start again
            self._forget()
        if self.ended < len(batches) and batches[self.ended]["end"] is not None:
            ids = list(self.ended_ids)
            while self.ended < len(batches) and batches[self.ended]["end"] is not None:
                if self.current == self.ended:
                    ids += self.current_ids
                    self.current, self.current_ids = -1, set()
                else:
                    ids += _failed_in(self.run["outcome"], batches[self.ended]["instances"])
                self.ended += 1
            self.ended_ids = sorted(ids, key=int)

    def started(self, index: int) -> None:
        """Batch ``index`` (from 1) starts: nothing in it failed yet, and ``note`` follows it from now on."""
        self._gather_ended()  # the batch followed until now ended before this one started
        self.current, self.current_ids = index - 1, set()

    def note(self, iid: str, result: OutcomeResult) -> None:
        """``iid``'s outcome became ``result``: keep what is gathered true to it. Called for every result decided."""
        failed = result in FAILED_RESULTS
        if not failed and not self.current_ids and not self.ended_ids:
            return  # nothing gathered that it could change
        batch = self.run["outcome"][iid]["batch"] - 1
        if batch == self.current:
            if failed:
                self.current_ids.add(iid)
            else:
                self.current_ids.discard(iid)
        elif batch < self.ended and failed != (iid in self.ended_ids):
            # Not expected (a result turns into a failure only in its own batch, and stays one): followed all the same.
            self.ended_ids = sorted({*self.ended_ids, iid} - (set() if failed else {iid}), key=int)
        # A batch not followed yet (``current`` is another) is read whole when ``ids`` comes to it.


def run_failures(store: Store, run: Run) -> RunFailures:
    """The run's failed ids for this transaction: the same object at every step of the run in it."""
    memo: dict[int, RunFailures] = store.extras.setdefault(_EXTRAS_KEY, {})
    found = memo.get(id(run))
    if found is None or found.run is not run:
        found = memo[id(run)] = RunFailures(run)
    return found


def _failed_in(outcome: dict[str, Outcome], instances: list[str]) -> list[str]:
    """The failed ones of a batch's ids; an id without an outcome (dropped when its run ended) has not failed."""
    return [iid for iid in instances if (o := outcome.get(iid)) is not None and o["result"] in FAILED_RESULTS]
