# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azsim.vmss.vmss through main(): check mode, diff, idempotence, errors that name the option, no secrets."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from ansible.module_utils.common.parameters import PASS_VARS

from ansible_collections.azsim.vmss.plugins.modules import sim_clock, vm_image, vmss, vmss_info
from ansible_collections.azsim.vmss.tests.unit._harness import dump
from ansible_collections.azsim.vmss.tests.unit._harness import run_printed as run

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-web"
VMSS_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
SECRET = "sv=2024&sig=Zm9vYmFyc2VjcmV0"
SECRET_KEY = "storageAccountKey"
# ansible-core 2.21 echoes the module arguments (``invocation``) only when the controller asks for it
# (INJECT_INVOCATION, off by default; 2.19 and 2.20 always echo and refuse the flag as unknown): ask as such a
# controller does, so that the masking of the echo is checked on every version.
INJECT_INVOCATION: dict[str, Any] = {"_ansible_inject_invocation": True} if "inject_invocation" in PASS_VARS else {}

BASE: dict[str, Any] = {
    "resource_group": RG,
    "name": "web",
    "image": {**UBUNTU, "version": "latest"},
    "zones": ["1", "2", "3"],
    "instances": ["web-01", "web-02", {"name": "web-03", "data_disks": [{"lun": 0, "disk_size_gb": 64}]}],
    "extensions": [
        {
            "name": "health",
            "publisher": "Microsoft.ManagedServices",
            "type": "ApplicationHealthLinux",
            "type_handler_version": "2.0",
            "settings": {"protocol": "http", "port": 80, "requestPath": "/health"},
        },
        {
            "name": "config",
            "publisher": "Microsoft.Azure.Extensions",
            "type": "CustomScript",
            "type_handler_version": "2.1",
            "provision_after_extensions": ["health"],
            "settings": {"commandToExecute": "sh setup.sh"},
            "protected_settings": {SECRET_KEY: SECRET},
            "credential_expiry": "2026-01-01T00:00:00Z",
        },
    ],
    "simulation": {"seed": 42, "faults": [{"type": "boot_unhealthy", "instances": ["web-03"]}]},
}


def assert_no_secret(printed: str, result: dict[str, Any]) -> None:
    """The secret is in no printed byte; its key only in Ansible's masked echo of the arguments."""
    assert SECRET not in printed
    shown = {k: v for k, v in result.items() if k != "invocation"}
    text = json.dumps(shown)
    assert SECRET_KEY not in text
    assert "protectedSettings" not in text
    assert "protected_settings" not in text


@pytest.fixture
def store(tmp_path: Any) -> str:
    path = str(tmp_path / "store.sqlite")
    for version in ("1.0.0", "1.1.0"):
        rc, result, _out = run(vm_image, {"store": path, **UBUNTU, "version": version})
        assert rc == 0, result
    return path


@pytest.fixture
def scale_set(store: str) -> Any:
    def call(check: bool = False, diff: bool = False, **args: Any) -> tuple[int, dict[str, Any], str]:
        return run(vmss, {"store": store, "_ansible_check_mode": check, "_ansible_diff": diff, **args})

    return call


@pytest.fixture
def info(store: str) -> Any:
    def call(**args: Any) -> dict[str, Any]:
        rc, result, _out = run(vmss_info, {"store": store, "resource_group": RG, **args})
        assert rc == 0, result
        return result

    return call


def base(**changes: Any) -> dict[str, Any]:
    args = copy.deepcopy(BASE)
    args.update(changes)
    return args


# -- check mode → real run → again -----------------------------------------------------------------------


def test_create_check_mode_then_real_then_again(store: str, scale_set: Any, info: Any) -> None:
    before = dump(store)
    rc, checked, printed = scale_set(check=True, diff=True, **base())
    assert rc == 0, checked
    assert checked["changed"] is True
    assert checked["vmss"]["id"] == VMSS_ID
    assert checked["vmss"]["sku"]["capacity"] == 3
    assert [i["name"] for i in checked["instances"]] == ["web-01", "web-02", "web-03"]
    assert {i["os_disk"]["image_version"] for i in checked["instances"]} == {"1.1.0"}
    assert checked["diff"]["before"] == {}
    assert checked["diff"]["after"]["vmss"] == checked["vmss"]
    assert_no_secret(printed, checked)
    assert dump(store) == before  # check mode wrote nothing
    assert info(name="web")["exists"] is False

    rc, real, printed = scale_set(diff=True, **base())
    assert rc == 0, real
    assert real["changed"] is True
    assert real["vmss"] == checked["vmss"]  # check mode showed exactly what happens
    assert real["instances"] == checked["instances"]
    assert real["diff"] == checked["diff"]
    assert_no_secret(printed, real)
    shown = info(name="web")
    assert shown["exists"] is True
    assert shown["vmss"] == real["vmss"]
    after_real = dump(store)

    rc, again, printed = scale_set(diff=True, **base())
    assert rc == 0, again
    assert again["changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"]
    assert again["vmss"] == real["vmss"]
    assert again["instances"] == real["instances"]
    assert_no_secret(printed, again)
    assert dump(store) == after_real


def test_update_check_mode_diff_and_idempotence(store: str, scale_set: Any, info: Any) -> None:
    scale_set(**base())
    before = dump(store)
    grown = base(instances=BASE["instances"] + ["web-04"])
    rc, checked, _printed = scale_set(check=True, diff=True, **grown)
    assert rc == 0, checked
    assert checked["changed"] is True
    assert checked["diff"]["before"]["vmss"]["sku"]["capacity"] == 3
    assert checked["diff"]["after"]["vmss"]["sku"]["capacity"] == 4
    assert [i["name"] for i in checked["diff"]["after"]["instances"]][-1] == "web-04"
    assert dump(store) == before
    assert len(info(name="web")["instances"]) == 3

    rc, real, _printed = scale_set(**grown)
    assert real["changed"] is True
    assert real["instances"][-1] == {**checked["instances"][-1]}
    assert real["instances"][-1]["instance_id"] == "3"
    assert real["instances"][-1]["zone"] == "1"
    rc, again, _printed = scale_set(**grown)
    assert again["changed"] is False


def test_an_empty_update_changes_nothing(scale_set: Any) -> None:
    scale_set(**base())
    rc, result, _printed = scale_set(resource_group=RG, name="web")
    assert rc == 0, result
    assert result["changed"] is False
    assert result["vmss"]["sku"]["capacity"] == 3


def test_no_diff_without_diff_mode(scale_set: Any) -> None:
    _rc, result, _printed = scale_set(**base())
    assert "diff" not in result


def test_changed_protected_settings_is_a_change_but_never_shown(store: str, scale_set: Any) -> None:
    scale_set(**base())
    rotated = base()
    rotated["extensions"][1]["protected_settings"] = {SECRET_KEY: SECRET + "-rotated"}
    before = dump(store)
    rc, checked, printed = scale_set(check=True, diff=True, **rotated)
    assert rc == 0, checked
    assert checked["changed"] is True
    assert checked["simulator"]["model_version"] == 2
    assert [i["latest_model_applied"] for i in checked["instances"]] == [False, False, False]
    assert_no_secret(printed, checked)
    assert SECRET + "-rotated" not in printed
    assert dump(store) == before
    rc, real, printed = scale_set(diff=True, **rotated)
    assert real["changed"] is True
    assert_no_secret(printed, real)
    rc, again, printed = scale_set(**rotated)
    assert again["changed"] is False
    assert_no_secret(printed, again)
    assert SECRET not in "\n".join(dump(store))


def test_renewed_credential_expiry_is_a_model_change(scale_set: Any) -> None:
    scale_set(**base())
    renewed = base()
    renewed["extensions"][1]["credential_expiry"] = "2027-01-01T00:00:00Z"
    _rc, result, _printed = scale_set(**renewed)
    assert result["changed"] is True
    assert result["simulator"]["credential_expiry"]["config"] == "2027-01-01T00:00:00Z"
    assert result["simulator"]["model_version"] == 2


def test_absent_check_mode_then_real_then_again(store: str, scale_set: Any, info: Any) -> None:
    scale_set(**base())
    before = dump(store)
    rc, checked, _printed = scale_set(check=True, diff=True, resource_group=RG, name="web", state="absent")
    assert rc == 0, checked
    assert checked["changed"] is True
    assert checked["vmss"] is None and checked["instances"] == []
    assert checked["diff"]["after"] == {}
    assert checked["diff"]["before"]["vmss"]["id"] == VMSS_ID
    assert dump(store) == before
    assert info(name="web")["exists"] is True
    rc, real, _printed = scale_set(resource_group=RG, name="web", state="absent")
    assert real["changed"] is True
    assert info(name="web")["exists"] is False
    after = dump(store)
    rc, again, _printed = scale_set(resource_group=RG, name="web", state="absent")
    assert again["changed"] is False
    assert dump(store) == after


def test_new_instances_get_the_latest_image_resolved(store: str, scale_set: Any) -> None:
    scale_set(**base())
    rc, _published, _out = run(vm_image, {"store": store, **UBUNTU, "version": "1.10.0"})
    assert rc == 0
    _rc, result, _printed = scale_set(**base(instances=BASE["instances"] + ["web-04"]))
    versions = {i["name"]: i["os_disk"]["image_version"] for i in result["instances"]}
    assert versions == {"web-01": "1.1.0", "web-02": "1.1.0", "web-03": "1.1.0", "web-04": "1.10.0"}


def test_restating_instances_after_the_clock_moved_changes_nothing(store: str, scale_set: Any) -> None:
    args = base(
        instances=[{"name": "web-01", "power_state": "running"}, {"name": "web-02", "health": "Unhealthy"}],
        simulation={"seed": 42, "faults": []},
    )
    scale_set(**args)
    rc, _moved, _out = run(sim_clock, {"store": store, "advance": "P1D"})
    assert rc == 0
    _rc, again, _printed = scale_set(**args)
    assert again["changed"] is False


# -- errors ----------------------------------------------------------------------------------------------

BAD_INPUT = [
    ({"location": "westus"}, r"^location: scale set web is in eastus"),
    ({"location": "east/us"}, r"^location: 'east/us'"),
    (
        {"instances": ["web-01", {"name": "web-02", "zone": "3"}]},
        r"^instances\[1\]\.zone: instance web-02 is in zone '2'",
    ),
    ({"instances": [{"name": "web-01", "zone": "5"}]}, r"^instances\[0\]\.zone: '5' is not one of"),
    ({"instances": [{"name": "web-01", "rack": 4}]}, r"^instances\[0\]: unknown key rack"),
    ({"instances": ["web-01", "web-01"]}, r"^instances\[1\]\.name: 'web-01' is listed twice"),
    ({"instances": [{"name": "web-01", "health": "Fine"}]}, r"^instances\[0\]\.health: 'Fine'"),
    ({"instances": [{"name": "web-01", "power_state": "off"}]}, r"^instances\[0\]\.power_state: 'off'"),
    (
        {
            "extensions": [
                {
                    "name": "a",
                    "publisher": "p",
                    "type": "t",
                    "type_handler_version": "1.0",
                    "provision_after_extensions": ["b"],
                },
                {
                    "name": "b",
                    "publisher": "p",
                    "type": "t",
                    "type_handler_version": "1.0",
                    "provision_after_extensions": ["a"],
                },
            ]
        },
        r"^extensions: provision_after_extensions has a cycle",
    ),
    (
        {
            "extensions": [
                {
                    "name": "a",
                    "publisher": "p",
                    "type": "t",
                    "type_handler_version": "1.0",
                    "provision_after_extensions": ["ghost"],
                }
            ]
        },
        r"^extensions\[0\]\.provision_after_extensions: 'ghost'",
    ),
    (
        {"extensions": [{"name": "a", "publisher": "p", "type": "t", "type_handler_version": "abc"}]},
        r"extensions\[0\]\.properties\.typeHandlerVersion: 'abc'",
    ),
    (
        {
            "extensions": [
                {"name": "a", "publisher": "p", "type": "t", "type_handler_version": "1.0", "credential_expiry": "soon"}
            ]
        },
        r"^extensions\[0\]\.credential_expiry: 'soon'",
    ),
    (
        {"extensions": [{"name": "a", "publisher": "p", "type": "t"}]},
        r"missing required arguments: type_handler_version found in extensions",
    ),
    (
        {"simulation": {"faults": [{"type": "boot_unhealthy", "probability": 2}]}},
        r"^simulation\.faults\[0\]\.probability: 2",
    ),
    ({"simulation": {"reimage_duration": "3m"}}, r"^simulation\.reimage_duration: '3m'"),
    ({"image": {**UBUNTU, "version": "9.9.9"}}, None),  # an update to a version the catalogue lacks
    ({"image": {**UBUNTU, "version": "1.0"}}, r"^image\.version: '1\.0'"),
    ({"image": {"id": "/subscriptions/x/images/y"}}, r"^image\.id: "),
    ({"zones": ["1", "7"]}, r"^zones\[1\]: '7' is not allowed"),
    ({"api_version": "latest"}, r"^api_version: 'latest'"),
    ({"os_type": "solaris"}, r"value of os_type must be one of: linux, windows"),
    ({"health_probe": {"protocol": "http", "port": 80}}, r"^health_probe\.request_path: required"),
    ({"windows_configuration": {"patch_mode": "Manual"}}, r"^windows_configuration: only for os_type windows"),
    ({"colour": "blue"}, r"Unsupported parameters.*colour"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_INPUT)
def test_bad_update_fails_naming_the_option_and_writes_nothing(
    store: str, scale_set: Any, changes: dict[str, Any], message: str | None
) -> None:
    scale_set(**base())
    before = dump(store)
    for check in (False, True):
        rc, result, printed = scale_set(check=check, **base(**changes))
        assert rc == 1, result
        assert result["failed"] is True
        assert "exception" not in result
        if message is not None:
            assert re.search(message, result["msg"]), result["msg"]
        else:
            assert re.search(r"^image: the catalogue has no .*server:9\.9\.9 available in eastus", result["msg"])
        assert SECRET not in printed
        assert dump(store) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"resource_group": "rg.", "name": "web"}, r"^resource_group: 'rg\.'"),
        ({"resource_group": RG, "name": "web-"}, r"^name: 'web-'"),
        ({"resource_group": RG, "name": "-"}, r"^name: '-'"),
        ({"name": "web"}, r"missing required arguments: resource_group"),
        (
            {"resource_group": RG, "name": "web", "image": {**UBUNTU, "offer": "nope"}},
            r"^image: the catalogue has no platform image Canonical:nope:server:latest available in eastus",
        ),
        (
            {"resource_group": RG, "name": "web", "image": {**UBUNTU}, "location": "westus"},
            r"^image: .*available in westus",
        ),
        ({"resource_group": RG, "name": "web"}, r"^image: required to create scale set web"),
    ],
)
def test_bad_create_fails_naming_the_option_and_writes_nothing(
    store: str, scale_set: Any, info: Any, args: dict[str, Any], message: str
) -> None:
    before = dump(store)
    for check in (False, True):
        rc, result, _printed = scale_set(check=check, **args)
        assert rc == 1, result
        assert "exception" not in result
        assert re.search(message, result["msg"]), result["msg"]
        assert dump(store) == before
    assert info(name="web")["exists"] is False


def test_update_instances_rerun_is_idempotent(store: str, scale_set: Any) -> None:
    scale_set(**base())
    renewed = base(update_instances=["all"])
    renewed["extensions"][1]["credential_expiry"] = "2027-01-01T00:00:00Z"
    rc, first, _printed = scale_set(**renewed)
    assert rc == 0 and first["changed"] is True
    rc, _moved, _out = run(sim_clock, {"store": store, "advance": "PT1H"})
    assert rc == 0
    rc, again, _printed = scale_set(**renewed)
    assert rc == 0, again
    assert again["changed"] is False
    assert "rolling_upgrade" not in again


@pytest.mark.parametrize("check", [False, True], ids=["real", "check-mode"])
@pytest.mark.parametrize("image", ["latest", "9.9.9"], ids=["created", "refused"])
def test_protected_settings_given_as_a_key_value_string_are_masked(store: str, check: bool, image: str) -> None:
    """Ansible turns ``protected_settings: "k=v"`` into a dict after it masked the string; the values of the
    converted dict must not appear either (issue 11 item 3), whether the call succeeds or is refused."""
    extension = {**BASE["extensions"][1], "protected_settings": f"{SECRET_KEY}={SECRET}"}
    args = {**BASE, "image": {**UBUNTU, "version": image}, "extensions": [BASE["extensions"][0], extension]}
    rc, result, printed = run(vmss, {"store": store, "_ansible_check_mode": check, **INJECT_INVOCATION, **args})
    assert rc == (0 if image == "latest" else 1), result
    assert SECRET not in printed
    assert result["invocation"]["module_args"]["extensions"][1]["protected_settings"] == {
        SECRET_KEY: "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    }


def test_a_scalar_for_an_option_with_sub_options_is_refused_without_showing_a_secret(store: str) -> None:
    """ansible-core raises on ``health_probe: false`` (ansible/ansible#81631); the glue's own refusal must still
    mask the protected settings given in the same call."""
    rc, result, printed = run(vmss, {"store": store, **BASE, "health_probe": False})
    assert rc == 1, result
    assert result["msg"].startswith("health_probe: False is not allowed; give a dict of its options")
    assert SECRET not in printed


def test_terminate_notification_check_mode_diff_idempotence_and_refusal_azure_behaviour_2_ms_9(
    store: str, scale_set: Any, info: Any
) -> None:
    """The option maps to Azure's scheduledEventsProfile; check mode writes nothing, a second run changes nothing,
    and a timeout outside PT5M..PT15M is refused naming the option, with nothing written."""
    scale_set(**base())
    before = dump(store)
    notified = base(terminate_notification={"not_before_timeout": "PT10M"})
    rc, checked, _printed = scale_set(check=True, diff=True, **notified)
    assert rc == 0, checked
    assert checked["changed"] is True
    profile = checked["vmss"]["properties"]["virtualMachineProfile"]["scheduledEventsProfile"]
    assert profile["terminateNotificationProfile"] == {"enable": True, "notBeforeTimeout": "PT10M"}
    assert "scheduledEventsProfile" not in checked["diff"]["before"]["vmss"]["properties"]["virtualMachineProfile"]
    assert dump(store) == before

    rc, real, _printed = scale_set(**notified)
    assert rc == 0 and real["changed"] is True, real
    assert real["vmss"] == checked["vmss"]
    after = dump(store)
    rc, again, _printed = scale_set(**notified)
    assert rc == 0 and again["changed"] is False, again
    assert dump(store) == after

    rc, refused, _printed = scale_set(**base(terminate_notification={"not_before_timeout": "PT20M"}))
    assert rc == 1 and refused["failed"] is True, refused
    assert "terminate_notification.not_before_timeout" in refused["msg"]
    assert "PT5M" in refused["msg"] and "PT15M" in refused["msg"]
    assert dump(store) == after
