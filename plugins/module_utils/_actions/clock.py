# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: read the virtual clock, or move it forward and report what the platform did meanwhile.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import (
    format_timestamp,
    parse_duration,
    parse_timestamp,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance as advance_clock


class ClockResult(Outcome):
    now: str
    previous: str
    events: list[dict[str, Any]]


def move_clock(call: Call, *, advance: str | None = None, to: str | None = None) -> ClockResult:
    """Advance by a duration, or to a timestamp, or (neither) just read the clock."""
    store = call.store
    if advance is not None and to is not None:
        raise InvalidInput("advance and to are mutually exclusive; give one of them, or neither to read the clock")
    before = store.now()
    if advance is not None:
        target = before + parse_duration(advance, "advance")
    elif to is not None:
        target = parse_timestamp(to, "to")
        if target < before:
            raise InvalidInput(
                f"to: {to} is before the virtual clock's now ({format_timestamp(before)}); the clock only moves forward"
            )
    else:
        target = before
    events = advance_clock(store, target) if target > before else []
    return {
        "before": {"now": format_timestamp(before)},
        "after": {"now": format_timestamp(store.now())},
        "now": format_timestamp(store.now()),
        "previous": format_timestamp(before),
        "events": events,
    }
