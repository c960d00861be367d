# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure's long-running-operation protocol (arm-endpoint-research §2.6).

The first answer carries ``Azure-AsyncOperation``, ``Location`` (``&monitor=true``) and an integer
``Retry-After: 1``. An operation id names what it watches (the scale set and run) and is signed with
the token key, so the status is read from the store each time, survives a restart, and cannot be forged
to read another scale set.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Literal

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError

OpKind = Literal["put", "delete", "os", "model", "extension", "cancel", "noop", "reimage"]
RETRY_AFTER = "1"


@dataclass(frozen=True)
class Operation:
    kind: OpKind
    resource_group: str
    name: str
    run_id: int | None
    started: str  # virtual time the operation began
    until: str | None = None  # virtual time it ends, for an operation that is not a run (a reimage)


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:24]


def encode(key: bytes, op: Operation) -> str:
    doc: dict[str, Any] = {"k": op.kind, "g": op.resource_group, "n": op.name, "r": op.run_id, "t": op.started}
    if op.until is not None:
        doc["u"] = op.until
    payload = base64.urlsafe_b64encode(json.dumps(doc, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{payload}.{_sign(key, payload)}"


def decode(key: bytes, op_id: str) -> Operation:
    payload, _sep, signature = op_id.partition(".")
    if not signature or not hmac.compare_digest(signature, _sign(key, payload)):
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
    doc = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return Operation(doc["k"], doc["g"], doc["n"], doc["r"], doc["t"], doc.get("u"))


def status_path(subscription_id: str, location: str, op_id: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Compute/locations/{location}/operations/{op_id}"


def headers(base_url: str, subscription_id: str, location: str, op_id: str, api_version: str) -> dict[str, str]:
    url = base_url.rstrip("/") + status_path(subscription_id, location, op_id) + f"?api-version={api_version}"
    return {"Azure-AsyncOperation": url, "Location": url + "&monitor=true", "Retry-After": RETRY_AFTER}


def status_body(
    op_id: str, status: str, start: str | None, end: str | None, error: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": op_id, "status": status, "startTime": start}
    if end is not None and status != "InProgress":
        body["endTime"] = end
    if error is not None and status in ("Failed", "Canceled"):
        body["error"] = error
    return body
