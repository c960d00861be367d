# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requests no real client sends, answered as ARM answers them (issue 13, "Fuzzing"), and nothing written.

Malformed JSON and bodies that are not objects (``InvalidRequestContent``), a body over ARM's 4 MB
(``RequestContentTooLarge``), a body of another media type (``UnsupportedMediaType``), api-versions that are
not dates (``InvalidApiVersionParameter``), unknown routes and wrong methods. The inputs named
"found by the fuzzer" are the ones tests/unit/test_arm_fuzz.py found; each was a broken answer before.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import lro
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.app import DRAIN_LIMIT, MAX_BODY
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.tests.unit._arm import (
    SUBSCRIPTION,
    Answer,
    WsgiClient,
    in_store,
    make_app,
    state_files,
)

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
VMSS = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web"
PROBE = f"{RG}/providers/Microsoft.Network/loadBalancers/lb/probes/p"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


@pytest.fixture
def client(store_path: Path, files: StateFiles) -> WsgiClient:
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    return WsgiClient(make_app(store_path, files))


def body(capacity: int = 2) -> dict[str, Any]:
    return {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "capacity": capacity},
        "properties": {
            "upgradePolicy": {"mode": "Rolling", "rollingUpgradePolicy": {"maxBatchInstancePercent": 50}},
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {**UBUNTU, "version": "latest"}},
                "networkProfile": {"healthProbe": {"id": PROBE}},
            },
        },
    }


def dump(store_path: Path) -> list[tuple[Any, ...]]:
    """Every row of every table: what "nothing written" compares."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return [(t, *row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}" ORDER BY 1')]  # noqa: S608
    finally:
        conn.close()


def put(client: WsgiClient, raw: bytes, content_type: str | None = "application/json") -> Answer:
    headers = {"Authorization": f"Bearer {client.token()}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.raw("PUT", f"{VMSS}?api-version=2024-11-01", raw, headers)


def assert_arm_error(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer
    assert answer.json["error"]["code"] == code, answer
    assert answer.json["error"]["message"], answer


# -- bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"location": "eastus",', b"[1, 2]", b'"text"', b"null", b"\xff\xfe{}", b'{"a": NaN'],
    ids=["malformed", "truncated", "array", "string", "null", "not-utf8", "nan-truncated"],
)
def test_a_body_that_is_not_a_json_object_is_invalid_request_content(
    client: WsgiClient, store_path: Path, raw: bytes
) -> None:
    before = dump(store_path)
    assert_arm_error(put(client, raw), 400, "InvalidRequestContent")
    assert dump(store_path) == before


class Stream(io.BytesIO):
    """A request body that counts what the application read of it."""

    def __init__(self, size: int) -> None:
        super().__init__(b"x" * size)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def send_length(client: WsgiClient, length: int | None, stream: io.BytesIO) -> Answer:
    """A PUT of the scale set with this Content-Length, or chunked (no Content-Length) for None."""
    environ = {
        "REQUEST_METHOD": "PUT",
        "PATH_INFO": VMSS,
        "QUERY_STRING": "api-version=2024-11-01",
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Bearer {client.token()}",
        "wsgi.input": stream,
    }
    if length is None:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(length)
    captured: dict[str, Any] = {}
    payload = b"".join(client.app(environ, lambda status, headers: captured.update(status=status)))
    return Answer(int(captured["status"].split()[0]), {}, payload)


def test_a_body_over_4_mb_is_request_content_too_large_read_to_the_end_and_dropped(
    client: WsgiClient, store_path: Path
) -> None:
    """Found by the fuzz test over HTTPS: answered unread, the client still sending it saw a broken pipe."""
    before = dump(store_path)
    stream = Stream(MAX_BODY + 1)
    assert_arm_error(send_length(client, MAX_BODY + 1, stream), 413, "RequestContentTooLarge")
    assert stream.taken == MAX_BODY + 1
    assert dump(store_path) == before


def test_a_body_past_the_drain_limit_is_refused_unread(client: WsgiClient, store_path: Path) -> None:
    before = dump(store_path)
    stream = Stream(0)
    assert_arm_error(send_length(client, DRAIN_LIMIT + 1, stream), 413, "RequestContentTooLarge")
    assert stream.taken == 0
    assert dump(store_path) == before


def test_a_chunked_body_is_read(client: WsgiClient, store_path: Path) -> None:
    """Found while fuzzing over the wire: a body without Content-Length (chunked, as requests sends a
    generator) was taken for an empty one, so a PUT with a location was refused LocationRequired."""
    answer = send_length(client, None, io.BytesIO(json.dumps(body()).encode()))
    assert answer.status == 201, answer
    assert client.arm("GET", VMSS).json["sku"]["capacity"] == 2


def test_a_chunked_body_over_4_mb_is_request_content_too_large(client: WsgiClient, store_path: Path) -> None:
    before = dump(store_path)
    stream = Stream(MAX_BODY + 10)
    assert_arm_error(send_length(client, None, stream), 413, "RequestContentTooLarge")
    assert stream.taken == MAX_BODY + 10
    assert dump(store_path) == before


def test_a_body_at_the_limit_is_read(client: WsgiClient) -> None:
    doc = body()
    doc["tags"] = {"pad": ""}

    raw = json.dumps(doc).encode()
    doc["tags"]["pad"] = "x" * (MAX_BODY - len(raw))
    raw = json.dumps(doc).encode()
    assert len(raw) == MAX_BODY
    answer = put(client, raw)
    assert answer.status != 413, answer


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_of_another_media_type_is_unsupported_media_type(
    client: WsgiClient, store_path: Path, content_type: str
) -> None:
    before = dump(store_path)
    assert_arm_error(put(client, json.dumps(body()).encode(), content_type), 415, "UnsupportedMediaType")
    assert dump(store_path) == before


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8", "APPLICATION/JSON"])
def test_json_with_or_without_a_content_type_is_read(client: WsgiClient, content_type: str | None) -> None:

    answer = put(client, json.dumps(body()).encode(), content_type)
    assert answer.status == 201, answer


def test_the_admin_clock_takes_json_as_curl_sends_it_by_default(client: WsgiClient) -> None:
    """docs/azure-endpoint.md: ``curl -X POST …/azsim/clock -d '{"advance": "PT1H"}'`` (a form content type)."""
    answer = client.raw(
        "POST", "/azsim/clock", b'{"advance": "PT1H"}', {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status == 200, answer


# -- api-version -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "api-version=%0B4%C2%A7%0A",
        "api-version=%C3%87%F1%88%BF%BE",
        "api-version=latest",
        "api-version=2024-11",
        "api-version=2024-11-01%0A",
    ],
    ids=["control-chars-found-by-the-fuzzer", "non-latin1-found-by-the-fuzzer", "word", "no-day", "newline"],
)
def test_an_api_version_that_is_not_a_date_is_invalid_api_version_parameter(
    client: WsgiClient, store_path: Path, query: str
) -> None:
    before = dump(store_path)
    headers = {"Authorization": f"Bearer {client.token()}", "Content-Type": "application/json"}
    answer = client.raw("PUT", f"{VMSS}?{query}", json.dumps(body()).encode(), headers)
    assert_arm_error(answer, 400, "InvalidApiVersionParameter")
    assert dump(store_path) == before


def test_a_preview_api_version_is_accepted(client: WsgiClient) -> None:
    assert (
        client.arm(
            "GET", f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets", None, "2025-04-01-preview"
        ).status
        == 200
    )


def test_lro_headers_are_ascii_whatever_the_stored_location_and_api_version() -> None:
    """Found by the fuzzer: a header value HTTP cannot carry broke the connection after the write."""
    headers = lro.headers("https://127.0.0.1:1", SUBSCRIPTION, "ëast ús", "op.sig", "2024-11-01\U00048fbe")
    for value in headers.values():
        value.encode("ascii")
    assert "/locations/%C3%ABast%20%C3%BAs/operations/op.sig?" in headers["Azure-AsyncOperation"]


# -- routes and methods ----------------------------------------------------------------------------


def test_head_answers_no_body_even_when_it_is_an_error(client: WsgiClient) -> None:
    """Found by the fuzzer: ``HEAD …/virtualMachines/0/instanceView`` of a missing scale set answered 404 with a
    body, which a kept-alive connection then read as the next response's status line."""
    for path in (f"{VMSS}/virtualMachines/0/instanceView", VMSS, f"{RG}/nothing/here", "/nowhere"):
        answer = client.arm("HEAD", path)
        assert answer.status == 404, (path, answer)
        assert answer.raw == b"" and answer.headers["Content-Length"] == "0", (path, answer)
    refused = client.raw("HEAD", f"{VMSS}?api-version=2024-11-01")
    assert refused.status == 401 and refused.raw == b""


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (f"{VMSS}/nothingHere", "InvalidResourceType"),
        (f"{RG}/providers/Microsoft.Compute/unknownThings/x", "InvalidResourceType"),
        (f"/subscriptions/{SUBSCRIPTION}/unknown", "InvalidResourceType"),
        ("/nowhere/at/all", "NotFound"),
        ("/", "NotFound"),
    ],
)
def test_unknown_routes_are_404_in_the_envelope(client: WsgiClient, path: str, code: str) -> None:
    for method in ("GET", "PUT", "POST", "DELETE", "PATCH"):
        assert_arm_error(client.arm(method, path), 404, code)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{VMSS}/nothingHere"),
        ("PUT", f"{RG}/providers/Microsoft.Compute/unknownThings/x"),
        ("GET", f"/subscriptions/{SUBSCRIPTION}/unknown"),
        ("GET", "/providers/Microsoft.Widgets/operations"),
        ("POST", VMSS),  # a route that does not take this method
    ],
)
def test_without_a_token_an_unknown_arm_route_is_the_401(client: WsgiClient, method: str, path: str) -> None:
    """ARM authenticates before it routes: a caller without credentials learns nothing of what exists."""
    answer = client.raw(method, f"{path}?api-version=2024-11-01")
    assert_arm_error(answer, 401, "AuthenticationFailed")
    assert (answer.header("WWW-Authenticate") or "").startswith("Bearer authorization_uri=")
    forged = client.raw(method, f"{path}?api-version=2024-11-01", headers={"Authorization": "Bearer not-a-token"})
    assert_arm_error(forged, 401, "AuthenticationFailed")


def test_without_a_token_an_unknown_path_outside_arm_is_still_404(client: WsgiClient) -> None:
    """The endpoint's own paths (/azsim/..., /metadata/...) are not ARM's and need no token."""
    assert_arm_error(client.raw("GET", "/nowhere/at/all"), 404, "NotFound")


@pytest.mark.parametrize(
    ("path", "kind", "namespace"),
    [
        (f"{VMSS}/nothingHere", "virtualMachineScaleSets/nothingHere", "Microsoft.Compute"),
        (f"{VMSS}/virtualMachines/0/gadgets/g", "virtualMachineScaleSets/virtualMachines/gadgets", "Microsoft.Compute"),
        (f"{RG}/providers/Microsoft.Widgets/things/x", "things", "Microsoft.Widgets"),
    ],
)
def test_an_unknown_resource_type_is_named_with_its_namespace(
    client: WsgiClient, path: str, kind: str, namespace: str
) -> None:
    """ARM's InvalidResourceType names the type path (resource names left out) and the namespace."""
    message = client.arm("GET", path).json["error"]["message"]
    assert f"resource type '{kind}' could not be found in the namespace '{namespace}'" in message


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", VMSS),
        ("PUT", f"{VMSS}/rollingUpgrades/latest"),
        ("DELETE", f"{VMSS}/osUpgradeHistory"),
        ("GET", f"{VMSS}/osRollingUpgrade"),
        ("PATCH", RG),
        ("OPTIONS", VMSS),
        ("TRACE", VMSS),
    ],
)
def test_a_method_a_route_does_not_serve_is_405_and_writes_nothing(
    client: WsgiClient, store_path: Path, method: str, path: str
) -> None:
    before = dump(store_path)
    assert_arm_error(client.arm(method, path), 405, "MethodNotAllowed")
    assert dump(store_path) == before
