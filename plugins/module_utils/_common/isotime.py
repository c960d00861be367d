# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ISO 8601 timestamps and durations on integer seconds of virtual time.

Virtual time is whole seconds since the Unix epoch, UTC. Durations are the ISO 8601 forms Azure
uses (``PT5M``, ``PT0S``, ``P63D``); months and years are refused because their length is not fixed.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$",
    re.ASCII,
)
_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
# Durations longer than this are refused: nothing in a rollout needs them, and huge ones overflow dates.
MAX_DURATION = 100 * 366 * 86400
# The last instant an ISO 8601 timestamp with a four-digit year can name: 9999-12-31T23:59:59Z.
MAX_TIME = 253402300799


def parse_duration(value: object, where: str) -> int:
    """Seconds in an ISO 8601 duration such as ``PT5M``; ``where`` names the option for errors."""
    if not isinstance(value, str) or not _DURATION.match(value.strip().upper()):
        raise InvalidInput(
            f"{where}: {value!r} is not an ISO 8601 duration; use a form like PT0S, PT30M, PT3H or P63D "
            "(weeks, days, hours, minutes, seconds; no months or years)"
        )
    match = _DURATION.match(value.strip().upper())
    if match is None:  # pragma: no cover - matched just above
        raise AssertionError("duration pattern did not match twice")
    total = sum(int(n) * _UNITS[unit] for unit, n in match.groupdict().items() if n)
    if total > MAX_DURATION:
        raise InvalidInput(f"{where}: {value!r} is longer than 100 years, which is not allowed")
    return total


def format_duration(seconds: int) -> str:
    """The shortest ISO 8601 form of a non-negative number of seconds (``PT0S`` for zero)."""
    if seconds < 0:
        raise ValueError("negative duration")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    if clock or not days:
        out += "T" + (clock or "0S")
    return out


def parse_timestamp(value: object, where: str) -> int:
    """Seconds since the epoch of an ISO 8601 timestamp with a zone (``2025-01-01T03:00:00Z``)."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value.strip()):
        raise InvalidInput(
            f"{where}: {value!r} is not an ISO 8601 UTC timestamp; use a form like 2025-01-01T03:00:00Z"
        )
    text = value.strip()
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{where}: {value!r} is not a valid date and time ({exc})") from None
    seconds = int(parsed.timestamp())
    if not 0 <= seconds <= MAX_TIME:
        raise InvalidInput(f"{where}: {value!r} is outside the years 1970 to 9999 (UTC) that the simulator's clock covers")
    return seconds


def format_timestamp(seconds: int) -> str:
    """``2025-01-01T03:00:00Z`` for a virtual time."""
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
