# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint's state directory: CA and server certificate, token key, and the service principal.

Everything is made once per state directory and reused after: a CA (RSA 2048, ``ca=True``,
``keyCertSign``), a server certificate it signs (SAN ``IP:127.0.0.1``, ``DNS:localhost`` and the bound
host; ``serverAuth``), an HMAC key that signs tokens, and the tenant, client id and secret
(arm-endpoint-research §1, §5.1). Keys and secrets are files of mode 0600.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError

# Only making the certificates needs cryptography: the endpoint's other modules import this one for its
# dataclasses, and a module_utils file must import where cryptography is missing (community.crypto's way).
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
CERT_DAYS = 825
_RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Identity:
    """Who may sign in, and the subscription the endpoint announces (any subscription id in a path works)."""

    tenant_id: str
    client_id: str
    client_secret: str
    subscription_id: str


@dataclass(frozen=True)
class StateFiles:
    state_dir: str
    ca_cert: str
    server_cert: str
    server_key: str
    token_key: bytes
    identity: Identity
    azure_config_dir: str


def _write_private(path: str, data: bytes) -> None:
    """Write a secret file readable by its owner only, never briefly readable by others."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _write_public(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _fresh(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc - _RENEW_BEFORE > _now()


def _load_ca(state_dir: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert_path, key_path = os.path.join(state_dir, "ca.pem"), os.path.join(state_dir, "ca.key")
    if os.path.exists(cert_path) and os.path.exists(key_path):
        with open(cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        with open(key_path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        if isinstance(key, rsa.RSAPrivateKey) and _fresh(cert):
            return cert, key
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"azsim.vmss ARM endpoint CA {uuid.uuid4().hex[:8]}")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    for stale in ("server.pem", "server.key"):  # signed by the CA just replaced
        if os.path.exists(os.path.join(state_dir, stale)):
            os.unlink(os.path.join(state_dir, stale))
    return cert, key


def _san_names(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    try:
        address = ipaddress.ip_address(host)
        if str(address) != "127.0.0.1" and not address.is_unspecified:
            names.append(x509.IPAddress(address))
    except ValueError:
        if host and host != "localhost":
            names.append(x509.DNSName(host))
    return names


def _server_cert(state_dir: str, host: str, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey) -> tuple[str, str]:
    cert_path, key_path = os.path.join(state_dir, "server.pem"), os.path.join(state_dir, "server.key")
    wanted = _san_names(host)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        with open(cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if _fresh(cert) and cert.issuer == ca.subject and all(n in san for n in wanted):
            return cert_path, key_path
    key = _new_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=CERT_DAYS - 1))
        .add_extension(x509.SubjectAlternativeName(wanted), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _new_secret() -> str:
    """A random client secret that does not start with '-': ``az login -p -abc`` reads it as an option."""
    while True:
        secret = secrets.token_urlsafe(32)
        if not secret.startswith("-"):
            return secret


def _identity(state_dir: str, given: dict[str, str | None]) -> Identity:
    """The service principal: given values win and are remembered; the rest are made once."""
    path = os.path.join(state_dir, "identity.json")
    stored: dict[str, Any] = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
    merged = {
        "tenant_id": given.get("tenant_id") or stored.get("tenant_id") or str(uuid.uuid4()),
        "client_id": given.get("client_id") or stored.get("client_id") or str(uuid.uuid4()),
        "client_secret": given.get("client_secret") or stored.get("client_secret") or _new_secret(),
        "subscription_id": given.get("subscription_id") or stored.get("subscription_id") or DEFAULT_SUBSCRIPTION,
    }
    if merged != stored:
        _write_private(path, json.dumps(merged, sort_keys=True).encode())
    return Identity(**merged)


def _token_key(state_dir: str) -> bytes:
    path = os.path.join(state_dir, "token.key")
    if os.path.exists(path):
        with open(path, "rb") as handle:
            key = handle.read()
        if len(key) >= 32:
            return key
    key = secrets.token_bytes(32)
    _write_private(path, key)
    return key


def prepare(
    state_dir: str,
    host: str = "127.0.0.1",
    *,
    tenant_id: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    subscription_id: str | None = None,
) -> StateFiles:
    """Make (or reuse) everything the endpoint needs in ``state_dir``."""
    if not HAS_CRYPTOGRAPHY:
        raise AzsimError(
            "the Azure endpoint needs the Python package cryptography to make its TLS certificates; "
            "install it (it is in the collection's requirements.txt)"
        )
    state_dir = os.path.abspath(os.path.expanduser(state_dir))
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    ca, ca_key = _load_ca(state_dir)
    server_cert, server_key = _server_cert(state_dir, host, ca, ca_key)
    identity = _identity(
        state_dir,
        {
            "tenant_id": tenant_id,
            "client_id": client_id,
            "client_secret": client_secret,
            "subscription_id": subscription_id,
        },
    )
    config_dir = os.path.join(state_dir, "azure-config")
    os.makedirs(config_dir, mode=0o700, exist_ok=True)
    return StateFiles(
        state_dir=state_dir,
        ca_cert=os.path.join(state_dir, "ca.pem"),
        server_cert=server_cert,
        server_key=server_key,
        token_key=_token_key(state_dir),
        identity=identity,
        azure_config_dir=config_dir,
    )
