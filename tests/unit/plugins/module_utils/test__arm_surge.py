# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maxSurge through the WSGI callable: the terminate notification of ``scheduledEventsProfile`` round-trips, and
an old instance waiting out its notification lists as ``Deleting`` in the VM list (azure-behaviour-2 MS-6, MS-9).
The routes call the same actions as the modules; these check the REST shapes."""

from __future__ import annotations

import json
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
NOTIFICATION = {"terminateNotificationProfile": {"notBeforeTimeout": "PT5M", "enable": True}}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-state"))


def body() -> dict[str, Any]:
    return {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 5},
        "properties": {
            "upgradePolicy": {"mode": "Rolling", "rollingUpgradePolicy": {"maxSurge": True}},
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {**UBUNTU, "version": "latest"}},
                "networkProfile": {"healthProbe": {"id": PROBE}},
                "scheduledEventsProfile": NOTIFICATION,
            },
        },
    }


def test_an_old_instance_lists_as_deleting_until_its_notification_ran_out_ms_6_ms_9(
    store_path: Path, files: StateFiles
) -> None:
    in_store(store_path, publish_image, **UBUNTU, version="1.0.0")
    web = WsgiClient(make_app(store_path, files, clock="manual"))
    put = web.arm("PUT", VMSS, body())
    assert put.status == 201, put.json
    assert put.json["properties"]["virtualMachineProfile"]["scheduledEventsProfile"] == NOTIFICATION
    in_store(store_path, publish_image, **UBUNTU, version="1.1.0")
    assert web.arm("POST", f"{VMSS}/osRollingUpgrade").status == 202
    # 4:00 the first batch's new instance is healthy; its old one (instance 0) is deleted at 9:00.
    assert web.raw("POST", "/azsim/clock", json.dumps({"advance": "PT6M"}).encode()).status == 200
    listed = web.arm("GET", f"{VMSS}/virtualMachines").json["value"]
    states = {vm["instanceId"]: vm["properties"]["provisioningState"] for vm in listed}
    assert len(states) == 6 and states["0"] == "Deleting" and states["5"] == "Succeeded"
    assert web.raw("POST", "/azsim/clock", json.dumps({"advance": "PT4M"}).encode()).status == 200
    listed = web.arm("GET", f"{VMSS}/virtualMachines").json["value"]
    assert "0" not in {vm["instanceId"] for vm in listed}
