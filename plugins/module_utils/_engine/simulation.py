# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving the simulated world forward: the clock with every registered event handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import advance_to
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._engine.handlers import HANDLERS
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import (
    format_timestamp,
    parse_duration,
    parse_timestamp,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store


def advance(store: Store, target: int, stop: Callable[[], bool] | None = None) -> list[dict[str, Any]]:
    return advance_to(store, target, HANDLERS, stop)


def move_clock(store: Store, advance_by: str | None, to: str | None) -> dict[str, Any]:
    """The sim_clock module: advance by a duration, or to a timestamp, or just read the clock."""
    if advance_by is not None and to is not None:
        raise InvalidInput("advance and to are mutually exclusive; give one of them, or neither to read the clock")
    before = store.now()
    if advance_by is not None:
        target = before + parse_duration(advance_by, "advance")
    elif to is not None:
        target = parse_timestamp(to, "to")
        if target < before:
            raise InvalidInput(
                f"to: {to} is before the virtual clock's now ({format_timestamp(before)}); the clock only moves forward"
            )
    else:
        target = before
    events = advance(store, target) if target > before else []
    return {
        "before": {"now": format_timestamp(before)},
        "after": {"now": format_timestamp(store.now())},
        "now": format_timestamp(store.now()),
        "previous": format_timestamp(before),
        "events": events,
    }
