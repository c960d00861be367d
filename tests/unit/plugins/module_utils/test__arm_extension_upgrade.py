# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``POST …/extensionRollingUpgrade`` through the WSGI callable (azure-behaviour-2 EX-1, EX-4, EX-5, CF-1).

The route calls the same action as vmss_extension_upgrade; these check the LRO and the envelope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.tests.unit._arm import SUBSCRIPTION, WsgiClient, in_store, make_app, state_files

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
VMSS = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web"
PROBE = f"{RG}/providers/Microsoft.Network/loadBalancers/lb/probes/p"
AGENT = "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


def body() -> dict[str, Any]:
    return {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 5},
        "properties": {
            "upgradePolicy": {"mode": "Rolling", "rollingUpgradePolicy": {"maxBatchInstancePercent": 20}},
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {**UBUNTU, "version": "latest"}},
                "networkProfile": {"healthProbe": {"id": PROBE}},
                "extensionProfile": {
                    "extensions": [
                        {
                            "name": "monitor",
                            "properties": {
                                "publisher": "Microsoft.Azure.Monitor",
                                "type": "AzureMonitorLinuxAgent",
                                "typeHandlerVersion": "1.0",
                                "autoUpgradeMinorVersion": True,
                            },
                        }
                    ]
                },
            },
        },
    }


def client(store_path: Path, files: StateFiles, clock: Any) -> WsgiClient:
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    web = WsgiClient(make_app(store_path, files, clock=clock))
    assert web.arm("PUT", f"{VMSS}", body()).status == 201
    return web


def release(store_path: Path, *versions: str) -> None:
    in_store(store_path, ensure_scale_set, resource_group="rg", name="web",
             simulation={"extension_versions": {AGENT: list(versions)}})  # fmt: skip


def poll(web: WsgiClient, url: str) -> Any:
    path = url.split("https://127.0.0.1:8443", 1)[1]
    return web.raw("GET", path, headers={"Authorization": f"Bearer {web.token()}"})


def test_start_is_202_with_lro_headers_and_the_run_shows_as_latest_not_in_history_ex_1_ex_4(
    store_path: Path, files: StateFiles
) -> None:
    web = client(store_path, files, "instant")
    release(store_path, "1.0", "1.3")
    started = web.arm("POST", f"{VMSS}/extensionRollingUpgrade")
    assert started.status == 202 and started.raw == b""
    assert started.header("Retry-After") == "1"
    status = poll(web, started.header("Azure-AsyncOperation") or "")
    assert status.json["status"] == "Succeeded"
    latest = web.arm("GET", f"{VMSS}/rollingUpgrades/latest").json
    assert latest["properties"]["runningStatus"]["code"] == "Completed"
    assert latest["properties"]["progress"]["successfulInstanceCount"] == 5
    assert web.arm("GET", f"{VMSS}/osUpgradeHistory").json["value"] == []


def test_nothing_to_upgrade_succeeds_at_once_without_a_run_ex_1(store_path: Path, files: StateFiles) -> None:
    web = client(store_path, files, "manual")
    started = web.arm("POST", f"{VMSS}/extensionRollingUpgrade")
    assert started.status == 202
    assert poll(web, started.header("Azure-AsyncOperation") or "").json["status"] == "Succeeded"
    assert web.arm("GET", f"{VMSS}/rollingUpgrades/latest").status == 404


def test_a_second_start_of_either_kind_during_an_extension_run_is_409_ex_5_cf_1(
    store_path: Path, files: StateFiles
) -> None:
    web = client(store_path, files, "manual")
    release(store_path, "1.0", "1.3")
    in_store(store_path, publish_image, **UBUNTU, version="1.1.0")
    assert web.arm("POST", f"{VMSS}/extensionRollingUpgrade").status == 202
    for operation in ("extensionRollingUpgrade", "osRollingUpgrade"):
        refused = web.arm("POST", f"{VMSS}/{operation}")
        assert refused.status == 409
        assert refused.json == {
            "error": {
                "code": "OperationNotAllowed",
                "message": f"Operation '{operation}' is not allowed on Virtual Machine Scale Set 'web' since another "
                "rolling upgrade operation is in progress.",
            }
        }
    # EX-6: cancel applies to whichever kind runs.
    assert web.arm("POST", f"{VMSS}/rollingUpgrades/cancel").status == 202
    assert web.raw("POST", "/azsim/clock", json.dumps({"advance": "PT1H"}).encode()).status == 200
    latest = web.arm("GET", f"{VMSS}/rollingUpgrades/latest").json
    assert latest["properties"]["runningStatus"]["code"] == "Cancelled"
