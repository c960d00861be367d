# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ISO 8601 timestamps and durations on integer seconds of virtual time.

Virtual time is whole seconds since the Unix epoch, UTC. Durations are the ISO 8601 forms Azure
uses (``PT5M``, ``PT0S``, ``P63D``); months and years are refused because their length is not fixed.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import datetime
import functools
import re

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput

# The ISO 8601 durations Azure uses (weeks, days, hours, minutes, seconds; no months or years): the one pattern,
# used here and by the JSON Schemas (``_model.schema``); it ends in (?!\n)$ because jsonschema matches with
# re.search, where a bare $ also matches before a final newline.
DURATION_PATTERN = r"^P(?!$)([0-9]+W)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+S)?)?(?!\n)$"
_DURATION = re.compile(DURATION_PATTERN)
# The numbers of a duration the pattern accepted; M is minutes there, as months are not allowed.
_DURATION_PARTS = re.compile(r"([0-9]+)([WDHMS])")
_UNITS = {"W": 604800, "D": 86400, "H": 3600, "M": 60, "S": 1}
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
# Durations longer than this are refused: nothing in a rollout needs them, and huge ones overflow dates.
MAX_DURATION = 100 * 366 * 86400
# The last instant an ISO 8601 timestamp with a four-digit year can name: 9999-12-31T23:59:59Z.
MAX_TIME = 253402300799


def parse_duration(value: object, where: str) -> int:
    """Seconds in an ISO 8601 duration such as ``PT5M``; ``where`` names the option for errors."""
    if isinstance(value, str):
        return _parse_text(value, where)
    return _parse(value, where)


def _parse(value: object, where: str) -> int:
    text = value.strip().upper() if isinstance(value, str) else ""
    if not _DURATION.match(text):
        raise InvalidInput(
            f"{where}: {value!r} is not an ISO 8601 duration; use a form like PT0S, PT30M, PT3H or P63D "
            "(weeks, days, hours, minutes, seconds; no months or years)"
        )
    parts = _DURATION_PARTS.findall(text)
    # int() of more than 4,300 digits raises ValueError (CPython's limit); any number past 10 digits (leading
    # zeros aside) is past 100 years in every unit anyway.
    if any(len(n.lstrip("0")) > 10 for n, _unit in parts):
        raise InvalidInput(f"{where}: {_shown(value)} is longer than 100 years, which is not allowed")
    total = sum(int(n) * _UNITS[unit] for n, unit in parts)
    if total > MAX_DURATION:
        raise InvalidInput(f"{where}: {value!r} is longer than 100 years, which is not allowed")
    return total


# The engine reads the same few durations of a scale set's policy and simulation at every run step (issue 14: 40,000
# parses in one fleet advance); an error is raised again each time, as nothing is cached for it.
_parse_text = functools.lru_cache(maxsize=1024)(_parse)


def _shown(value: object) -> str:
    """A value for an error message, cut short: a duration of thousands of digits is not repeated whole."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


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
        raise InvalidInput(f"{where}: {value!r} is not an ISO 8601 UTC timestamp; use a form like 2025-01-01T03:00:00Z")
    text = value.strip()
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{where}: {value!r} is not a valid date and time ({exc})") from None
    seconds = int(parsed.timestamp())
    if not 0 <= seconds <= MAX_TIME:
        raise InvalidInput(
            f"{where}: {value!r} is outside the years 1970 to 9999 (UTC) that the simulator's clock covers"
        )
    return seconds


# A fleet's advance stamps tens of thousands of reports with a few hundred distinct instants: each formatted once.
@functools.lru_cache(maxsize=1024)
def format_timestamp(seconds: int) -> str:
    """``2025-01-01T03:00:00Z`` for a virtual time."""
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
