# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lifecycle-hook events through the ARM endpoint's WSGI callable: azure-behaviour-2 LH-1, LH-2, LH-7...LH-13, LH-20."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.tests.unit._arm import (
    UBUNTU,
    VMSS,
    WsgiClient,
    in_store,
    make_app,
    scale_set_body,
    state_files,
)

API = "2025-11-01"
EVENTS = f"{VMSS}/lifecycleHookEvents"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


@pytest.fixture
def client(store_path: Path, files: StateFiles) -> WsgiClient:
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    return WsgiClient(make_app(store_path, files, clock="manual"))


def body(hooks: list[dict[str, Any]], capacity: int = 5) -> dict[str, Any]:
    """EX2511's create-with-hooks shape on the seed's Rolling scale set with automatic OS upgrade."""
    doc: dict[str, Any] = scale_set_body(capacity, lifecycleHooksProfile={"lifecycleHooks": hooks})
    return doc


def advance(client: WsgiClient, duration: str) -> None:
    assert client.raw("POST", "/azsim/clock", json.dumps({"advance": duration}).encode()).status == 200


def test_put_stores_hooks_with_defaults_and_refuses_them_before_2025_11_01_lh_1_lh_2_lh_4(client: WsgiClient) -> None:
    old = client.arm("PUT", VMSS, body([{"type": "UpgradeAutoOSScheduling"}]))
    assert old.status == 400
    assert old.json["error"] == {
        "code": "BadRequest",
        "message": "Could not find member 'lifecycleHooksProfile' on object of type 'properties'.",
    }
    created = client.arm("PUT", VMSS, body([{"type": "UpgradeAutoOSRollingBatchStarting"}]), api_version=API)
    assert created.status == 201
    assert created.json["properties"]["lifecycleHooksProfile"] == {
        "lifecycleHooks": [
            {"type": "UpgradeAutoOSRollingBatchStarting", "waitDuration": "PT30M", "defaultAction": "Approve"}
        ]
    }
    too_long = body([{"type": "UpgradeAutoOSRollingBatchStarting", "waitDuration": "PT5H"}])
    assert client.arm("PUT", VMSS, too_long, api_version=API).json["error"]["code"] == "InvalidParameter"
    got = client.arm("GET", VMSS, api_version=API).json["properties"]["lifecycleHooksProfile"]
    assert got == created.json["properties"]["lifecycleHooksProfile"], "GET answers the stored hooks"
    # LH-6: hooks are edited with an ordinary PATCH of the scale set.
    scheduling = {"lifecycleHooksProfile": {"lifecycleHooks": [{"type": "UpgradeAutoOSScheduling"}]}}
    patched = client.arm("PATCH", VMSS, {"properties": scheduling}, api_version=API)
    assert patched.status in (200, 202)
    hooks = client.arm("GET", VMSS, api_version=API).json["properties"]["lifecycleHooksProfile"]["lifecycleHooks"]
    assert hooks == [{"type": "UpgradeAutoOSScheduling", "waitDuration": "PT1H", "defaultAction": "Approve"}]


def test_list_get_patch_an_event_lh_7_lh_8_lh_11_lh_13(client: WsgiClient, store_path: Path) -> None:
    client.arm("PUT", VMSS, body([{"type": "UpgradeAutoOSRollingBatchStarting"}]), api_version=API)
    in_store(store_path, publish_image, **UBUNTU, version="1.1.0")
    advance(client, "PT3H")
    listed = client.arm("GET", EVENTS, api_version=API)
    assert listed.status == 200
    [event] = listed.json["value"]
    assert event["type"] == "Microsoft.Compute/virtualMachineScaleSets/lifecycleHookEvents"
    assert event["id"].lower() == f"{EVENTS}/{event['name']}".lower()
    assert event["properties"]["state"] == "Active"
    [target] = event["properties"]["targetResources"]
    assert target == {"resource": {"id": f"{VMSS}/virtualMachines/0"}, "actionState": "Waiting"}
    one = f"{EVENTS}/{event['name']}"
    assert client.arm("GET", one, api_version=API).json == event
    assert client.arm("GET", one, api_version="2024-11-01").json["error"]["code"] == "NoRegisteredProviderFound"

    late = {"properties": {"waitUntil": event["properties"]["maxWaitUntil"].replace("T07", "T08")}}
    assert client.arm("PATCH", one, late, api_version=API).json["error"]["code"] == "InvalidParameter"
    bad = {"properties": {"targetResources": [{"resource": target["resource"], "actionState": "Waiting"}]}}
    assert client.arm("PATCH", one, bad, api_version=API).json["error"]["code"] == "InvalidParameter"

    approve = {"properties": {"targetResources": [{"resource": target["resource"], "actionState": "Approved"}]}}
    patched = client.arm("PATCH", one, approve, api_version=API)
    assert patched.status == 200
    assert patched.json["properties"]["state"] == "Completed"
    assert patched.json["properties"]["targetResources"][0]["actionState"] == "Approved"
    latest = client.arm("GET", f"{VMSS}/rollingUpgrades/latest", api_version=API).json["properties"]
    assert latest["progress"]["inProgressInstanceCount"] == 1, "the approved batch started at once"
    closed = client.arm("PATCH", one, {"properties": {"waitUntil": "2025-01-01T05:00:00Z"}}, api_version=API)
    assert (closed.status, closed.json["error"]["code"]) == (409, "Conflict")
    missing = client.arm("GET", f"{EVENTS}/00000000-0000-0000-0000-000000000000", api_version=API)
    assert (missing.status, missing.json["error"]["code"]) == (404, "NotFound")
