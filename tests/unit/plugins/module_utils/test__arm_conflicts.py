# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ARM endpoint's answers while a rolling upgrade runs, and its Faulted runs: azure-behaviour-2 §9 (CF) and
§10 (ER), through the WSGI callable as test__arm_app.py drives it. The routes call the same actions as the
modules, so these check the envelope and the LRO, not the rules again."""

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
IN_PROGRESS = (
    "Operation '{op}' is not allowed on Virtual Machine Scale Set 'web' since a rolling upgrade is in progress. "
    "Cancel the rolling upgrade or wait for it to complete."
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


@pytest.fixture
def manual_clock(store_path: Path, files: StateFiles) -> WsgiClient:
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    return WsgiClient(make_app(store_path, files, clock="manual"))


def body(capacity: int = 5, mode: str = "Rolling", extensions: list[str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity},
        "properties": {
            "upgradePolicy": {
                "mode": mode,
                "rollingUpgradePolicy": {"maxBatchInstancePercent": 20, "pauseTimeBetweenBatches": "PT0S"},
            },
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {**UBUNTU, "version": "latest"}},
                "networkProfile": {"healthProbe": {"id": PROBE}},
            },
        },
    }
    if extensions is not None:
        doc["properties"]["virtualMachineProfile"]["extensionProfile"] = {
            "extensions": [
                {
                    "name": name,
                    "properties": {
                        "publisher": "Microsoft.Azure.Extensions",
                        "type": "CustomScript",
                        "typeHandlerVersion": "2.1",
                    },
                }
                for name in extensions
            ]
        }
    return doc


def _poll(client: WsgiClient, url: str) -> Any:
    path = url.split("https://127.0.0.1:8443", 1)[1]
    return client.raw("GET", path, headers={"Authorization": f"Bearer {client.token()}"})


def advance(client: WsgiClient, duration: str) -> None:
    assert client.raw("POST", "/azsim/clock", json.dumps({"advance": duration}).encode()).status == 200


def start_running(client: WsgiClient, store_path: Path, mode: str = "Rolling") -> Any:
    assert client.arm("PUT", VMSS, body(mode=mode)).status == 201
    in_store(store_path, publish_image, **UBUNTU, version="1.1.0")
    started = client.arm("POST", f"{VMSS}/osRollingUpgrade")
    assert started.status == 202
    return started


def test_put_changing_the_model_during_a_run_is_409_azure_behaviour_2_cf_2_d1(
    manual_clock: WsgiClient, store_path: Path
) -> None:
    start_running(manual_clock, store_path)
    answer = manual_clock.arm("PUT", VMSS, body(extensions=["app"]))
    assert answer.status == 409
    assert answer.json == {"error": {"code": "OperationNotAllowed", "message": IN_PROGRESS.format(op="PUT")}}
    model = manual_clock.arm("GET", VMSS).json["properties"]["virtualMachineProfile"]
    assert "extensionProfile" not in model or not model["extensionProfile"].get("extensions")
    # The same model again (a client re-sending what it read) is no change: accepted.
    assert manual_clock.arm("PUT", VMSS, body()).status == 200


def test_put_changing_the_model_in_manual_mode_during_a_run_is_accepted_azure_behaviour_2_d1(
    manual_clock: WsgiClient, store_path: Path
) -> None:
    start_running(manual_clock, store_path, mode="Manual")
    assert manual_clock.arm("PUT", VMSS, body(mode="Manual", extensions=["app"])).status == 200


def test_delete_during_a_run_is_409_then_accepted_after_cancel_azure_behaviour_2_cf_3(
    manual_clock: WsgiClient, store_path: Path
) -> None:
    start_running(manual_clock, store_path)
    refused = manual_clock.arm("DELETE", VMSS)
    assert refused.status == 409
    assert refused.json["error"] == {"code": "OperationNotAllowed", "message": IN_PROGRESS.format(op="DELETE")}
    assert manual_clock.arm("POST", f"{VMSS}/rollingUpgrades/cancel").status == 202
    advance(manual_clock, "PT1H")
    assert manual_clock.arm("DELETE", VMSS).status == 202
    # Created again under the same name, it starts empty: no latest run (404), no history.
    assert manual_clock.arm("PUT", VMSS, body()).status == 201
    assert manual_clock.arm("GET", f"{VMSS}/rollingUpgrades/latest").status == 404
    assert manual_clock.arm("GET", f"{VMSS}/osUpgradeHistory").json["value"] == []


def test_put_removing_the_health_probe_of_a_rolling_scale_set_is_400_azure_behaviour_1(
    manual_clock: WsgiClient,
) -> None:
    assert manual_clock.arm("PUT", VMSS, body()).status == 201
    doc = body()
    doc["properties"]["virtualMachineProfile"]["networkProfile"] = {}  # present without a probe: removes it
    answer = manual_clock.arm("PUT", VMSS, doc)
    assert answer.status == 400
    assert answer.json["error"]["code"] == "BadRequest"
    assert answer.json["error"]["message"] == (
        "Rolling Upgrade mode is not supported for this Virtual Machine Scale Set because a health probe or health "
        "extension was not provided."
    )


def test_faulted_run_error_on_latest_and_on_the_failed_lro_azure_behaviour_2_er_2_er_5_er_11(
    manual_clock: WsgiClient, store_path: Path
) -> None:
    assert manual_clock.arm("PUT", VMSS, body(capacity=10, mode="Manual")).status == 201
    faults = [{"type": "boot_unhealthy", "instances": ["web_0", "web_5", "web_1"]}]
    in_store(
        store_path,
        ensure_scale_set,
        resource_group="rg",
        name="web",
        simulation={"faults": faults},
    )
    in_store(store_path, publish_image, **UBUNTU, version="1.1.0")
    started = manual_clock.arm("POST", f"{VMSS}/osRollingUpgrade")
    advance(manual_clock, "PT2H")
    latest = manual_clock.arm("GET", f"{VMSS}/rollingUpgrades/latest").json["properties"]
    assert latest["runningStatus"]["code"] == "Faulted"
    error = latest["error"]
    assert error["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    assert error["target"] is None
    assert error["message"] == (
        "Rolling Upgrade failed after exceeding the MaxUnhealthyUpgradedInstancePercent value defined in the "
        "RollingUpgradePolicy. 30% of instances are in an unhealthy state after being upgraded - more than the "
        "threshold of 20% configured in the RollingUpgradePolicy. The most impactful error is:  Instance found to be "
        "unhealthy or unreachable. For details on rolling upgrades, use http://aka.ms/AzureVMSSRollingUpgrade"
    )
    assert error["details"] == [
        {
            "code": "RollingUpgradeInstanceUnhealthyError",
            "target": f"web/virtualMachines/{i}",
            "message": "Instance found to be unhealthy or unreachable.",
        }
        for i in (0, 1, 5)
    ]
    status = _poll(manual_clock, started.header("Azure-AsyncOperation") or "").json
    assert status["status"] == "Failed"
    assert status["error"] == error
