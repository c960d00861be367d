# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint's admin routes and its scaled clock, through the WSGI callable (no network).

``GET /azsim/requests`` (the request log), ``GET /azsim/openapi.json`` (made from the route table: every
route appears, and every path it lists is served by the route it came from), and clock mode ``scaled``
driven by an injected wall clock (design.md, "Azure endpoint": virtual seconds per wall second).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import app as arm_app
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import openapi
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.app import ROUTES, ArmApp
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Settings
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.wallclock import ScaledClock, check_scale
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit._arm import (
    BASE_URL,
    SUBSCRIPTION,
    WsgiClient,
    in_store,
    make_app,
    state_files,
)

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
VMSS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web"
PROBE = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb/probes/p"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scaled_client(store_path: Path, files: StateFiles, scale: float, wall: Wall) -> WsgiClient:
    Store.open(str(store_path)).close()
    return WsgiClient(ArmApp(Settings(str(store_path), files, BASE_URL, "scaled", 100, scale), wall=wall))


def body() -> dict[str, Any]:
    return {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "capacity": 2},
        "properties": {
            "upgradePolicy": {
                "mode": "Rolling",
                "rollingUpgradePolicy": {"maxBatchInstancePercent": 50, "pauseTimeBetweenBatches": "PT0S"},
            },
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {**UBUNTU, "version": "latest"}},
                "networkProfile": {"healthProbe": {"id": PROBE}},
            },
        },
    }


# -- the request log ---------------------------------------------------------------------------------


def test_request_log_has_what_was_asked_and_answered_but_no_secret(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files))
    token = client.token()  # a POST whose body holds the client secret
    client.arm("GET", VMSS, api_version="2024-07-01", headers={"x-ms-client-request-id": "mine-1"})
    client.raw("GET", "/metadata/endpoints?api-version=2022-09-01")
    answer = client.raw("GET", "/azsim/requests")
    assert answer.status == 200
    entries = answer.json["value"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", f"/{files.identity.tenant_id}/oauth2/v2.0/token", 200),
        ("GET", VMSS, 404),
        ("GET", "/metadata/endpoints", 200),
    ], "reading the log is not in it"
    missing = entries[1]
    assert missing["api_version"] == "2024-07-01" and missing["error_code"] == "ResourceNotFound"
    assert missing["client_request_id"] == "mine-1" and missing["request_id"]
    assert missing["virtual_time"] == "2025-01-01T00:00:00Z"
    assert [e["seq"] for e in entries] == [1, 2, 3]
    text = answer.raw.decode()
    assert files.identity.client_secret not in text and token not in text and "Bearer" not in text
    later = client.raw("GET", "/azsim/requests?since=2").json["value"]
    assert [e["seq"] for e in later] == [3]
    bad = client.raw("GET", "/azsim/requests?since=x")
    assert bad.status == 400 and bad.json["error"]["target"] == "since"


# -- the OpenAPI document ----------------------------------------------------------------------------


def _sample(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: f"x{m.group(1)}1", template)


def test_openapi_lists_every_route_and_each_path_is_served_by_its_route(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files))
    answer = client.raw("GET", "/azsim/openapi.json")
    assert answer.status == 200
    doc = answer.json
    assert doc["openapi"].startswith("3.") and doc["servers"] == [{"url": BASE_URL}]
    paths = doc["paths"]
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for route in ROUTES:
        templates = openapi.templates(route.pattern.pattern)
        assert templates, route
        for template in templates:
            assert template in paths, f"{route.handler.__name__}: {template} is not in the document"
            for method in route.methods:
                operation = paths[template][method.lower()]
                declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
                assert declared == set(re.findall(r"\{(\w+)\}", template))
                assert ("security" in operation) is route.arm
                # The template, filled in, is served by this very route (the document cannot drift from the table).
                found, params = arm_app._match(method, _sample(template))
                assert found is route, f"{method} {template} is served by {found.handler.__name__}"
    assert {"/azsim/requests", "/azsim/openapi.json", "/azsim/clock"} <= set(paths)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^/a/(?P<x>[^/]+)/b\.c$", ["/a/{x}/b.c"]),
        (r"^/(?P<t>[^/]+)/oauth2(?:/v2\.0)?/token$", ["/{t}/oauth2/v2.0/token", "/{t}/oauth2/token"]),
        (r"^/p/(?:one|two)/q$", ["/p/one/q", "/p/two/q"]),
    ],
)
def test_route_patterns_become_path_templates(pattern: str, expected: list[str]) -> None:
    assert openapi.templates(pattern) == expected


def test_a_pattern_that_cannot_be_a_path_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="cannot be written as an OpenAPI path"):
        openapi.templates(r"^/a/.*$")


# -- clock mode scaled -------------------------------------------------------------------------------


def test_scaled_clock_moves_by_wall_time_times_scale_before_each_request(store_path: Path, files: StateFiles) -> None:
    wall = Wall()
    client = scaled_client(store_path, files, 60, wall)
    assert client.raw("GET", "/azsim/clock").json["now"] == "2025-01-01T00:00:00Z"
    wall.now += 2.5  # 150 virtual seconds
    read = client.raw("GET", "/azsim/clock").json
    assert read["now"] == "2025-01-01T00:02:30Z" and read["mode"] == "scaled"
    wall.now += 0.01  # 0.6 virtual seconds: not a whole second yet, carried
    assert client.raw("GET", "/azsim/clock").json["now"] == "2025-01-01T00:02:30Z"
    wall.now += 0.01  # 1.2 with the carry
    assert client.raw("GET", "/azsim/clock").json["now"] == "2025-01-01T00:02:31Z"


def test_scaled_clock_runs_a_rolling_upgrade_as_wall_time_passes(store_path: Path, files: StateFiles) -> None:
    """A run started through the endpoint is in progress until enough scaled wall time has passed."""
    wall = Wall()
    client = scaled_client(store_path, files, 60, wall)
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    assert client.arm("PUT", VMSS, body()).status == 201
    in_store(store_path, publish_image, **UBUNTU, version="1.1.0")
    assert client.arm("POST", f"{VMSS}/osRollingUpgrade").status == 202
    latest = client.arm("GET", f"{VMSS}/rollingUpgrades/latest").json
    assert latest["properties"]["runningStatus"]["code"] == "RollingForward"
    wall.now += 3600  # an hour of wall time is 60 virtual hours: the run is long over
    latest = client.arm("GET", f"{VMSS}/rollingUpgrades/latest").json
    assert latest["properties"]["runningStatus"]["code"] == "Completed"


def test_a_failed_advance_is_owed_again() -> None:
    wall = Wall()
    clock = ScaledClock(2.0, wall)
    wall.now += 10
    paid: list[int] = []

    def fails(seconds: int) -> None:
        raise RuntimeError("store busy")

    with pytest.raises(RuntimeError):
        clock.sync(fails)
    assert clock.sync(paid.append) == 20 and paid == [20]
    assert clock.sync(paid.append) == 0


@pytest.mark.parametrize("scale", [0, -1, float("nan"), float("inf"), True, "60"])
def test_a_scale_that_is_not_a_positive_number_is_refused(scale: Any) -> None:
    with pytest.raises(ValueError, match="clock_scale"):
        check_scale(scale)


# -- reset -------------------------------------------------------------------------------------------


def test_reset_empties_the_store_and_the_log_as_a_new_store(store_path: Path, files: StateFiles) -> None:
    client = WsgiClient(make_app(store_path, files))
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    assert client.arm("PUT", VMSS, body()).status == 201
    client.raw("POST", "/azsim/clock", b'{"advance": "PT1H"}')
    answer = client.raw("POST", "/azsim/reset")
    assert answer.status == 200, answer
    assert answer.json["now"] == "2025-01-01T00:00:00Z" and answer.json["previous"] == "2025-01-01T01:00:00Z"
    assert answer.json["removed"]["scale_sets"] == 1 and answer.json["removed"]["instances"] == 2
    assert answer.json["removed"]["images"] == 1
    assert client.arm("GET", VMSS).status == 404
    after = client.raw("GET", "/azsim/requests").json["value"]
    assert [(e["method"], e["path"], e["status"]) for e in after] == [
        ("POST", "/azsim/reset", 200),
        ("GET", VMSS, 404),
    ], "the log starts again, with the reset"
    fresh = Store.open(str(store_path))
    try:
        assert fresh.now() == 1735689600 and fresh.list_docs("scale_sets", {}) == []
    finally:
        fresh.close()
