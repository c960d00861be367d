# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``PUT``/``PATCH …/virtualMachines/{instanceId}``: instance protection over ARM (azure-behaviour-2 IP-1…IP-7),
through the WSGI callable. The real SDK drives the same route in tests/unit/test_arm_sdk.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set_info import scale_set_info
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.tls import StateFiles
from ansible_collections.azsim.vmss.tests.unit._arm import WsgiClient, in_store, make_app, state_files
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils.test__arm_routes import (
    VMSS,
    body,
    dump,
    operation_path,
    publish,
)

BOTH = {"protectFromScaleIn": True, "protectFromScaleSetActions": True}
NONE = {"protectFromScaleIn": False, "protectFromScaleSetActions": False}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> StateFiles:
    return state_files(tmp_path_factory.mktemp("arm-vm-state"))


@pytest.fixture
def client(store_path: Path, files: StateFiles) -> WsgiClient:
    publish(store_path, "1.0.0")
    app = WsgiClient(make_app(store_path, files))
    assert app.arm("PUT", VMSS, body()).status == 201
    return app


def protection(client: WsgiClient, instance_id: str) -> dict[str, bool]:
    return dict(client.arm("GET", f"{VMSS}/virtualMachines/{instance_id}").json["properties"]["protectionPolicy"])


def test_put_sets_protection_on_the_instance_model_ip1(client: WsgiClient, store_path: Path) -> None:
    assert protection(client, "1") == NONE, "IP-1: no protection on a new instance"
    answer = client.arm("PUT", f"{VMSS}/virtualMachines/1", {"properties": {"protectionPolicy": BOTH}})
    assert answer.status == 200, answer
    assert answer.json["properties"]["protectionPolicy"] == BOTH and answer.json["instanceId"] == "1"
    op = client.arm("GET", operation_path(answer.header("Azure-AsyncOperation")))
    assert op.json["status"] == "Succeeded", op
    assert protection(client, "1") == BOTH and protection(client, "0") == NONE
    # The module's view of the same store: the protection is the instance's, set by the same action.
    view = in_store(store_path, scale_set_info, resource_group="rg", name="web")
    assert [i["protection_policy"] for i in view["instances"]] == [NONE, BOTH, NONE]


def test_actions_alone_reads_back_protected_from_scale_in_ip2(client: WsgiClient) -> None:
    sent = {"properties": {"protectionPolicy": {"protectFromScaleSetActions": True}}}
    assert client.arm("PUT", f"{VMSS}/virtualMachines/0", sent).json["properties"]["protectionPolicy"] == BOTH


def test_conflicting_booleans_are_refused_and_nothing_is_written_ip2(client: WsgiClient, store_path: Path) -> None:
    before = dump(store_path)
    sent = {"properties": {"protectionPolicy": {"protectFromScaleIn": False, "protectFromScaleSetActions": True}}}
    refused = client.arm("PUT", f"{VMSS}/virtualMachines/0", sent)
    assert refused.status == 400 and refused.json["error"]["code"] == "InvalidParameter", refused
    assert (
        "protectFromScaleIn cannot be false when protectFromScaleSetActions is true" in refused.json["error"]["message"]
    )
    assert dump(store_path) == before


@pytest.mark.parametrize(
    ("sent", "target"),
    [
        (
            {"properties": {"protectionPolicy": {"protectFromScaleIn": "yes"}}},
            "properties.protectionPolicy.protectFromScaleIn",
        ),
        ({"properties": {"protectionPolicy": {"fromScaleIn": True}}}, "properties.protectionPolicy.fromScaleIn"),
        ({"properties": {"protectionPolicy": [True]}}, "properties.protectionPolicy"),
        ({"properties": "x"}, "properties"),
    ],
)
def test_bad_protection_bodies_name_the_json_path(
    client: WsgiClient, store_path: Path, sent: dict[str, Any], target: str
) -> None:
    before = dump(store_path)
    refused = client.arm("PUT", f"{VMSS}/virtualMachines/0", sent)
    assert refused.status == 400 and refused.json["error"]["target"] == target, refused
    assert dump(store_path) == before


def test_protection_needs_api_version_2019_03_01_ip1(client: WsgiClient, store_path: Path) -> None:
    before = dump(store_path)
    sent = {"properties": {"protectionPolicy": BOTH}}
    old = client.arm("PUT", f"{VMSS}/virtualMachines/0", sent, api_version="2018-10-01")
    assert old.status == 400 and old.json["error"]["target"] == "properties.protectionPolicy", old
    assert "2019-03-01" in old.json["error"]["message"]
    assert dump(store_path) == before
    assert client.arm("PUT", f"{VMSS}/virtualMachines/0", sent, api_version="2019-03-01").status == 200


def test_patch_merges_and_a_get_body_sent_back_changes_nothing(client: WsgiClient, store_path: Path) -> None:
    client.arm("PUT", f"{VMSS}/virtualMachines/2", {"properties": {"protectionPolicy": BOTH}})
    lifted = client.arm("PATCH", f"{VMSS}/virtualMachines/2", {"properties": {"protectionPolicy": {
        "protectFromScaleSetActions": False}}})  # fmt: skip
    assert lifted.json["properties"]["protectionPolicy"] == {
        "protectFromScaleIn": True,
        "protectFromScaleSetActions": False,
    }
    before = dump(store_path)
    vm = client.arm("GET", f"{VMSS}/virtualMachines/2").json
    vm["properties"]["latestModelApplied"] = "ignored: read-only"
    again = client.arm("PUT", f"{VMSS}/virtualMachines/2", vm)
    assert again.status == 200 and again.json == client.arm("GET", f"{VMSS}/virtualMachines/2").json
    assert dump(store_path) == before, "an unchanged protection writes nothing"


def test_unknown_instance_is_a_404(client: WsgiClient) -> None:
    missing = client.arm("PUT", f"{VMSS}/virtualMachines/9", {"properties": {"protectionPolicy": BOTH}})
    assert missing.status == 404 and missing.json["error"]["code"] == "ResourceNotFound", missing


def test_protected_instance_is_skipped_by_upgrades_and_refused_by_name_ip4_ip7(
    client: WsgiClient, store_path: Path
) -> None:
    """A protection set over ARM is the one the engines ask: manualupgrade naming it is 409 (IP-7), an OS
    rolling upgrade leaves it on its old image (IP-4)."""
    client.arm("PUT", f"{VMSS}/virtualMachines/0", {"properties": {"protectionPolicy": BOTH}})
    refused = client.arm("POST", f"{VMSS}/manualupgrade", {"instanceIds": ["0"]})
    assert refused.status == 409 and refused.json["error"]["code"] == "OperationNotAllowed", refused
    publish(store_path, "1.1.0")
    assert client.arm("POST", f"{VMSS}/osRollingUpgrade").status == 202
    vms = client.arm("GET", f"{VMSS}/virtualMachines").json["value"]
    versions = {vm["instanceId"]: vm["properties"]["storageProfile"]["imageReference"]["exactVersion"] for vm in vms}
    assert versions == {"0": "1.0.0", "1": "1.1.0", "2": "1.1.0"}


def test_protection_changes_during_a_rolling_upgrade_are_accepted(store_path: Path, files: StateFiles) -> None:
    """CF-2 refuses model changes during a run; protection is on the instance model, not the scale set's (IP-1),
    so setting it on an instance outside the batch is accepted (the run's candidates were fixed at its start)."""
    publish(store_path, "1.0.0")
    client = WsgiClient(make_app(store_path, files, clock="manual"))
    assert client.arm("PUT", VMSS, body(capacity=5)).status == 201
    publish(store_path, "1.1.0")
    assert client.arm("POST", f"{VMSS}/osRollingUpgrade").status == 202
    answer = client.arm("PUT", f"{VMSS}/virtualMachines/4", {"properties": {"protectionPolicy": BOTH}})
    assert answer.status == 200 and answer.json["properties"]["protectionPolicy"] == BOTH, answer
    assert client.raw("POST", "/azsim/clock", b'{"advance": "PT2H"}').status == 200
    latest = client.arm("GET", f"{VMSS}/rollingUpgrades/latest").json["properties"]
    assert latest["runningStatus"]["code"] == "Completed", latest
    assert client.arm("GET", f"{VMSS}/virtualMachines/4").json["properties"]["protectionPolicy"] == BOTH
