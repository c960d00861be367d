# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The virtual clock: moving it runs every due event, in time order, at its own time.

Work that happens "later" (a feature finishing registration, a platform rollout starting, a batch
ending) is an event in the store's queue. ``advance_to`` pops events one at a time, sets the clock
to each event's due time before its handler runs, and lets handlers schedule further events, which
run in the same call when they fall due before the target. The clock never reads the wall clock.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import MAX_TIME, format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store


class Event:
    """One due piece of work handed to its handler."""

    __slots__ = ("seq", "due", "kind", "subject", "payload")

    def __init__(self, seq: int, due: int, kind: str, subject: str, payload: dict[str, Any]) -> None:
        self.seq = seq
        self.due = due
        self.kind = kind
        self.subject = subject
        self.payload = payload


# A handler does the event's work and returns what it reports: dicts {type, subject, ...} for sim_clock.
Handler = Callable[[Store, Event], list[dict[str, Any]]]

# Safety net against a handler that keeps rescheduling itself at the same instant.
MAX_EVENTS_PER_CALL = 5_000_000


def advance_to(
    store: Store, target: int, handlers: dict[str, Handler], stop: Callable[[], bool] | None = None
) -> list[dict[str, Any]]:
    """Run every event due up to ``target`` and leave the clock at ``target``.

    ``stop`` is asked after each event: when it says True the clock stays at that event's time
    (``wait: true`` advances "until the run ends", not to a fixed instant).
    """
    now = store.now()
    if target > MAX_TIME:
        raise InvalidInput(
            f"the virtual clock cannot go past {format_timestamp(MAX_TIME)}; it is {format_timestamp(now)}"
        )
    if target < now:
        raise InvalidInput(
            f"the virtual clock cannot go back: it is {format_timestamp(now)}, the target is {format_timestamp(target)}"
        )
    reports: list[dict[str, Any]] = []
    # The events of one instant share its clock and its timestamp: a fleet's advance runs thousands of events at
    # each instant, and formatting the time anew for each of their reports was a cost per event (issue 14).
    stamped, stamp = now, format_timestamp(now)
    pop_event = store.pop_event
    for _count in range(MAX_EVENTS_PER_CALL):
        item = pop_event(target)
        if item is None:
            break
        seq, due, kind, subject, payload = item
        if due > now:
            store.set_now(due)
            now = due
        handler = handlers.get(kind)
        if handler is None:
            raise InvalidInput(f"the store holds an event of unknown kind {kind!r}; it needs a newer azsim.vmss")
        found = handler(store, Event(seq, due, kind, subject, payload))
        if found:
            at = store.now()  # only this loop moves the clock; asked all the same, as each report's time
            if at != stamped:
                stamped, stamp = at, format_timestamp(at)
            reports += [{"time": stamp, **report} for report in found]
        if stop is not None and stop():
            return reports
    else:
        raise InvalidInput(f"more than {MAX_EVENTS_PER_CALL} events fell due in one call; the simulation is looping")
    store.set_now(target)
    return reports
