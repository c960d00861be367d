# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image versions as Azure orders them: three dotted integers, compared part by part.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import re

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput

_VERSION = re.compile(r"^([0-9]{1,10})\.([0-9]{1,10})\.([0-9]{1,10})\Z")
_MAX_PART = 2**31 - 1  # Azure keeps each part in a 32-bit signed integer


def parse_version(value: object, where: str) -> tuple[int, int, int]:
    """The sort key of ``Major.Minor.Build``; ``1.10.0`` sorts after ``1.9.0``."""
    match = _VERSION.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(
            f"{where}: {value!r} is not an image version; use Major.Minor.Build with whole numbers, e.g. 1.0.0"
        )
    parts = tuple(int(p) for p in match.groups())
    if any(p > _MAX_PART for p in parts):
        raise InvalidInput(f"{where}: {value!r} has a part larger than {_MAX_PART}, which Azure does not allow")
    return parts[0], parts[1], parts[2]


def is_version(value: object) -> bool:
    match = _VERSION.match(value) if isinstance(value, str) else None
    return match is not None and max(map(int, match.groups())) <= _MAX_PART


def newest(versions: list[str]) -> str | None:
    """The highest of valid version strings, or None for an empty list."""
    return max(versions, key=lambda v: parse_version(v, "version"), default=None)
