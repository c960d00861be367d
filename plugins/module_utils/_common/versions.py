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


# The Compute API versions of Microsoft.Compute/virtualMachineScaleSets that the REST API specification publishes
# (Azure/azure-rest-api-specs, specification/compute/resource-manager/Microsoft.Compute/Compute/{stable,preview},
# the folders with the scale set operations; azure-behaviour-2 §0 SPEC2609 is the newest). Azure answers any
# other version with 400 NoRegisteredProviderFound, and one not of the form YYYY-MM-DD with
# InvalidApiVersionParameter.
KNOWN_API_VERSIONS = (
    "2015-06-15",
    "2016-03-30",
    "2016-04-30-preview",
    "2017-03-30",
    "2017-12-01",
    "2018-04-01",
    "2018-06-01",
    "2018-10-01",
    "2019-03-01",
    "2019-07-01",
    "2019-12-01",
    "2020-06-01",
    "2020-12-01",
    "2021-03-01",
    "2021-04-01",
    "2021-07-01",
    "2021-11-01",
    "2022-03-01",
    "2022-08-01",
    "2022-11-01",
    "2023-03-01",
    "2023-07-01",
    "2023-09-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
    "2025-11-01",
    "2026-04-01",
    "2026-09-01",
)


def check_api_version(value: object, where: str = "api_version") -> str:
    """A Compute API version the specification knows, or InvalidInput naming ``where`` and what is allowed."""
    known = f"{KNOWN_API_VERSIONS[0]} to {KNOWN_API_VERSIONS[-1]}: {', '.join(KNOWN_API_VERSIONS)}"
    if api_version_date(value) is None:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:40] + "..."
        raise InvalidInput(
            f"{where}: {shown} is not a Compute API version; use {API_VERSION_FORM}, one of {known}",
            code="InvalidApiVersionParameter",
            option=where,
        )
    if value not in KNOWN_API_VERSIONS:
        raise InvalidInput(
            f"{where}: no Compute API version {value!r} is registered for virtualMachineScaleSets; use one of {known}",
            code="NoRegisteredProviderFound",
            option=where,
        )
    return str(value)


def api_at_least(api_version: str, minimum: str) -> bool:
    """Whether the scale set's API version is ``minimum`` or later, by date; a ``-preview`` counts as its date.

    The one comparison behind azure-behaviour §1 (a field set on a scale set whose apiVersion predates it)
    and §2 rules 5 and 6 (automatic OS upgrade from 2018-10-01, the Windows rules from 2019-03-01).
    An unparsable version cannot be shown to be new enough; check_api_version refuses those anyway.
    """
    date = api_version_date(api_version)
    return date is not None and date >= minimum
