# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routes around the compute ones: cloud metadata, AAD, subscriptions, and the admin clock.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl

from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import auth
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response

# The api-version that answers one cloud object (az cloud register); every other answers a list (§2.3).
SINGLE_CLOUD_API_VERSION = "2022-09-01"
CLOUD_NAME = "azsim"


def cloud(ctx: Ctx) -> dict[str, Any]:
    base = ctx.settings.base_url.rstrip("/") + "/"
    return {
        "name": CLOUD_NAME,
        "resourceManager": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": [auth.DEFAULT_AUDIENCE, base],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "suffixes": {},
    }


def metadata_endpoints(ctx: Ctx, params: dict[str, str]) -> Response:
    doc = cloud(ctx)
    return Response(200, doc if ctx.api_version == SINGLE_CLOUD_API_VERSION else [doc])


def openid_v2(ctx: Ctx, params: dict[str, str]) -> Response:
    return Response(200, auth.openid_configuration(ctx.settings.base_url, params["tenant"], v2=True))


def openid_v1(ctx: Ctx, params: dict[str, str]) -> Response:
    return Response(200, auth.openid_configuration(ctx.settings.base_url, params["tenant"], v2=False))


def _basic(ctx: Ctx) -> tuple[str, str] | None:
    scheme, _sep, value = ctx.request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _sep, password = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return user, password


def token(ctx: Ctx, params: dict[str, str]) -> Response:
    try:
        form = dict(parse_qsl(ctx.request.body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        form = {}
    files = ctx.settings.files
    body = auth.token_response(
        form, files.identity, files.token_key, ctx.settings.base_url, params["tenant"], _basic(ctx)
    )
    return Response(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def _subscription(ctx: Ctx, subscription_id: str) -> dict[str, Any]:
    identity = ctx.settings.files.identity
    return {
        "id": f"/subscriptions/{subscription_id}",
        "subscriptionId": subscription_id,
        "tenantId": identity.tenant_id,
        "displayName": "azsim",
        "state": "Enabled",
        "managedByTenants": [],
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "azsim",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
    }


def list_subscriptions(ctx: Ctx, params: dict[str, str]) -> Response:
    return Response(200, {"value": [_subscription(ctx, ctx.settings.files.identity.subscription_id)]})


def get_subscription(ctx: Ctx, params: dict[str, str]) -> Response:
    return Response(200, _subscription(ctx, params["subscription"]))


def list_tenants(ctx: Ctx, params: dict[str, str]) -> Response:
    tenant = ctx.settings.files.identity.tenant_id
    return Response(
        200,
        {"value": [{"id": f"/tenants/{tenant}", "tenantId": tenant, "tenantCategory": "Home", "displayName": "azsim"}]},
    )


def clock(ctx: Ctx, params: dict[str, str]) -> Response:
    """``GET /azsim/clock`` reads the virtual clock; ``POST {"advance": "PT1H"}`` or ``{"to": ...}`` moves it."""
    advance = to = None
    if ctx.request.method == "POST":
        body = ctx.request.json()
        advance = body.get("advance", ctx.request.param("advance"))
        to = body.get("to", ctx.request.param("to"))
        for name, value in (("advance", advance), ("to", to)):
            if value is not None and not isinstance(value, str):
                raise ArmError(
                    400, "InvalidParameter", f"{name}: give a string, not {type(value).__name__}", target=name
                )
    subscription = ctx.settings.files.identity.subscription_id
    result = ctx.run(
        subscription, lambda call: move_clock(call, advance=advance, to=to), commit=ctx.request.method == "POST"
    )
    return Response(
        200,
        {"now": result["now"], "previous": result["previous"], "events": result["events"], "mode": ctx.settings.clock},
    )
