# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real azure-mgmt-compute SDK against a Flexible scale set on the ARM endpoint (azure-behaviour-2 §11).

Same venv and harness as test_arm_sdk.py; its fixture and runner are reused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.tests.unit._arm import in_store, threaded_endpoint
from ansible_collections.azsim.vmss.tests.unit.test_arm_sdk import UBUNTU, sdk, sdk_python  # noqa: F401 pylint: disable=unused-import

pytestmark = [pytest.mark.system, pytest.mark.clients]


def test_sdk_flexible_vms_are_virtual_machines_azure_behaviour_2_fx_6_fx_7(sdk_python: Path, tmp_path: Path) -> None:  # noqa: F811
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        seen = sdk(sdk_python, "flexible", info, "sdk_flexible_client.py")
    assert seen["mode"] == "Flexible"
    assert all(re.match(r"^flexvmss_[0-9a-f]{8}$", n) for n in seen["names"]), seen["names"]
    name, vm_id, vmss_id = seen["vm"]
    assert name == seen["names"][0]
    assert vm_id.endswith(f"/resourceGroups/rg-sdk/providers/Microsoft.Compute/virtualMachines/{name}")
    assert vmss_id.endswith("/virtualMachineScaleSets/flexvmss")
    assert seen["health"].startswith("HealthState/"), "FX-7: the VM's own view reports its health"
    assert seen["fault_domain"] == 0
    assert seen["refused"] == [409, "PropertyChangeNotAllowed"]
