# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flexible orchestration through the ARM endpoint: ``properties.orchestrationMode`` (azure-behaviour-2 §11).

The same rules as the ``vmss`` module's (test__flexible.py), reached by a PUT, a PATCH and the VM routes.
"""

from __future__ import annotations

import copy
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.tests.unit._arm import SUBSCRIPTION, WsgiClient, in_store, make_app, state_files

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
VMSS = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web"
VMS = f"{RG}/providers/Microsoft.Compute/virtualMachines"
PROBE = f"{RG}/providers/Microsoft.Network/loadBalancers/lb/probes/p"
HEALTH = {
    "name": "health",
    "properties": {
        "publisher": "Microsoft.ManagedServices",
        "type": "ApplicationHealthLinux",
        "typeHandlerVersion": "2.0",
        "settings": {"protocol": "http", "port": 80, "requestPath": "/health"},
    },
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


@pytest.fixture
def client(store_path: Path, files: StateFiles) -> WsgiClient:
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0", location="eastus")
    return WsgiClient(make_app(store_path, files))


def dump(store_path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(store_path)
    try:
        return [
            (table, conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall())  # noqa: S608 - our own names
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
    finally:
        conn.close()


def flexible_body(mode: str = "Rolling", probe: bool = False, health: bool = True) -> dict[str, Any]:
    profile: dict[str, Any] = {"storageProfile": {"imageReference": {**UBUNTU, "version": "latest"}}}
    if health:
        profile["extensionProfile"] = {"extensions": [copy.deepcopy(HEALTH)]}
    if probe:
        profile["networkProfile"] = {"healthProbe": {"id": PROBE}}
    return {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "capacity": 3},
        "properties": {
            "orchestrationMode": "Flexible",
            "upgradePolicy": {"mode": mode, "rollingUpgradePolicy": {"maxBatchInstancePercent": 20}},
            "virtualMachineProfile": profile,
        },
    }


def test_a_put_creates_a_flexible_scale_set_and_a_get_shows_it(client: WsgiClient) -> None:
    created = client.arm("PUT", VMSS, flexible_body())
    assert created.status == 201, created
    assert client.arm("GET", VMSS).json["properties"]["orchestrationMode"] == "Flexible"


def test_the_orchestration_mode_cannot_change_property_change_not_allowed(client: WsgiClient, store_path: Path) -> None:
    assert client.arm("PUT", VMSS, flexible_body()).status == 201
    before = dump(store_path)
    uniform = flexible_body()
    uniform["properties"]["orchestrationMode"] = "Uniform"
    answer = client.arm("PUT", VMSS, uniform)
    assert answer.status == 409, answer
    assert answer.json["error"] == {
        "code": "PropertyChangeNotAllowed",
        "message": "Changing property 'orchestrationMode' is not allowed.",
    }
    patched = client.arm("PATCH", VMSS, {"properties": {"orchestrationMode": "Uniform"}})
    assert patched.status == 409 and patched.json["error"]["code"] == "PropertyChangeNotAllowed"
    assert dump(store_path) == before
    again = client.arm("PUT", VMSS, flexible_body())
    assert again.status == 200 and dump(store_path) == before, "the same PUT again writes nothing"


def test_flexible_needs_api_version_2021_03_01_azure_behaviour_2_fx_9(client: WsgiClient) -> None:
    old = client.arm("PUT", VMSS, flexible_body(), api_version="2020-12-01")
    assert old.status == 400 and "2021-03-01" in old.json["error"]["message"], old
    assert client.arm("GET", VMSS).status == 404


def test_rolling_with_only_a_probe_is_refused_on_flexible_azure_behaviour_2_fx_1(client: WsgiClient) -> None:
    answer = client.arm("PUT", VMSS, flexible_body(probe=True, health=False))
    assert answer.status == 400, answer
    assert answer.json["error"]["details"][0]["code"] == "HealthSourceMissing"
    assert "health probe or health extension was not provided" in answer.json["error"]["details"][0]["message"]


def test_vms_are_resources_named_by_their_vm_names_azure_behaviour_2_fx_6(client: WsgiClient) -> None:
    assert client.arm("PUT", VMSS, flexible_body()).status == 201
    listed = client.arm("GET", f"{VMSS}/virtualMachines").json["value"]
    names = [vm["name"] for vm in listed]
    assert all(re.match(r"^web_[0-9a-f]{8}$", n) for n in names), names
    assert [vm["id"] for vm in listed] == [f"{VMS}/{n}" for n in names]
    assert all(vm["properties"]["virtualMachineScaleSet"]["id"] == VMSS for vm in listed)
    one = client.arm("GET", f"{VMS}/{names[0]}")
    assert one.status == 200 and one.json == listed[0], one
    missing = client.arm("GET", f"{VMS}/web_00000000")
    assert missing.status == 404 and missing.json["error"]["code"] == "ResourceNotFound"


def test_health_is_on_the_vm_view_only_azure_behaviour_2_fx_7(client: WsgiClient) -> None:
    assert client.arm("PUT", VMSS, flexible_body()).status == 201
    name = client.arm("GET", f"{VMSS}/virtualMachines").json["value"][0]["name"]
    own = client.arm("GET", f"{VMS}/{name}/instanceView")
    assert own.status == 200, own
    assert own.json["vmHealth"]["status"]["code"].startswith("HealthState/")
    assert "vmHealth" not in client.arm("GET", f"{VMSS}/virtualMachines/{name}/instanceView").json
    expanded = client.arm("GET", f"{VMS}/{name}?$expand=instanceView").json
    assert "vmHealth" in expanded["properties"]["instanceView"]
    assert client.arm("GET", f"{VMSS}/instanceView").status == 200, "the scale set's own view stays (repairs)"


def test_a_uniform_vm_is_not_a_standalone_vm(client: WsgiClient) -> None:
    body = flexible_body(probe=True, health=False)
    del body["properties"]["orchestrationMode"]
    assert client.arm("PUT", VMSS, body).status == 201
    assert client.arm("GET", f"{VMSS}/virtualMachines/0").json["name"] == "web_0"
    assert client.arm("GET", f"{VMS}/web_0").status == 404
