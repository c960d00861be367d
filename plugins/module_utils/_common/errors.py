# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own exceptions: the core raises these, the glue turns them into fail_json.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any


class AzsimError(Exception):
    """A failure a person can act on; ``details`` go into the task result beside ``msg``.

    Two details shape Azure's error (design.md, round 2: ``error.code``/``error.message`` in a failed
    result, and the REST envelope): ``code`` (else the kind's ``CODE``) and ``azure_message``, Azure's own
    text where ``message`` says more for a person (else ``message``).
    """

    CODE = "BadRequest"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def azure_error(self) -> dict[str, str]:
        """``{code, message}`` as Azure's error envelope has them."""
        return {
            "code": str(self.details.get("code") or self.CODE),
            "message": str(self.details.get("azure_message") or self.message),
        }


class InvalidInput(AzsimError):
    """An option or a JSON path holds a value that is not allowed."""

    CODE = "InvalidParameter"


class NotFound(AzsimError):
    """The addressed resource does not exist in the store."""

    CODE = "ResourceNotFound"


class Conflict(AzsimError):
    """Azure would answer 409: the request does not fit the resource's current state."""

    CODE = "OperationNotAllowed"


class StoreError(AzsimError):
    """The store file cannot be used; it has been left untouched."""

    CODE = "ServiceUnavailable"
