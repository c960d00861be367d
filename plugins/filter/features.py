# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for feature and provider registrations (azsim.vmss.feature_registration).

- ``feature_registration_timeline``: the registration events as lines, time, event and the state it reached.

The documentation of each filter is in the ``<filter>.yml`` file beside this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible_collections.azsim.vmss.plugins.plugin_utils._filter_input import expects
from ansible_collections.azsim.vmss.plugins.plugin_utils._tables import align


def _event_rows(events: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """One row per event, oldest first: HH:MM, type, the state the feature or provider reached ('' if none)."""
    return [
        [str(e["time"])[11:16], str(e["type"]), str(e.get("state", e.get("registrationState", "")))] for e in events
    ]


@expects("the events list of azsim.vmss.feature_registration (each with time and type)")
def feature_registration_timeline(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """The events as aligned lines: time, event type, state."""
    return align(_event_rows(events))


class FilterModule:
    """Feature registration timelines."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"feature_registration_timeline": feature_registration_timeline}
