# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WSGI application: the route table, authentication, request ids, and errors in Azure's envelope.

Paths match case-insensitively (clients mix ``resourceGroups``/``resourcegroups``); ARM routes need
``api-version`` and a Bearer token this endpoint signed. Whatever a route raises becomes an answer in
Azure's envelope with a request id: a traceback never reaches a client (it goes to the log, with the
request id, and without the request's headers or body, which may hold secrets).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import auth, routes_compute, routes_resources
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError, from_azsim, internal
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Request, Response, Settings

LOG = logging.getLogger("azsim.vmss.arm")
MAX_BODY = 4 * 1024 * 1024
Handler = Callable[[Ctx, dict[str, str]], Response]
StartResponse = Callable[..., Any]

_SEG = r"[^/]+"
_SUB = rf"/subscriptions/(?P<subscription>{_SEG})"
_RG = rf"{_SUB}/resourceGroups/(?P<resource_group>{_SEG})"
_VMSS = rf"{_RG}/providers/Microsoft\.Compute/virtualMachineScaleSets/(?P<name>{_SEG})"


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    handler: Handler
    arm: bool = True  # needs api-version and a Bearer token
    api_version: bool = True  # needs api-version (without arm: the metadata route)


def _route(methods: str, pattern: str, handler: Handler, arm: bool = True, api_version: bool = True) -> Route:
    return Route(tuple(methods.split()), re.compile(f"^{pattern}$", re.IGNORECASE), handler, arm, api_version)


ROUTES: tuple[Route, ...] = (
    _route("GET", r"/metadata/endpoints", routes_resources.metadata_endpoints, arm=False),
    _route(
        "GET",
        rf"/(?P<tenant>{_SEG})/v2\.0/\.well-known/openid-configuration",
        routes_resources.openid_v2,
        arm=False,
        api_version=False,
    ),
    _route(
        "GET",
        rf"/(?P<tenant>{_SEG})/\.well-known/openid-configuration",
        routes_resources.openid_v1,
        arm=False,
        api_version=False,
    ),
    _route(
        "POST", rf"/(?P<tenant>{_SEG})/oauth2(?:/v2\.0)?/token", routes_resources.token, arm=False, api_version=False
    ),
    _route("GET POST", r"/azsim/clock", routes_resources.clock, arm=False, api_version=False),
    _route("GET", r"/subscriptions", routes_resources.list_subscriptions),
    _route("GET", r"/tenants", routes_resources.list_tenants),
    _route("GET", _SUB, routes_resources.get_subscription),
    _route("GET", rf"{_SUB}/providers/Microsoft\.Compute/virtualMachineScaleSets", routes_compute.list_scale_sets),
    _route(
        "GET",
        rf"{_SUB}/providers/Microsoft\.Compute/locations/(?P<location>{_SEG})/operations/"
        rf"(?P<operation>{_SEG})",
        routes_compute.operation,
    ),
    _route("GET", rf"{_RG}/providers/Microsoft\.Compute/virtualMachineScaleSets", routes_compute.list_scale_sets),
    _route("GET", _VMSS, routes_compute.get_scale_set),
    _route("PUT", _VMSS, routes_compute.put_scale_set),
    _route("DELETE", _VMSS, routes_compute.delete_scale_set),
    _route("GET", rf"{_VMSS}/virtualMachines", routes_compute.list_vms),
    _route("POST", rf"{_VMSS}/osRollingUpgrade", routes_compute.start_os_upgrade),
    _route("POST", rf"{_VMSS}/extensionRollingUpgrade", routes_compute.start_extension_upgrade),
    _route("POST", rf"{_VMSS}/setOrchestrationServiceState", routes_compute.set_orchestration_service_state),
    _route("GET", rf"{_VMSS}/instanceView", routes_compute.instance_view),
    _route("POST", rf"{_VMSS}/rollingUpgrades/cancel", routes_compute.cancel_upgrade),
    _route("GET", rf"{_VMSS}/rollingUpgrades/latest", routes_compute.latest_upgrade),
    _route("GET", rf"{_VMSS}/osUpgradeHistory", routes_compute.os_upgrade_history),
)


def _match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    allowed = False
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is None:
            continue
        if method in route.methods or (method == "HEAD" and "GET" in route.methods):
            return route, {k: v for k, v in found.groupdict().items() if v is not None}
        allowed = True
    if allowed:
        raise ArmError(405, "MethodNotAllowed", f"The HTTP method '{method}' is not supported for the path '{path}'.")
    raise ArmError(
        404,
        "NotFound" if not path.lower().startswith("/subscriptions") else "InvalidResourceType",
        f"No route of this endpoint serves '{method} {path}'.",
    )


class ArmApp:
    """The endpoint as a WSGI callable."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _request(self, environ: dict[str, Any]) -> Request:
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = str(environ[key])
        request_id = str(uuid.uuid4())
        request = Request(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=unquote(str(environ.get("PATH_INFO", "/")).encode("latin-1").decode("utf-8", "replace")),
            query=dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)),
            headers=headers,
            body=b"",
            request_id=request_id,
        )
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            raise ArmError(400, "InvalidRequestContent", "Content-Length is not a number.") from None
        if length > MAX_BODY:
            raise ArmError(413, "RequestEntityTooLarge", f"The request body is larger than {MAX_BODY} bytes.")
        if length:
            request.body = environ["wsgi.input"].read(length)
        return request

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        route, params = _match(request.method, path)
        if (route.arm or route.api_version) and not request.param("api-version"):
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if route.arm:
            identity = self.settings.files.identity
            auth.require_bearer(
                request.headers, self.settings.files.token_key, self.settings.base_url, identity.tenant_id
            )
        response = route.handler(Ctx(request, self.settings), params)
        if request.method == "HEAD":
            response.body = None
        return response

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = str(uuid.uuid4())
        client_request_id = environ.get("HTTP_X_MS_CLIENT_REQUEST_ID")
        try:
            request = self._request(environ)
            request.request_id = request_id
            response = self.handle(request)
        except ArmError as exc:
            response = Response(exc.status, exc.body(), dict(exc.headers))
        except AzsimError as exc:
            error = from_azsim(exc)
            response = Response(error.status, error.body(), dict(error.headers))
        except sqlite3.Error as exc:
            LOG.error("request %s: store error %s", request_id, type(exc).__name__)
            response = Response(
                503,
                ArmError(
                    503,
                    "ServiceUnavailable",
                    f"The store could not be used ({exc}); nothing was changed, retry the request.",
                ).body(),
                {"Retry-After": "1"},
            )
        except Exception:  # pylint: disable=broad-except  # a bug: the envelope, never a traceback
            LOG.exception("request %s: internal error", request_id)
            error = internal(request_id)
            response = Response(error.status, error.body())
        return self._send(response, request_id, client_request_id, start_response)

    @staticmethod
    def _send(
        response: Response, request_id: str, client_request_id: str | None, start_response: StartResponse
    ) -> list[bytes]:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        headers = {"x-ms-request-id": request_id, "x-ms-correlation-request-id": client_request_id or request_id}
        if client_request_id:
            headers["x-ms-client-request-id"] = client_request_id
        headers.update(response.headers)
        if response.body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        headers["Content-Length"] = str(len(payload))
        reason = _REASONS.get(response.status, "OK")
        start_response(f"{response.status} {reason}", list(headers.items()))
        return [payload]


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
