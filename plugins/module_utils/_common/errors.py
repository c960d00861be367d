# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own exceptions: the core raises these, the glue turns them into fail_json.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any


class AzsimError(Exception):
    """A failure a person can act on; ``details`` go into the task result beside ``msg``."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(AzsimError):
    """An option or a JSON path holds a value that is not allowed."""


class NotFound(AzsimError):
    """The addressed resource does not exist in the store."""


class Conflict(AzsimError):
    """Azure would answer 409: the request does not fit the resource's current state."""


class StoreError(AzsimError):
    """The store file cannot be used; it has been left untouched."""
