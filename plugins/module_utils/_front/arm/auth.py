# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AAD as the clients see it: OpenID configuration, the token route, and the Bearer check of ARM routes.

Tokens are JWTs signed with HS256 under the state directory's key (arm-endpoint-research §2.2): the
claims clients decode (``aud, iss, tid, oid, appid, exp``) and nothing secret. A token the endpoint
did not sign, or one that expired, gets 401 with ``WWW-Authenticate`` as ARM sends it.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import Identity

TOKEN_LIFETIME = 3599
DEFAULT_AUDIENCE = "https://management.azure.com/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(key: bytes, issuer: str, tenant: str, client_id: str, scope: str, now: float | None = None) -> str:
    """A signed JWT for ``client_id``; the audience is the scope without ``/.default``."""
    issued = int(time.time() if now is None else now)
    audience = scope.split()[0] if scope else DEFAULT_AUDIENCE
    if audience.endswith("/.default"):
        audience = audience[: -len(".default")]
    claims = {
        "aud": audience,
        "iss": issuer,
        "iat": issued,
        "nbf": issued,
        "exp": issued + TOKEN_LIFETIME,
        "tid": tenant,
        "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"azsim:{tenant}:{client_id}")),
        "appid": client_id,
        "sub": client_id,
        "ver": "1.0",
    }
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


@functools.lru_cache(maxsize=256)
def _signed_claims(key: bytes, token: str) -> dict[str, Any] | None:
    """The claims of a token signed with ``key``, expired or not; None for any other text.

    Kept for the last tokens seen: a client sends one token with every request for an hour, and checking its
    signature and decoding its claims was an eighth of a GET's time (bench/arm_endpoint.py). The key is part of
    the cache's key, so a token signed with another key is checked again.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            return None
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        return None
    return claims


def verify_token(key: bytes, token: str, now: float | None = None) -> dict[str, Any] | None:
    """The claims of a token this endpoint signed and that has not expired; None otherwise."""
    claims = _signed_claims(key, token)
    if claims is None or claims["exp"] < (time.time() if now is None else now):
        return None
    return dict(claims)  # the kept claims stay as they were signed


def challenge(base_url: str, tenant: str) -> ArmError:
    """401 as ARM sends it: the envelope, and where to get a token."""
    return ArmError(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing or is not a valid Bearer token issued by "
        "this endpoint (get one from the token route; tokens last an hour).",
        headers={
            "WWW-Authenticate": f'Bearer authorization_uri="{base_url.rstrip("/")}/{tenant}", '
            'error="invalid_token", '
            'error_description="The access token is missing or invalid."'
        },
    )


def require_bearer(headers: dict[str, str], key: bytes, base_url: str, tenant: str) -> dict[str, Any]:
    """The claims of the request's Bearer token, or a 401."""
    value = headers.get("authorization", "")
    scheme, _sep, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise challenge(base_url, tenant)
    claims = verify_token(key, token.strip())
    if claims is None:
        raise challenge(base_url, tenant)
    return claims


def openid_configuration(base_url: str, tenant: str, v2: bool) -> dict[str, Any]:
    """``/{tenant}[/v2.0]/.well-known/openid-configuration`` (ADFS and v1 use ``/oauth2/token``)."""
    base = base_url.rstrip("/")
    prefix = f"{base}/{tenant}/oauth2/v2.0" if v2 else f"{base}/{tenant}/oauth2"
    if v2:
        issuer = f"{base}/{tenant}/v2.0"
    else:
        issuer = f"{base}/{tenant}" if tenant.lower() == "adfs" else f"{base}/{tenant}/"
    return {
        "token_endpoint": f"{prefix}/token",
        "authorization_endpoint": f"{prefix}/authorize",
        "device_authorization_endpoint": f"{prefix}/devicecode",
        "issuer": issuer,
        "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "token"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "grant_types_supported": ["client_credentials"],
        "tenant_region_scope": None,
        "cloud_instance_name": "azsim",
    }


class AadError(ArmError):
    """An AAD refusal: AAD's own body (``error``, ``error_description`` with the AADSTS number, ``error_codes``)."""

    def __init__(self, status: int, error: str, number: int, description: str) -> None:
        super().__init__(status, error, description)
        self.number = number

    def body(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "error_description": f"AADSTS{self.number}: {self.message}",
            "error_codes": [self.number],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }


def token_response(
    form: dict[str, str], identity: Identity, key: bytes, base_url: str, tenant: str, basic: tuple[str, str] | None
) -> dict[str, Any]:
    """The token route: client credentials checked as AAD checks them; unknown form fields ignored."""
    grant = form.get("grant_type", "")
    if grant != "client_credentials":
        raise AadError(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'. Only client_credentials is served.",
        )
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if basic is not None:
        client_id, secret = client_id or basic[0], secret or basic[1]
    if client_id != identity.client_id:
        raise AadError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
        )
    if not hmac.compare_digest(secret.encode(), identity.client_secret.encode()):
        raise AadError(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client "
            f"secret value, not the client secret ID, for a secret added to app '{client_id}'.",
        )
    issuer = f"{base_url.rstrip('/')}/{tenant}/v2.0"
    token = issue_token(
        key,
        issuer,
        identity.tenant_id if tenant.lower() in ("adfs", "common", "organizations") else tenant,
        client_id,
        form.get("scope") or form.get("resource") or DEFAULT_AUDIENCE,
    )
    return {
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": token,
    }
