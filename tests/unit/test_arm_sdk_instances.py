# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real azure-mgmt-compute / azure-mgmt-resource SDK on the routes of one VMSS VM's model and of provider
unregistration (tests/arm/sdk_instances_client.py), in the venv of tests/unit/test_arm_sdk.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.tests.unit._arm import in_store, threaded_endpoint
from ansible_collections.azsim.vmss.tests.unit.test_arm_sdk import UBUNTU, sdk, sdk_python

pytestmark = [pytest.mark.system, pytest.mark.clients]
__all__ = ["sdk_python"]  # the session fixture, shared with test_arm_sdk.py


def test_sdk_vm_begin_update_sets_protection_ip1_ip2_ip7(sdk_python: Path, tmp_path: Path) -> None:
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        seen = sdk(sdk_python, "protection", info, script="sdk_instances_client.py")
    assert seen["before"] == [False, False], "IP-1"
    assert seen["type"] == "VirtualMachineScaleSetVM"
    assert seen["updated"] == [True, True], "IP-2"
    assert seen["scale_in"] == {"0": False, "1": True, "2": False}
    assert seen["conflict"] == {"status": 409, "code": "OperationNotAllowed"}, "IP-7"
    assert seen["refused"] == {"status": 400, "code": "InvalidParameter"}, "IP-2's consistency rule"


def test_sdk_provider_unregister(sdk_python: Path, tmp_path: Path) -> None:
    with threaded_endpoint(tmp_path / "store" / "vmss.sqlite", tmp_path / "state") as info:
        seen = sdk(sdk_python, "providers", info, script="sdk_instances_client.py")
    assert seen == {"registered": "Registered", "unregistered": "NotRegistered", "after": "NotRegistered"}


def test_sdk_reimage_and_reimage_all_ip4_ip7(sdk_python: Path, tmp_path: Path) -> None:
    """OS disk generations per instance after each SDK call: reimage skips the protected instance 2, naming it
    is 409, its own VM reimage is not blocked (azure-behaviour-2 IP-4, IP-7)."""
    store = tmp_path / "store" / "vmss.sqlite"
    with threaded_endpoint(store, tmp_path / "state") as info:
        in_store(store, publish_image, **UBUNTU, version="1.0.0")
        seen = sdk(sdk_python, "reimage", info, script="sdk_instances_client.py")
    assert seen["after_all"] == {"0": "2", "1": "2", "2": "1"}
    assert seen["refused"] == {"status": 409, "code": "OperationNotAllowed"}
    assert seen["final"] == {"0": "3", "1": "3", "2": "2"}
