# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Versions as Azure orders them: image versions (three dotted integers, compared part by part) and
Compute API versions (dates, compared as dates).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import re

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput

# Major.Minor.Build, each part 1 to 10 digits: the one pattern of an image version, used here and by the JSON
# Schemas (VERSION_PATTERN; it ends in (?!\n)$ because jsonschema matches with re.search).
VERSION_BODY = r"[0-9]{1,10}\.[0-9]{1,10}\.[0-9]{1,10}"
VERSION_PATTERN = rf"^{VERSION_BODY}(?!\n)$"
_VERSION = re.compile(VERSION_PATTERN)
_MAX_PART = 2**31 - 1  # Azure keeps each part in a 32-bit signed integer


def parse_version(value: object, where: str) -> tuple[int, int, int]:
    """The sort key of ``Major.Minor.Build``; ``1.10.0`` sorts after ``1.9.0``."""
    match = _VERSION.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(
            f"{where}: {value!r} is not an image version; use Major.Minor.Build with whole numbers, e.g. 1.0.0"
        )
    parts = tuple(int(p) for p in str(value).split("."))
    if any(p > _MAX_PART for p in parts):
        raise InvalidInput(f"{where}: {value!r} has a part larger than {_MAX_PART}, which Azure does not allow")
    return parts[0], parts[1], parts[2]


def is_version(value: object) -> bool:
    match = _VERSION.match(value) if isinstance(value, str) else None
    return match is not None and max(map(int, str(value).split("."))) <= _MAX_PART


def newest(versions: list[str]) -> str | None:
    """The highest of valid version strings, or None for an empty list."""
    return max(versions, key=lambda v: parse_version(v, "version"), default=None)


# -- Compute API versions --------------------------------------------------------------------------

API_VERSION_FORM = "YYYY-MM-DD, e.g. 2024-11-01"
_API_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview)?\Z", re.ASCII)


def api_version_date(value: object) -> str | None:
    """The date of a Compute API version (``2019-03-01`` of ``2019-03-01-preview``); None if it is not one."""
    match = _API_VERSION.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def check_api_version(value: object, where: str = "api_version") -> str:
    """A Compute API version as given, or InvalidInput naming ``where`` and the form allowed."""
    if api_version_date(value) is None:
        raise InvalidInput(f"{where}: {value!r} is not a Compute API version; use {API_VERSION_FORM}")
    return str(value)


def api_at_least(api_version: str, minimum: str) -> bool:
    """Whether the scale set's API version is ``minimum`` or later, by date; a ``-preview`` counts as its date.

    The one comparison behind azure-behaviour §1 (a field set on a scale set whose apiVersion predates it)
    and §2 rules 5 and 6 (automatic OS upgrade from 2018-10-01, the Windows rules from 2019-03-01).
    An unparsable version cannot be shown to be new enough; check_api_version refuses those anyway.
    """
    date = api_version_date(api_version)
    return date is not None and date >= minimum
