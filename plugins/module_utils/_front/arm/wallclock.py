# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clock mode ``scaled``: the one place wall time enters the simulator (design.md, "Azure endpoint", Start).

Before each request the endpoint moves the virtual clock by the wall time elapsed since it started (or
last did so) times ``scale`` (virtual seconds per wall second), through the same ``move_clock`` action
as the ``sim_clock`` module, so the deterministic core never reads the wall clock. The virtual clock
counts whole seconds: the fraction not yet moved is carried to the next request, never lost. The wall
clock is a function given in (``time.monotonic`` by default), so tests drive it by hand.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

# Past a century per wall second the arithmetic is meaningless and one request could run years of events.
MAX_SCALE = 3_153_600_000.0


def check_scale(scale: float) -> float:
    """``scale`` if it is a usable number of virtual seconds per wall second, else ValueError naming it."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
        raise ValueError(f"clock_scale: {scale!r} is not a number; give virtual seconds per wall second, e.g. 60")
    if not 0 < scale <= MAX_SCALE:
        raise ValueError(f"clock_scale: {scale} is not allowed; give a number above 0 and at most {MAX_SCALE:.0f}")
    return float(scale)


class ScaledClock:
    """How far the virtual clock is owed, and the lock that keeps two requests from paying it twice."""

    def __init__(self, scale: float, wall: Callable[[], float] = time.monotonic) -> None:
        self.scale = check_scale(scale)
        self._wall = wall
        self._synced = wall()
        self._lock = threading.Lock()

    def sync(self, advance: Callable[[int], object]) -> int:
        """Call ``advance(seconds)`` with the whole virtual seconds owed (if any); returns them.

        If ``advance`` raises, nothing counts as paid and the next request owes the time again.
        """
        with self._lock:
            now = self._wall()
            seconds = int((now - self._synced) * self.scale)
            if seconds <= 0:
                return 0
            advance(seconds)
            self._synced += seconds / self.scale
            return seconds
