# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""schemathesis against the live endpoint's own ``/azsim/openapi.json`` (issue 13, "Fuzzing").

Every operation the document lists is called over HTTPS with a valid token: with the seeded scale set's
path parameters and schema-valid bodies (so the routes reach the actions and the store: two thirds of the
operations must answer 2xx at least once, and the scale set is put back before each operation if a fuzzed
DELETE took it), with generated path parameters, and with schema-violating requests (schemathesis' negative
mode). Whatever comes
back: no 5xx, and every error is Azure's envelope ``{"error": {"code", "message"}}``
(arm-endpoint-research §2.4). Afterwards the store passes ``PRAGMA integrity_check`` and the project's
own reads (every scale set's info, history and instances) still work.

The budget is fixed and derandomized (the same cases on every run). The module is marked ``clients``:
like the real clients, these tests check the endpoint whatever ansible-core runs them, so only `make units`
runs them, not the matrix legs; the fuzzing test is also ``system`` (out of `make units-fast`). The same
hostile requests through the WSGI callable, fast: plugins/module_utils/test__arm_hostile_requests.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from ansible_collections.azsim.vmss.plugins.module_utils._actions.history import upgrade_history
from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.listing import subscription_scale_sets
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set_info import scale_set_info
from ansible_collections.azsim.vmss.tests.unit._arm import in_store, threaded_endpoint

pytestmark = pytest.mark.clients

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
EXAMPLES = 2  # per operation and mode (~105 x 3): ~18 s of CPU; 61-106 s measured at load 15-17 on 2 cores
# /azsim/reset empties the store: fuzzing it would leave nothing for the other operations to reach.
SKIPPED = {("POST", "/azsim/reset")}


class Endpoint:
    """The live endpoint, a session that trusts its CA, and a token."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.base = str(info["base_url"]).rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would win over verify
        self.session.verify = str(info["ca_cert"])
        form = {
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "scope": "https://management.azure.com/.default",
        }
        answer = self.session.post(f"{self.base}/{info['tenant_id']}/oauth2/v2.0/token", data=form, timeout=30)
        assert answer.status_code == 200, answer.text
        self.auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def vmss(self, rg: str = "rg", name: str = "web") -> str:
        group = f"{self.base}/subscriptions/{self.info['subscription_id']}/resourceGroups/{rg}"
        return f"{group}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "vmss.sqlite"


@pytest.fixture
def endpoint(store_path: Path, tmp_path: Path) -> Iterator[Endpoint]:
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    with threaded_endpoint(store_path, tmp_path / "state") as info:
        live = Endpoint(info)
        try:
            yield live
        finally:
            live.session.close()


def seed_scale_set(endpoint: Endpoint, *, unless_present: bool = False) -> None:
    """The seed's REST body: rolling policy, automatic OS upgrade, a health probe."""
    if unless_present:
        found = endpoint.session.get(endpoint.vmss(), params={"api-version": "2024-11-01"}, headers=endpoint.auth)
        if found.status_code == 200:
            return
    sub = endpoint.info["subscription_id"]
    probe = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb/probes/p"
    body: dict[str, Any] = {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 3},
        "properties": {
            "upgradePolicy": {
                "mode": "Rolling",
                "rollingUpgradePolicy": {"maxBatchInstancePercent": 20, "pauseTimeBetweenBatches": "PT0S"},
                "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": True},
            },
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {**UBUNTU, "version": "latest"}},
                "networkProfile": {"healthProbe": {"id": probe}},
            },
        },
    }
    answer = endpoint.session.put(
        endpoint.vmss(), params={"api-version": "2024-11-01"}, json=body, headers=endpoint.auth, timeout=30
    )
    assert answer.status_code in (200, 201), answer.text


def envelope_problem(method: str, path: str, status: int, raw: bytes) -> str | None:
    """Why an answer breaks the rules (None when it keeps them): no 5xx, errors in Azure's envelope.

    The token routes are AAD's, and AAD answers in OAuth's shape (``error``, ``error_description``),
    as test__arm_app.py's wrong-secret test shows; every other route in ARM's.
    """
    if status >= 500:
        return f"{status}: {raw[:300]!r}"
    if status < 400 or method == "HEAD":
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return f"{status} without a JSON body: {raw[:300]!r}"
    error = doc.get("error") if isinstance(doc, dict) else None
    if path.endswith("/token"):
        if isinstance(error, str) and error and isinstance(doc.get("error_description"), str):
            return None
        return f"{status} outside AAD's envelope: {raw[:300]!r}"
    if not isinstance(error, dict) or not all(isinstance(error.get(k), str) and error[k] for k in ("code", "message")):
        return f"{status} outside Azure's envelope: {raw[:300]!r}"
    return None


def seeded_parameters(endpoint: Endpoint, names: set[str]) -> dict[str, str]:
    """Path parameters naming what the store holds, for the operations that take them."""
    known = {
        "tenant": str(endpoint.info["tenant_id"]),
        "subscription": str(endpoint.info["subscription_id"]),
        "resource_group": "rg",
        "name": "web",
        "instance_id": "0",
        "location": "eastus",
        "publisher": UBUNTU["publisher"],
        "offer": UBUNTU["offer"],
        "sku": UBUNTU["sku"],
        "version": "1.0.0",
        "namespace": "Microsoft.Compute",
        "feature": "AutomaticOSUpgradeWithGalleryImage",
    }
    return {k: v for k, v in known.items() if k in names}


def seeded_query(operation: Any) -> dict[str, str]:
    """A recent api-version (lifecycle-hook events need 2025-11-01, azure-behaviour-2 LH-1) where one is asked for."""
    return {"api-version": "2025-11-01"} if any(p.name == "api-version" for p in operation.query) else {}


def fuzz_operation(endpoint: Endpoint, operation: Any, failures: list[str], served: set[str]) -> None:
    names = {p.name for p in operation.path_parameters}
    strategies = [
        operation.as_strategy(
            GenerationMode.POSITIVE, path_parameters=seeded_parameters(endpoint, names), query=seeded_query(operation)
        ),
        operation.as_strategy(GenerationMode.POSITIVE),
    ]
    if names or operation.query or operation.body:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(
        max_examples=EXAMPLES * len(strategies),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        response = case.call(
            base_url=endpoint.base,
            session=endpoint.session,
            headers=endpoint.auth,
            timeout=30,
            verify=endpoint.session.verify,
        )
        problem = envelope_problem(case.method.upper(), case.path, response.status_code, response.content)
        if response.status_code < 300:
            served.add(f"{case.method.upper()} {case.path}")
        if problem is not None:
            failures.append(f"{case.method.upper()} {case.formatted_path}: {problem}\n  {case.as_curl_command()}")

    run()


@pytest.mark.system  # a minute or more of fuzzing: not for `make units-fast`
def test_schemathesis_finds_no_5xx_and_only_azure_errors_and_the_store_stays_valid(
    endpoint: Endpoint, store_path: Path
) -> None:
    seed_scale_set(endpoint)
    answer = endpoint.session.get(f"{endpoint.base}/azsim/openapi.json", timeout=30)
    assert answer.status_code == 200
    schema = schemathesis.openapi.from_dict(answer.json())
    failures: list[str] = []
    served: set[str] = set()  # the operations that answered 2xx at least once: the fuzzer got past validation
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the document has an operation schemathesis cannot read: {result.err()}"
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        operations += 1
        # A fuzzed DELETE of the scale set or its group would leave the operations after it only 404s.
        seed_scale_set(endpoint, unless_present=True)
        fuzz_operation(endpoint, operation, failures, served)
    assert operations > 90, "the document lists every route (test__arm_admin.py)"
    assert not failures, "\n".join(failures[:20])
    # The seeded parameters reach the store: reads, the scale set's PUT/PATCH and the runs' POSTs among them.
    assert len(served) >= operations * 2 // 3, sorted(served)  # 81 of 104 when written
    assert {
        "PUT /subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Compute/"
        "virtualMachineScaleSets/{name}"
    } <= served, sorted(served)
    assert_store_valid(store_path)


def assert_store_valid(store_path: Path) -> None:
    """``PRAGMA integrity_check``, then the actions the modules use read every scale set without error."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    views = in_store(store_path, subscription_scale_sets)
    for view in views:
        vmss = view["vmss"]
        rg = str(vmss["id"]).split("/")[4]
        info = in_store(store_path, scale_set_info, resource_group=rg, name=vmss["name"])
        assert info["vmss"] is not None and info["vmss"]["name"] == vmss["name"]
        in_store(store_path, upgrade_history, resource_group=rg, name=vmss["name"], every_run=True)


# -- the same hostile requests over the wire (cheroot in front of the app) --------------------------


def test_a_body_over_4_mb_over_https_is_413_and_the_connection_still_serves(endpoint: Endpoint) -> None:
    """ARM's 4 MB limit (RequestContentTooLarge); the unread body must not be taken for the next request."""
    seed_scale_set(endpoint)
    huge = b'{"tags": {"pad": "' + b"x" * (4 * 1024 * 1024) + b'"}}'
    headers = {**endpoint.auth, "Content-Type": "application/json"}
    answer = endpoint.session.put(endpoint.vmss(), params={"api-version": "2024-11-01"}, data=huge, headers=headers)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"] == "RequestContentTooLarge"
    after = endpoint.session.get(endpoint.vmss(), params={"api-version": "2024-11-01"}, headers=endpoint.auth)
    assert after.status_code == 200 and "tags" not in after.json(), after.text


def test_a_chunked_body_over_https_is_read(endpoint: Endpoint) -> None:
    """requests sends a generator chunked, without Content-Length: the body is read all the same."""
    group = endpoint.vmss().split("/providers/")[0]
    sent = {"location": "westeurope", "tags": {"sent": "chunked"}}
    headers = {**endpoint.auth, "Content-Type": "application/json"}
    answer = endpoint.session.put(
        group, params={"api-version": "2024-11-01"}, data=iter([json.dumps(sent).encode()]), headers=headers
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["location"] == "westeurope" and answer.json()["tags"] == {"sent": "chunked"}


@pytest.mark.parametrize(
    ("method", "path", "data", "content_type", "status", "code"),
    [
        ("PUT", "", b"{not json", "application/json", 400, "InvalidRequestContent"),
        ("PUT", "", b'{"location": "eastus"}', "text/plain", 415, "UnsupportedMediaType"),
        ("GET", "/nothingHere", b"", None, 404, "InvalidResourceType"),
        ("POST", "", b"{}", "application/json", 405, "MethodNotAllowed"),
    ],
    ids=["malformed-json", "wrong-media-type", "unknown-route", "wrong-method"],
)
def test_hostile_requests_over_https_get_arms_answers(
    endpoint: Endpoint,
    store_path: Path,
    method: str,
    path: str,
    data: bytes,
    content_type: str | None,
    status: int,
    code: str,
) -> None:
    seed_scale_set(endpoint)
    before = endpoint.session.get(endpoint.vmss(), params={"api-version": "2024-11-01"}, headers=endpoint.auth).json()
    headers = {**endpoint.auth, **({"Content-Type": content_type} if content_type else {})}
    answer = endpoint.session.request(
        method, endpoint.vmss() + path, params={"api-version": "2024-11-01"}, data=data, headers=headers
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code and answer.json()["error"]["message"]
    assert answer.headers["x-ms-request-id"]
    after = endpoint.session.get(endpoint.vmss(), params={"api-version": "2024-11-01"}, headers=endpoint.auth).json()
    assert after == before
    assert_store_valid(store_path)
