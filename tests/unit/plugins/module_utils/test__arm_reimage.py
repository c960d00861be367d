# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``POST …/reimage|reimageall`` of a scale set and of one VM (LROs), through the WSGI callable: instance
protection (azure-behaviour-2 IP-4, IP-7), a rolling upgrade's batch (CF-4), the virtual-clock timeline
(design.md simulation rules). The real SDK drives the same routes in tests/unit/test_arm_sdk_instances.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.tests.unit._arm import WsgiClient, make_app, state_files
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils.test__arm_routes import (
    VMSS,
    body,
    dump,
    operation_path,
    publish,
)

BOTH = {"protectFromScaleIn": True, "protectFromScaleSetActions": True}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-reimage-state"))


def endpoint(store_path: Path, files: StateFiles, clock: str = "instant", capacity: int = 3) -> WsgiClient:
    publish(store_path, "1.0.0")
    client = WsgiClient(make_app(store_path, files, clock=clock))  # type: ignore[arg-type]
    assert client.arm("PUT", VMSS, body(capacity=capacity)).status == 201
    return client


def disks(client: WsgiClient) -> dict[str, tuple[str, str, str]]:
    """instance id -> (OS disk name, image version, provisioning state)."""
    vms = client.arm("GET", f"{VMSS}/virtualMachines").json["value"]
    return {
        vm["instanceId"]: (
            vm["properties"]["storageProfile"]["osDisk"]["name"],
            vm["properties"]["storageProfile"]["imageReference"]["exactVersion"],
            vm["properties"]["provisioningState"],
        )
        for vm in vms
    }


def operation(client: WsgiClient, answer: Any) -> str:
    assert answer.status == 202 and answer.header("Retry-After") == "1", answer
    return str(client.arm("GET", operation_path(answer.header("Azure-AsyncOperation"))).json["status"])


def test_reimage_gives_new_os_disks_of_the_version_each_instance_has(store_path: Path, files: StateFiles) -> None:
    client = endpoint(store_path, files)
    before = disks(client)
    publish(store_path, "1.1.0")  # a reimage is not an upgrade: the instances keep 1.0.0 (reimages.py)
    assert operation(client, client.arm("POST", f"{VMSS}/reimage")) == "Succeeded", "instant clock: done at once"
    after = disks(client)
    assert all(after[i][0] != before[i][0] and "_OsDisk_2_" in after[i][0] for i in after), after
    assert {v[1:] for v in after.values()} == {("1.0.0", "Succeeded")}
    health = client.arm("GET", f"{VMSS}/virtualMachines/0/instanceView").json["vmHealth"]["status"]["code"]
    assert health == "HealthState/healthy", "booted: health recomputed (design.md, health after reimage)"


def test_reimageall_and_one_vm_reimage_touch_only_what_they_name(store_path: Path, files: StateFiles) -> None:
    client = endpoint(store_path, files)
    before = disks(client)
    assert operation(client, client.arm("POST", f"{VMSS}/reimageall", {"instanceIds": ["1"]})) == "Succeeded"
    assert operation(client, client.arm("POST", f"{VMSS}/virtualMachines/2/reimage", {"tempDisk": True})) == "Succeeded"
    assert operation(client, client.arm("POST", f"{VMSS}/virtualMachines/2/reimageall")) == "Succeeded"
    after = disks(client)
    assert after["0"] == before["0"]
    assert "_OsDisk_2_" in after["1"][0] and "_OsDisk_3_" in after["2"][0]


def test_protected_instances_are_skipped_or_refused_ip4_ip7(store_path: Path, files: StateFiles) -> None:
    client = endpoint(store_path, files)
    assert client.arm("PUT", f"{VMSS}/virtualMachines/1", {"properties": {"protectionPolicy": BOTH}}).status == 200
    before = disks(client)
    stored = dump(store_path)
    named = client.arm("POST", f"{VMSS}/reimage", {"instanceIds": ["0", "1"]})
    assert named.status == 409 and named.json["error"]["code"] == "OperationNotAllowed", named
    assert "protected from scale set action: 1" in named.json["error"]["message"]
    assert dump(store_path) == stored, "IP-7: refused, nothing written"
    assert operation(client, client.arm("POST", f"{VMSS}/reimage")) == "Succeeded"
    after = disks(client)
    assert after["1"] == before["1"] and after["0"] != before["0"] and after["2"] != before["2"], "IP-4: skipped"
    assert operation(client, client.arm("POST", f"{VMSS}/reimage", {"instanceIds": ["*"]})) == "Succeeded"
    assert disks(client)["1"] == before["1"]
    # IP-4: an instance-level reimage is a user-initiated instance operation, not blocked by the protection.
    assert operation(client, client.arm("POST", f"{VMSS}/virtualMachines/1/reimage")) == "Succeeded"
    assert disks(client)["1"] != before["1"]


def test_the_operation_follows_the_virtual_clock(store_path: Path, files: StateFiles) -> None:
    client = endpoint(store_path, files, clock="manual")
    answer = client.arm("POST", f"{VMSS}/reimage", {"instanceIds": ["0"]})
    assert operation(client, answer) == "InProgress"
    assert disks(client)["0"][2] == "Updating"
    again = client.arm("POST", f"{VMSS}/virtualMachines/0/reimage")
    assert again.status == 409 and again.json["error"]["code"] == "OperationNotAllowed", again
    assert client.raw("POST", "/azsim/clock", b'{"advance": "PT3M"}').status == 200  # reimage_duration
    assert operation(client, answer) == "Succeeded"
    assert disks(client)["0"][2] == "Succeeded" and "_OsDisk_2_" in disks(client)["0"][0]


def test_an_instance_of_the_running_batch_is_not_reimaged_cf4(store_path: Path, files: StateFiles) -> None:
    client = endpoint(store_path, files, clock="manual", capacity=5)
    publish(store_path, "1.1.0")
    assert client.arm("POST", f"{VMSS}/osRollingUpgrade").status == 202
    stored = dump(store_path)
    refused = client.arm("POST", f"{VMSS}/reimage", {"instanceIds": ["0"]})  # batch 1 of 20 %: instance 0
    assert refused.status == 409 and refused.json["error"]["code"] == "OperationNotAllowed", refused
    assert "being upgraded by the rolling upgrade" in refused.json["error"]["message"]
    assert dump(store_path) == stored
    assert operation(client, client.arm("POST", f"{VMSS}/reimage", {"instanceIds": ["4"]})) == "InProgress"


@pytest.mark.parametrize(
    ("path", "sent", "status", "target"),
    [
        ("reimage", {"instanceIds": []}, 400, "instanceIds"),
        ("reimage", {"instanceIds": [0]}, 400, "instanceIds"),
        ("reimage", {"exactVersion": "1.0.0"}, 400, "exactVersion"),
        ("reimageall", {"instanceIds": ["0"], "disks": 1}, 400, "disks"),
        ("virtualMachines/0/reimage", {"osProfile": {}}, 400, "osProfile"),
        ("reimage", {"instanceIds": ["9"]}, 404, None),
        ("virtualMachines/9/reimage", None, 404, None),
    ],
)
def test_bad_requests_name_what_is_wrong_and_write_nothing(
    store_path: Path, files: StateFiles, path: str, sent: Any, status: int, target: str | None
) -> None:
    client = endpoint(store_path, files)
    stored = dump(store_path)
    answer = client.arm("POST", f"{VMSS}/{path}", sent)
    assert answer.status == status and answer.json["error"].get("target") == target, answer
    assert dump(store_path) == stored


def test_the_openapi_document_lists_the_reimage_and_vm_routes(store_path: Path, files: StateFiles) -> None:
    paths = WsgiClient(make_app(store_path, files)).raw("GET", "/azsim/openapi.json").json["paths"]
    vmss = (
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Compute/"
        "virtualMachineScaleSets/{name}"
    )
    vm = f"{vmss}/virtualMachines/{{instance_id}}"
    for path in (f"{vmss}/reimage", f"{vmss}/reimageall", f"{vm}/reimage", f"{vm}/reimageall"):
        assert "post" in paths[path], path
    assert {"put", "patch", "get"} <= set(paths[vm])
    assert "post" in paths["/subscriptions/{subscription}/providers/{namespace}/unregister"]
