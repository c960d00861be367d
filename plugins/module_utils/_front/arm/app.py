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

import functools
import json
import logging
import os
import random
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_duration
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import is_subscription_id
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import (
    admin,
    auth,
    openapi,
    routes_compute,
    routes_flexible_vms,
    routes_groups,
    routes_hooks,
    routes_images,
    routes_providers,
    routes_reimage,
    routes_resources,
    routes_vms,
)
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.answers import Answers, keep
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError, from_azsim, internal
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Request, Response, Settings
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.requestlog import RequestLog
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.storepool import StorePool
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.wallclock import ScaledClock

LOG = logging.getLogger("azsim.vmss.arm")
MAX_BODY = 4 * 1024 * 1024
DRAIN_LIMIT = 16 * MAX_BODY  # the largest body over MAX_BODY read (and dropped) to answer 413 cleanly
_API_VERSION = re.compile(openapi.API_VERSION_PATTERN, re.ASCII)
Handler = Callable[[Ctx, dict[str, str]], Response]
StartResponse = Callable[..., Any]

_SEG = r"[^/]+"
_SUB = rf"/subscriptions/(?P<subscription>{_SEG})"
_RG = rf"{_SUB}/resourceGroups/(?P<resource_group>{_SEG})"
_VMSS = rf"{_RG}/providers/Microsoft\.Compute/virtualMachineScaleSets/(?P<name>{_SEG})"
_VM = rf"{_VMSS}/virtualMachines/(?P<instance_id>{_SEG})"
_FLEX_VM = rf"{_RG}/providers/Microsoft\.Compute/virtualMachines/(?P<vm>{_SEG})"
_LOC = rf"{_SUB}/providers/Microsoft\.Compute/locations/(?P<location>{_SEG})"
_PUB = rf"{_LOC}/publishers/(?P<publisher>{_SEG})/artifacttypes/vmimage"
_SKU = rf"{_PUB}/offers/(?P<offer>{_SEG})/skus/(?P<sku>{_SEG})"
_GALLERY_IMAGE = rf"{_RG}/providers/Microsoft\.Compute/galleries/(?P<gallery>{_SEG})/images/(?P<image>{_SEG})"
_FEATURES = rf"{_SUB}/providers/Microsoft\.Features"
_FEATURE = rf"{_FEATURES}/providers/(?P<namespace>{_SEG})/features/(?P<feature>{_SEG})"
_VNET = rf"{_RG}/providers/Microsoft\.Network/virtualNetworks/(?P<vnet>{_SEG})"


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    handler: Handler
    arm: bool = True  # needs api-version and a Bearer token
    api_version: bool = True  # needs api-version (without arm: the metadata route)
    # Its GET answer depends only on the path, the query, the settings and the store (answers.py): checked for
    # each route so marked, in tests/unit/plugins/module_utils/test__arm_answers.py.
    kept: bool = False


def _route(
    methods: str, pattern: str, handler: Handler, arm: bool = True, api_version: bool = True, kept: bool = False
) -> Route:
    return Route(tuple(methods.split()), re.compile(f"^{pattern}$", re.IGNORECASE), handler, arm, api_version, kept)


def openapi_json(ctx: Ctx, params: dict[str, str]) -> Response:
    """The OpenAPI 3 document of every route this endpoint serves, made from the route table."""
    return Response(200, openapi.document(ROUTES, ctx.settings.base_url))


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
    _route("GET", r"/azsim/requests", admin.requests, arm=False, api_version=False),
    _route("POST", r"/azsim/reset", admin.reset, arm=False, api_version=False),
    _route("GET", r"/azsim/openapi\.json", openapi_json, arm=False, api_version=False),
    _route("GET", r"/subscriptions", routes_resources.list_subscriptions),
    _route("GET", r"/tenants", routes_resources.list_tenants),
    _route("GET", _SUB, routes_resources.get_subscription),
    _route(
        "GET",
        rf"{_SUB}/providers/Microsoft\.Compute/virtualMachineScaleSets",
        routes_compute.list_scale_sets,
        kept=True,
    ),
    _route(
        "GET",
        rf"{_SUB}/providers/Microsoft\.Compute/locations/(?P<location>{_SEG})/operations/"
        rf"(?P<operation>{_SEG})",
        routes_compute.operation,
        kept=True,
    ),
    _route(
        "GET", rf"{_RG}/providers/Microsoft\.Compute/virtualMachineScaleSets", routes_compute.list_scale_sets, kept=True
    ),
    _route("GET", _VMSS, routes_compute.get_scale_set, kept=True),
    _route("PUT", _VMSS, routes_compute.put_scale_set),
    _route("DELETE", _VMSS, routes_compute.delete_scale_set),
    _route("GET", rf"{_VMSS}/virtualMachines", routes_compute.list_vms, kept=True),
    _route("POST", rf"{_VMSS}/osRollingUpgrade", routes_compute.start_os_upgrade),
    _route("POST", rf"{_VMSS}/extensionRollingUpgrade", routes_compute.start_extension_upgrade),
    _route("POST", rf"{_VMSS}/setOrchestrationServiceState", routes_compute.set_orchestration_service_state),
    _route("POST", rf"{_VMSS}/rollingUpgrades/cancel", routes_compute.cancel_upgrade),
    _route("GET", rf"{_VMSS}/rollingUpgrades/latest", routes_compute.latest_upgrade, kept=True),
    _route("GET", rf"{_VMSS}/osUpgradeHistory", routes_compute.os_upgrade_history, kept=True),
    # Lifecycle-hook events (azure-behaviour-2 LH-7).
    _route("GET", rf"{_VMSS}/lifecycleHookEvents", routes_hooks.list_events),
    _route("GET", rf"{_VMSS}/lifecycleHookEvents/(?P<event>{_SEG})", routes_hooks.get_event),
    _route("PATCH", rf"{_VMSS}/lifecycleHookEvents/(?P<event>{_SEG})", routes_hooks.patch_event),
    # scale sets beyond the first increment: PATCH, instance views, approval, manual upgrade
    _route("PATCH", _VMSS, routes_compute.patch_scale_set),
    _route("GET", rf"{_VMSS}/instanceView", routes_compute.scale_set_instance_view, kept=True),
    _route("GET", _VM, routes_compute.get_vm, kept=True),
    _route("GET", rf"{_VM}/instanceView", routes_compute.vm_instance_view, kept=True),
    _route("PUT", _VM, routes_vms.put_vm),
    _route("PATCH", _VM, routes_vms.patch_vm),
    _route("POST", rf"{_VMSS}/reimage", routes_reimage.reimage_scale_set),
    _route("POST", rf"{_VMSS}/reimageall", routes_reimage.reimage_all_scale_set),
    _route("POST", rf"{_VM}/reimage", routes_reimage.reimage_vm),
    _route("POST", rf"{_VM}/reimageall", routes_reimage.reimage_all_vm),
    _route("POST", rf"{_VMSS}/approveRollingUpgrade", routes_compute.approve_upgrade),
    _route("POST", rf"{_VMSS}/manualupgrade", routes_compute.manual_upgrade),
    # Flexible scale sets' VMs as resources of their own (azure-behaviour-2 FX-6, FX-7)
    _route("GET", _FLEX_VM, routes_flexible_vms.get_vm),
    _route("GET", rf"{_FLEX_VM}/instanceView", routes_flexible_vms.vm_instance_view),
    # the image catalogue, gallery image versions, VM sizes
    _route("GET", rf"{_LOC}/publishers", routes_images.list_publishers),
    _route("GET", rf"{_PUB}/offers", routes_images.list_offers),
    _route("GET", rf"{_PUB}/offers/(?P<offer>{_SEG})/skus", routes_images.list_skus),
    _route("GET", rf"{_SKU}/versions", routes_images.list_versions),
    _route("GET", rf"{_SKU}/versions/(?P<version>{_SEG})", routes_images.get_version),
    _route("GET", rf"{_GALLERY_IMAGE}/versions", routes_images.list_gallery_versions),
    _route("GET", rf"{_GALLERY_IMAGE}/versions/(?P<version>{_SEG})", routes_images.get_gallery_version),
    _route("GET", rf"{_LOC}/vmSizes", routes_images.list_vm_sizes),
    # Microsoft.Features and resource providers
    _route("GET", rf"{_FEATURES}/features", routes_providers.features),
    _route("GET", rf"{_FEATURES}/providers/(?P<namespace>{_SEG})/features", routes_providers.features),
    _route("GET", _FEATURE, routes_providers.get_feature),
    _route("POST", rf"{_FEATURE}/register", routes_providers.register),
    _route("POST", rf"{_FEATURE}/unregister", routes_providers.unregister),
    _route("GET", rf"{_SUB}/providers", routes_providers.providers),
    _route("GET", rf"{_SUB}/providers/(?P<namespace>{_SEG})", routes_providers.get_provider),
    _route("POST", rf"{_SUB}/providers/(?P<namespace>{_SEG})/register", routes_providers.register_namespace),
    _route("POST", rf"{_SUB}/providers/(?P<namespace>{_SEG})/unregister", routes_providers.unregister_namespace),
    # resource groups and the generic store (virtual networks, subnets)
    _route("GET", rf"{_SUB}/resourceGroups", routes_groups.list_groups),
    _route("HEAD", _RG, routes_groups.head_group),
    _route("GET", _RG, routes_groups.get_group),
    _route("PUT", _RG, routes_groups.put_group),
    _route("DELETE", _RG, routes_groups.delete_group),
    _route("GET", rf"{_RG}/resources", routes_groups.list_group_resources),
    _route("GET", rf"{_RG}/providers/Microsoft\.Network/virtualNetworks", routes_groups.list_vnets),
    _route("GET", _VNET, routes_groups.get_vnet),
    _route("PUT", _VNET, routes_groups.put_vnet),
    _route("DELETE", _VNET, routes_groups.delete_vnet),
    _route("GET", rf"{_VNET}/subnets", routes_groups.list_subnets),
    _route("GET", rf"{_VNET}/subnets/(?P<subnet>{_SEG})", routes_groups.get_subnet),
    _route("PUT", rf"{_VNET}/subnets/(?P<subnet>{_SEG})", routes_groups.put_subnet),
    _route("DELETE", rf"{_VNET}/subnets/(?P<subnet>{_SEG})", routes_groups.delete_subnet),
)


_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


def _last_plain_segment(route: Route) -> str | None:
    """The last segment of the route's path when it is plain text (``latest``), lowercased; None for a pattern."""
    tail = route.pattern.pattern[1:-1].rsplit("/", 1)[-1]  # without the ^ and $ that _route adds
    return tail.lower() if _PLAIN_SEGMENT.fullmatch(tail) else None


def _routes_by_last_segment() -> dict[str | None, tuple[Route, ...]]:
    """For each plain last segment, the routes that end in it or in a pattern, in ROUTES' order; None: the latter.

    A route ending in plain text matches only a path ending in that text (case aside), so trying these is trying
    every route that can match, in the same order: the same first match, without 75 regular expressions a request.
    """
    ends = {route: _last_plain_segment(route) for route in ROUTES}
    table: dict[str | None, tuple[Route, ...]] = {None: tuple(route for route in ROUTES if ends[route] is None)}
    for key in {end for end in ends.values() if end is not None}:
        table[key] = tuple(route for route in ROUTES if ends[route] in (key, None))
    return table


_BY_LAST_SEGMENT = _routes_by_last_segment()


def _match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    route, params = _matched(method, path)
    return route, dict(params)  # the route's own copy


@functools.lru_cache(maxsize=4096)
def _matched(method: str, path: str) -> tuple[Route, tuple[tuple[str, str], ...]]:
    """The route and parameters of a request line, kept for the paths asked most (a client polls the same few):
    a match is a function of the two alone; a 404 or 405 is raised each time, not kept."""
    # An ASCII path's case folds as the patterns' IGNORECASE does; any other path tries every route.
    last = path.rsplit("/", 1)[-1].lower()
    routes = _BY_LAST_SEGMENT.get(last, _BY_LAST_SEGMENT[None]) if path.isascii() else ROUTES
    route, params = _first_match(routes, method, path)
    return route, tuple(params.items())


def _first_match(routes: tuple[Route, ...], method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The first of ``routes`` that serves ``method`` on ``path``; 405 if one matches the path alone, else 404."""
    allowed = False
    for route in routes:
        found = route.pattern.match(path)
        if found is None:
            continue
        if method in route.methods or (method == "HEAD" and "GET" in route.methods):
            return route, {k: v for k, v in found.groupdict().items() if v is not None}
        allowed = True
    if allowed:
        raise ArmError(405, "MethodNotAllowed", f"The HTTP method '{method}' is not supported for the path '{path}'.")
    raise _unknown_route(method, path)


def _arm_shaped(path: str) -> bool:
    """A path ARM itself would serve (a subscription's, or a tenant-level provider's), not this endpoint's own."""
    first = path.lstrip("/").split("/", 1)[0].lower()
    return first in ("subscriptions", "tenants", "providers")


def _unknown_route(method: str, path: str) -> ArmError:
    """ARM's 404 for a path no route serves: under a provider, the resource type it could not find."""
    if not path.lower().startswith("/subscriptions"):
        return ArmError(404, "NotFound", f"No route of this endpoint serves '{method} {path}'.")
    segments = path.strip("/").split("/")
    last = max((i for i, s in enumerate(segments) if s.lower() == "providers"), default=-1)
    if last < 0 or last + 2 >= len(segments):
        return ArmError(404, "InvalidResourceType", f"No route of this endpoint serves '{method} {path}'.")
    namespace, rest = segments[last + 1], segments[last + 2 :]
    kind = "/".join(rest[::2])  # the type names, without the resource names between them
    return ArmError(
        404,
        "InvalidResourceType",
        f"The resource type '{kind[:200]}' could not be found in the namespace '{namespace[:100]}'.",
    )


def _discard(stream: Any, length: int) -> None:
    """Read and drop a body over the limit, so that the client, still sending it, gets to read the 413.

    Unread, the server closes the connection under the client's feet and the client sees a broken pipe
    instead of ARM's answer (found by tests/unit/test_arm_fuzz.py). Past DRAIN_LIMIT it is not worth it:
    the connection is closed and the client gets what it gets.
    """
    if length > DRAIN_LIMIT:
        return
    while length > 0:
        chunk = stream.read(min(length, 64 * 1024))
        if not chunk:
            return
        length -= len(chunk)


def _check_api_version(value: str | None) -> None:
    """ARM's answers to a missing api-version and to one not of the form every Azure api-version has.

    The value is echoed into Location/Azure-AsyncOperation headers, so one that is not a date would
    also be a header HTTP cannot carry (found by tests/unit/test_arm_fuzz.py).
    """
    if not value:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if _API_VERSION.fullmatch(value) is None:  # fullmatch: "$" alone lets a trailing newline through
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{value[:100]}' is invalid. The supported versions have the form 'YYYY-MM-DD' "
            "or 'YYYY-MM-DD-preview'.",
        )


def _check_media_type(request: Request) -> None:
    """ARM reads a body only as JSON: a body sent as another media type is refused with 415 (as ``az rest``
    with a form body is, azure-cli issue 28494).

    A request without ``Content-Type`` is read as JSON (research §3.5: the POST without Content-Type or a body
    must be accepted); the endpoint's own admin routes are not ARM's and take what curl sends by default.
    """
    declared = request.headers.get("content-type", "")
    media = declared.split(";", 1)[0].strip().lower()
    if not request.body or not media or media == "application/json" or media.endswith("+json"):
        return
    raise ArmError(
        415,
        "UnsupportedMediaType",
        f"The content media type '{media[:100]}' is not supported. Only 'application/json' is supported.",
    )


# Request ids name a request in answers and logs; they guard nothing, so they need not be unpredictable. uuid4()
# reads os.urandom, a system call that gives up the GIL once more per request (under a stream of requests, a
# thread switch): a generator seeded from it once per process makes the same version-4 UUIDs without.
_IDS = random.Random(os.urandom(32))


def _request_id() -> str:
    return str(uuid.UUID(int=_IDS.getrandbits(128), version=4))


class ArmApp:
    """The endpoint as a WSGI callable."""

    def __init__(self, settings: Settings, wall: Callable[[], float] = time.monotonic) -> None:
        self.log = RequestLog()
        # Clock "scaled": the wall clock is read here, at the edge, and nowhere below (wallclock.py).
        self.scaled = ScaledClock(settings.clock_scale, wall) if settings.clock == "scaled" else None
        self.stores = StorePool(settings.store_path)
        # Kept GET answers: only where the virtual time moves by writes alone (answers.py), never "scaled".
        self.answers = Answers() if self.scaled is None else None
        self.settings = settings

    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        # The answers hold URLs made from the base URL (nextLink, Location), which binding the port changes.
        self._settings = settings
        if self.answers is not None:
            self.answers.clear()

    def close(self) -> None:
        """Close the store connections kept across requests (the server has stopped)."""
        self.stores.close()

    def _request(self, environ: dict[str, Any], request_id: str) -> Request:
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = str(environ[key])
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
        if not length and "chunked" in headers.get("transfer-encoding", "").lower():
            # No Content-Length: the server hands the de-chunked body to read to its end (requests sends a
            # generator this way); read as if it had been ignored, its JSON was taken for an empty body.
            request.body = environ["wsgi.input"].read(MAX_BODY + 1)
            if len(request.body) <= MAX_BODY:
                return request
            length = DRAIN_LIMIT  # at most this much more is drained, then the 413
        if length > MAX_BODY:
            _discard(environ["wsgi.input"], length)
            # ARM's limit and answer (code and message as deployments over it report them).
            raise ArmError(413, "RequestContentTooLarge", "The request content size exceeds the maximum size of 4 MB.")
        if length:
            request.body = environ["wsgi.input"].read(length)
        return request

    def _authenticate(self, request: Request) -> None:
        identity = self.settings.files.identity
        auth.require_bearer(request.headers, self.settings.files.token_key, self.settings.base_url, identity.tenant_id)

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        try:
            route, params = _match(request.method, path)
        except ArmError:
            # ARM authenticates a request before it looks for a route: without a valid token, a path under
            # /subscriptions that no route serves (or a method none takes) is the 401, so the answer does not
            # tell a caller without credentials which resource types exist (arm-endpoint-research §5.2, rule 2).
            if _arm_shaped(path):
                self._authenticate(request)
            raise
        if route.arm or route.api_version:
            _check_api_version(request.param("api-version"))
        if route.arm:
            self._authenticate(request)
            _check_media_type(request)
        subscription = params.get("subscription")
        if subscription is not None and not is_subscription_id(subscription):
            # What Azure answers for a subscription segment that is not a GUID (before it looks the resource up).
            raise ArmError(
                400,
                "InvalidSubscriptionId",
                f"The provided subscription identifier '{subscription[:100]}' is malformed or invalid.",
            )
        if self.scaled is not None:
            self.scaled.sync(self._advance)
        if route.kept and request.method == "GET" and self.answers is not None:
            response = self._kept(route, request, params, self.answers)
        else:
            response = route.handler(Ctx(request, self.settings, self.log, self.stores), params)
        if request.method == "HEAD":
            response.body = None
        return response

    def _kept(self, route: Route, request: Request, params: dict[str, str], answers: Answers) -> Response:
        """The route's answer as kept for this store version, or made now (and kept if it is a success)."""
        version = self.stores.version()  # before the route's transaction: its answer is of this version or later
        key = (request.path, tuple(request.query.items()))  # all of the request a kept route reads
        if version is not None:
            found = answers.get(version, key)
            if found is not None:
                request.virtual_time = found.virtual_time
                return found.response()
        response = route.handler(Ctx(request, self.settings, self.log, self.stores), params)
        if version is not None and 200 <= response.status < 300:
            answers.put(version, key, keep(response, request.virtual_time))
        return response

    def _advance(self, seconds: int) -> None:
        """Move the virtual clock as ``sim_clock`` does (the same action), in one store transaction."""
        with self.stores.write() as store:
            move_clock(Call(store, self.settings.files.identity.subscription_id), advance=format_duration(seconds))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = _request_id()
        client_request_id = environ.get("HTTP_X_MS_CLIENT_REQUEST_ID")
        request: Request | None = None
        try:
            request = self._request(environ, request_id)
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
        if str(environ.get("REQUEST_METHOD", "")).upper() == "HEAD":
            # No body on any answer to HEAD, errors included: one would be read as the next response on a
            # kept-alive connection (found by tests/unit/test_arm_fuzz.py).
            response.body = None
        self._record(environ, request, response, request_id, client_request_id)
        return self._send(response, request_id, client_request_id, start_response)

    def _record(
        self,
        environ: dict[str, Any],
        request: Request | None,
        response: Response,
        request_id: str,
        client_request_id: str | None,
    ) -> None:
        """The request log and the access log: no body, no query but api-version, no header."""
        method = request.method if request else str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = request.path if request else str(environ.get("PATH_INFO", "/"))
        if method == "GET" and path.rstrip("/").lower() == "/azsim/requests":
            return  # reading the log does not fill it
        self.log.add(
            method=method,
            path=path,
            api_version=request.param("api-version") if request else None,
            status=response.status,
            body=response.body,
            request_id=request_id,
            client_request_id=client_request_id,
            virtual_time=request.virtual_time if request else None,
        )
        LOG.info("%s %s %s %s", method, path, response.status, request_id)

    @staticmethod
    def _send(
        response: Response, request_id: str, client_request_id: str | None, start_response: StartResponse
    ) -> list[bytes]:
        if response.body is None:
            payload = b""
        else:
            payload = json.dumps(response.body).encode() if response.payload is None else response.payload
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
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
