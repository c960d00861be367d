# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``automaticRepairsPolicy`` through PUT/GET, ``setOrchestrationServiceState`` and the instance view's
``orchestrationServices`` over the WSGI callable (azure-behaviour-2 AR-1, AR-2, AR-7, AR-8, AR-9, AR-11).
The routes call the same actions as vmss; these check the REST shapes and the envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.tests.unit._arm import SUBSCRIPTION, WsgiClient, in_store, make_app, state_files

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
VMSS = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web"
PROBE = f"{RG}/providers/Microsoft.Network/loadBalancers/lb/probes/p"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


@pytest.fixture
def web(store_path: Path, files: StateFiles) -> WsgiClient:
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    return WsgiClient(make_app(store_path, files, clock="manual"))


def body(policy: dict[str, Any] | None, probe: bool = True) -> dict[str, Any]:
    profile: dict[str, Any] = {"storageProfile": {"imageReference": {**UBUNTU, "version": "latest"}}}
    if probe:
        profile["networkProfile"] = {"healthProbe": {"id": PROBE}}
    doc: dict[str, Any] = {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 4},
        "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": profile},
    }
    if policy is not None:
        doc["properties"]["automaticRepairsPolicy"] = policy
    return doc


def services(web: WsgiClient) -> Any:
    answer = web.arm("GET", f"{VMSS}/instanceView")
    assert answer.status == 200
    return answer.json.get("orchestrationServices")


def test_the_policy_round_trips_through_put_and_get_ar_1_ar_8(web: WsgiClient) -> None:
    put = web.arm("PUT", VMSS, body({"enabled": True, "gracePeriod": "PT30M"}))
    assert put.status == 201
    expected = {"enabled": True, "gracePeriod": "PT30M", "repairAction": "Replace"}
    assert put.json["properties"]["automaticRepairsPolicy"] == expected
    assert web.arm("GET", VMSS).json["properties"]["automaticRepairsPolicy"] == expected
    assert services(web) == [{"serviceName": "AutomaticRepairs", "serviceState": "Running"}]


def test_without_a_policy_the_instance_view_has_no_service_ar_8(web: WsgiClient) -> None:
    assert web.arm("PUT", VMSS, body(None)).status == 201
    assert services(web) is None


def test_refusals_in_azures_envelope_ar_1_ar_2_ar_7(web: WsgiClient) -> None:
    refused = web.arm("PUT", VMSS, body({"enabled": True}, probe=False))
    assert refused.status == 400
    assert refused.json["error"]["code"] == "BadRequest"
    assert "a health probe or health extension was not provided" in refused.json["error"]["message"]
    assert web.arm("GET", VMSS).status == 404  # nothing written
    assert web.arm("PUT", VMSS, body({"enabled": True, "gracePeriod": "PT5M"})).status == 400
    assert web.arm("PUT", VMSS, body({"enabled": True, "repairAction": "Replace"})).status == 201
    changed = web.arm("PUT", VMSS, body({"enabled": True, "repairAction": "Restart"}))
    assert changed.status == 400 and changed.json["error"]["code"] == "BadRequest"


def test_suspend_and_resume_through_set_orchestration_service_state_ar_9_ar_11(web: WsgiClient) -> None:
    assert web.arm("PUT", VMSS, body({"enabled": True})).status == 201
    suspend = {"serviceName": "AutomaticRepairs", "action": "Suspend"}
    answer = web.arm("POST", f"{VMSS}/setOrchestrationServiceState", suspend)
    assert answer.status == 202 and answer.header("Azure-AsyncOperation")
    assert services(web) == [{"serviceName": "AutomaticRepairs", "serviceState": "Suspended"}]
    resume = {"serviceName": "AutomaticRepairs", "action": "Resume"}
    assert web.arm("POST", f"{VMSS}/setOrchestrationServiceState", resume).status == 202
    assert services(web)[0]["serviceState"] == "Running"
    assert web.arm("PUT", VMSS, body({"enabled": False})).status == 200
    refused = web.arm("POST", f"{VMSS}/setOrchestrationServiceState", suspend)
    assert refused.status == 409
    assert refused.json["error"] == {
        "code": "OperationNotAllowed",
        "message": "Operation 'Suspend' for AutomaticRepairs is not allowed on Virtual Machine Scale Set 'web' "
        "because orchestration service 'AutomaticRepairs' is not in Running state.",
    }
    bad = web.arm("POST", f"{VMSS}/setOrchestrationServiceState", {"serviceName": "Other", "action": "Suspend"})
    assert bad.status == 400 and bad.json["error"]["code"] == "InvalidParameter"
