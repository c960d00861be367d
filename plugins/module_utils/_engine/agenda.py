# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's agenda: its own heap of timed actions, and the one ``run_step`` event that wakes it.

The store's event queue holds one ``run_step`` event per run, at the agenda's earliest time, so runs of
different scale sets interleave in time order while each run is loaded once per call.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import heapq
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import AgendaAction, Run
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

EVENT_KIND = "run_step"


def run_subject(key: str, run_id: int) -> str:
    return f"{key}/rollingupgrades/{run_id}"


def push(run: Run, when: int, action: AgendaAction, ids: list[Any]) -> None:
    run["seq"] += 1
    heapq.heappush(run["agenda"], [when, run["seq"], action, ids])


def wake(store: Store, key: str, run: Run) -> None:
    """Keep exactly one run_step event in the store's queue, at the agenda's earliest time."""
    run_id = run["run_id"]
    agenda = run["agenda"]
    due = agenda[0][0] if agenda else None
    store.reschedule_event(run_subject(key, run_id), EVENT_KIND, due, {"scale_set": key, "run_id": run_id})
