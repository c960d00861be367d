# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure's error envelope, and the collection's exceptions mapped onto it (arm-endpoint-research §2.4).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._checks.requirements import RequirementsNotMet
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import (
    AzsimError,
    Conflict,
    InvalidInput,
    NotFound,
    StoreError,
)


class ArmError(Exception):
    """An answer in Azure's envelope: ``{"error": {"code", "message", "target"?, "details"?}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": error_object(self.code, self.message, self.target, self.details)}


def error_object(
    code: str, message: str, target: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        error["target"] = target
    if details:
        error["details"] = details
    return error


def _finding_details(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "code": str(f.get("code", "InvalidParameter")),
            "target": str(f.get("path", "")),
            "message": str(f.get("message", "")),
        }
        for f in findings
        if f.get("severity", "error") == "error"
    ]


def resource_not_found(kind: str, name: str, resource_group: str) -> ArmError:
    """ARM's 404 for a resource of ``kind`` (``Microsoft.Compute/virtualMachineScaleSets``, …) that is not there."""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{kind}/{name}' under resource group '{resource_group}' was not found. For more details "
        "please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def from_azsim(exc: AzsimError) -> ArmError:
    """The REST answer to one of the core's exceptions."""
    # The kind's Azure code unless the core named one, and Azure's own text where the core gave it.
    azure = exc.azure_error()
    code, message = azure["code"], azure["message"]
    if isinstance(exc, NotFound):
        return ArmError(404, code, message)
    if isinstance(exc, Conflict):
        status = exc.details.get("status", 409)
        return ArmError(int(status), code, message)
    if isinstance(exc, RequirementsNotMet):
        details = _finding_details(list(exc.details.get("findings") or []))
        return ArmError(400, code, message, details=details)
    if isinstance(exc, InvalidInput):
        option = exc.details.get("option")
        return ArmError(400, code, message, target=str(option) if option else None)
    if isinstance(exc, StoreError):
        return ArmError(503, "ServiceUnavailable", message, headers={"Retry-After": "1"})
    return ArmError(400, code, message)


def internal(request_id: str) -> ArmError:
    """What a bug answers: never a traceback, the request id to report."""
    return ArmError(
        500,
        "InternalServerError",
        f"The server encountered an internal error; please report request id {request_id} with the request that "
        "caused it.",
    )
