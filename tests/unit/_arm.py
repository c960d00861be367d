# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helpers for the ARM endpoint: a WSGI client (no network) and a threaded server (port 0).

The threaded server is the pytest way to run the endpoint, like moto's ``ThreadedMotoServer``.
"""

from __future__ import annotations

import io
import json
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.app import ArmApp
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import ClockMode, Settings
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.server import ArmServer
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles, prepare
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

BASE_URL = "https://127.0.0.1:8443"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
VMSS = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web"
PROBE = f"{RG}/providers/Microsoft.Network/loadBalancers/lb/probes/p"


def scale_set_body(capacity: int = 3, version: str = "latest", automatic: bool = True, **properties: Any) -> Any:
    """A scale set as the seed's REST example writes it: rolling policy, automatic OS upgrade (``automatic``),
    health probe; ``properties`` added to its properties."""
    doc: dict[str, Any] = {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity},
        "properties": {
            "upgradePolicy": {
                "mode": "Rolling",
                "rollingUpgradePolicy": {"maxBatchInstancePercent": 20, "pauseTimeBetweenBatches": "PT0S"},
                "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": automatic, "disableAutomaticRollback": False},
            },
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {**UBUNTU, "version": version}},
                "networkProfile": {"healthProbe": {"id": PROBE}},
            },
        },
    }
    doc["properties"].update(properties)
    return doc


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = body

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.raw[:400]!r})"


class WsgiClient:
    """Calls the WSGI application directly, as cheroot would."""

    def __init__(self, app: ArmApp) -> None:
        self.app = app
        self._token: str | None = None

    def raw(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
        path_only, _sep, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": urllib.parse.unquote(path_only),
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = dict(response_headers)

        payload = b"".join(self.app(environ, start_response))
        return Answer(captured["status"], captured["headers"], payload)

    def token(self) -> str:
        if self._token is None:
            identity = self.app.settings.files.identity
            form = urllib.parse.urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": identity.client_id,
                    "client_secret": identity.client_secret,
                    "scope": "https://management.azure.com/.default",
                }
            ).encode()
            answer = self.raw(
                "POST",
                f"/{identity.tenant_id}/oauth2/v2.0/token",
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert answer.status == 200, answer
            self._token = str(answer.json["access_token"])
        return self._token

    def arm(
        self,
        method: str,
        path: str,
        body: Any = None,
        api_version: str | None = "2024-11-01",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """An authenticated ARM request with a JSON body and an api-version."""
        if api_version is not None:
            path += ("&" if "?" in path else "?") + f"api-version={api_version}"
        data = b"" if body is None else json.dumps(body).encode()
        sent = {
            "Authorization": f"Bearer {self.token()}",
            **({"Content-Type": "application/json"} if data else {}),
            **(headers or {}),
        }
        return self.raw(method, path, data, sent)


def state_files(state_dir: Path) -> StateFiles:
    return prepare(str(state_dir))


def make_app(store_path: Path, files: StateFiles, clock: ClockMode = "instant", page_size: int = 100) -> ArmApp:
    Store.open(str(store_path)).close()
    return ArmApp(Settings(str(store_path), files, BASE_URL, clock, page_size))


def in_store(store_path: Path, action: Any, subscription: str = SUBSCRIPTION, **kwargs: Any) -> Any:
    """Run one of the collection's actions on the store, as a module would (one transaction)."""
    store = Store.open(str(store_path))
    try:
        with store.transaction():
            return action(Call(store, subscription), **kwargs)
    finally:
        store.close()


@contextmanager
def threaded_endpoint(
    store_path: Path, state_dir: Path, clock: ClockMode = "instant", page_size: int = 100
) -> Iterator[dict[str, Any]]:
    """The endpoint served over HTTPS on a free port in a thread; yields ``info()`` (the JSON line)."""
    server = ArmServer(str(store_path), str(state_dir), port=0, clock=clock, page_size=page_size)
    info = server.start()
    try:
        yield info
    finally:
        server.stop()
