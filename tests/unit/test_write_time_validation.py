# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every value is checked when it is given, never when a later run reads it (issue 11 item 11).

In the style of test_hostile_input.py: each hostile value through the module's ``main()`` must fail with
``fail_json``, a message that starts with the option's path and says what is allowed, never "internal
error", and leave the store byte-identical. Then the same values through the ARM endpoint, which answers
Azure's error codes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import KNOWN_API_VERSIONS
from ansible_collections.azsim.vmss.plugins.modules import (
    sim_clock,
    vm_image,
    vmss,
    vmss_info,
    vmss_os_rolling_upgrade,
    vmss_upgrade_policy,
)
from ansible_collections.azsim.vmss.tests.unit._arm import SUBSCRIPTION, WsgiClient, make_app, state_files
from ansible_collections.azsim.vmss.tests.unit._harness import call

IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
WEB = {"resource_group": "rg", "name": "web"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("validation") / "template.sqlite"
    for module, args in (
        (vm_image, {"location": "eastus", **IMAGE, "version": "1.0.0"}),
        (vmss, {**WEB, "image": IMAGE, "instances": ["h1", "h2"]}),
    ):
        result = call(module, {"store": str(path), **args})
        assert result["rc"] == 0, result
    return path.read_bytes()


@pytest.fixture
def store(tmp_path: Path, template: bytes) -> Path:
    path = tmp_path / "vmss.sqlite"
    path.write_bytes(template)
    return path


def refused(module: Any, args: dict[str, Any], store: Path, template: bytes) -> str:
    result = call(module, {"store": str(store), **args})
    msg = str(result.get("msg", ""))
    assert result["rc"] == 1 and result.get("failed") is True, result
    assert "internal error" not in msg and "exception" not in result, msg
    assert store.read_bytes() == template and not Path(f"{store}-wal").exists(), "a refused call changed the store"
    return msg


LONG = "9" * 5000
SIMULATION_CASES = [
    pytest.param(
        {"reimage_duration": f"PT{LONG}S"},
        r"simulation\.reimage_duration: .* longer than 100 years",
        id="5000-digit-duration",
    ),
    pytest.param(
        {"boot_duration": f"P{LONG}D"}, r"simulation\.boot_duration: .* longer than 100 years", id="5000-digit-days"
    ),
    pytest.param(
        {"faults": [{"type": "unhealthy_at", "at": "P99999D"}]},
        r"^simulation\.faults\[0\]\.at: 'P99999D' is longer than 100 years",
        id="fault-at-past-100-years",
    ),
    pytest.param(
        {"faults": [{"type": "slow_boot", "delay": f"PT{LONG}S"}]},
        r"^simulation\.faults\[0\]\.delay: .* longer than 100 years",
        id="fault-delay-5000-digits",
    ),
    pytest.param(
        {"faults": [{"type": "boot_unhealthy", "probability": math.nan}]},
        r"^simulation\.faults\[0\]\.probability: nan is not allowed; use a number from 0 to 1",
        id="nan-probability",
    ),
    pytest.param(
        {"faults": [{"type": "boot_unhealthy", "probability": math.inf}]},
        r"simulation\.faults\[0\]\.probability",
        id="inf-probability",
    ),
]


@pytest.mark.parametrize(("simulation", "message"), SIMULATION_CASES)
def test_simulation_values_are_refused_when_given(
    store: Path, template: bytes, simulation: dict[str, Any], message: str
) -> None:
    msg = refused(vmss, {**WEB, "simulation": simulation}, store, template)
    assert pytest.importorskip("re").search(message, msg), msg
    assert len(msg) < 400, "a hostile value is not echoed whole"


@pytest.mark.parametrize(
    ("module", "args"),
    [
        pytest.param(sim_clock, {"advance": f"PT{LONG}S"}, id="sim_clock-advance"),
        pytest.param(vmss_os_rolling_upgrade, {**WEB, "wait_timeout": f"PT{LONG}M"}, id="rolling-wait_timeout"),
    ],
)
def test_durations_of_thousands_of_digits_are_refused_by_every_module(
    store: Path, template: bytes, module: Any, args: dict[str, Any]
) -> None:
    msg = refused(module, args, store, template)
    assert "longer than 100 years" in msg, msg


def test_a_stored_fault_can_no_longer_break_every_later_run(store: Path, template: bytes) -> None:
    """The refused fault is never stored, so the next run works (before, it was stored and each run failed)."""
    refused(vmss, {**WEB, "simulation": {"faults": [{"type": "unhealthy_at", "at": "P40000D"}]}}, store, template)
    assert call(vm_image, {"store": str(store), "location": "eastus", **IMAGE, "version": "1.1.0"})["rc"] == 0
    run = call(vmss_os_rolling_upgrade, {"store": str(store), **WEB, "wait": True})
    assert run["rc"] == 0 and run["rolling_upgrade"]["properties"]["runningStatus"]["code"] == "Completed", run


@pytest.mark.parametrize(
    "subscription",
    [
        "",
        "not-a-guid",
        "00000000-0000-0000-0000-00000000000g",
        "a\x00b",
        "\x1b[31m",
        "../../x",
        "x" * 100_000,
        "00000000000000000000000000000000",
        "{00000000-0000-0000-0000-000000000000}",
    ],
    ids=["empty", "word", "non-hex", "nul", "esc", "path", "100k", "no-dashes", "braces"],
)
@pytest.mark.parametrize(
    "module", [vmss, vmss_info, vmss_upgrade_policy, sim_clock], ids=lambda m: m.__name__.split(".")[-1]
)
def test_subscription_id_must_be_a_guid(store: Path, template: bytes, module: Any, subscription: str) -> None:
    args: dict[str, Any] = {"subscription_id": subscription}
    if module is not sim_clock:
        args.update(WEB)
    if subscription == "":
        # An empty option is "not given": the default subscription is used, and works.
        assert call(module, {"store": str(store), **args})["rc"] == 0
        return
    if "\x00" in subscription:
        # From Python 3.12 syslog refuses a NUL, so ansible-core's log of the invocation fails the module before
        # azsim.vmss sees the value: refused, nothing written. Then as with no_target_syslog set
        # (``_ansible_no_log``, what the controller sends for it), azsim.vmss's own refusal, on every Python.
        refused(module, args, store, template)
        args = {**args, "_ansible_no_log": True}
    msg = refused(module, args, store, template)
    assert msg.startswith("subscription_id: ") and "GUID" in msg and len(msg) < 400, msg


def test_a_subscription_id_from_the_environment_must_be_a_guid_too(
    store: Path, template: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "my subscription")
    msg = refused(vmss_info, WEB, store, template)
    assert msg.startswith("AZURE_SUBSCRIPTION_ID: 'my subscription' is not a subscription id"), msg
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "11111111-2222-3333-4444-555555555555")
    assert call(vmss_info, {"store": str(store), **WEB})["rc"] == 0


@pytest.mark.parametrize(
    ("name", "character"),
    [
        ("h1\u200b", "U+200B"),
        ("h\u202e1", "U+202E"),
        ("h1\u2066", "U+2066"),
        ("\ufeffh1", "U+FEFF"),
        ("h1\u00ad", "U+00AD"),
        ("h1\x85", ""),
        ("h1\u2028", ""),
        ("h1\ue000", "U+E000"),
    ],
    ids=[
        "zero-width-space",
        "rtl-override",
        "bidi-isolate",
        "bom",
        "soft-hyphen",
        "nel",
        "line-separator",
        "private-use",
    ],
)
def test_instance_names_with_invisible_characters_are_refused(
    store: Path, template: bytes, name: str, character: str
) -> None:
    """'h1' and 'h1\\u200b' print alike: only one of them may exist."""
    msg = refused(vmss, {**WEB, "instances": ["h1", "h2", name]}, store, template)
    assert msg.startswith("instances[2].name: ") and character in msg, msg  # whitespace: the older rule's message


def test_instance_names_in_other_scripts_are_still_hosts(store: Path) -> None:
    result = call(vmss, {"store": str(store), **WEB, "instances": ["h1", "h2", "hôte-1", "узел-2", "ノード3"]})
    assert result["rc"] == 0 and len(result["instances"]) == 5, result


@pytest.mark.parametrize(
    "disk",
    ["", "../etc", "a/b", "-data", "_data", "data.", "data-", "dä", "a b", "x" * 81, "a\u200b"],
    ids=[
        "empty",
        "dotdot",
        "slash",
        "leading-hyphen",
        "leading-underscore",
        "trailing-dot",
        "trailing-hyphen",
        "non-ascii",
        "space",
        "81-chars",
        "zero-width",
    ],
)
def test_data_disk_names_follow_azures_rule(store: Path, template: bytes, disk: str) -> None:
    """Microsoft.Compute/disks: 1-80 alphanumerics, '_', '-', '.', first alphanumeric, not ending in '-' or '.'."""
    instances = ["h1", {"name": "h2", "data_disks": [{"lun": 0, "name": disk}]}]
    msg = refused(vmss, {**WEB, "instances": instances}, store, template)
    assert msg.startswith("instances[1].data_disks[0].name: ") and "1 to 80" in msg, msg


def test_valid_data_disk_names_are_kept_and_duplicates_refused(store: Path, template: bytes) -> None:
    disks = [{"lun": 0, "name": "data_0"}, {"lun": 1, "name": "Logs.disk-1"}, {"lun": 2, "name": "x" * 80}]
    result = call(vmss, {"store": str(store), **WEB, "instances": ["h1", {"name": "h2", "data_disks": disks}]})
    assert result["rc"] == 0, result
    path = store.with_name("again.sqlite")
    path.write_bytes(template)
    twice = [{"lun": 0, "name": "data"}, {"lun": 1, "name": "DATA"}]
    msg = refused(vmss, {**WEB, "instances": ["h1", {"name": "h2", "data_disks": twice}]}, path, template)
    assert msg.startswith("instances[1].data_disks[1].name: 'DATA' is listed twice"), msg


@pytest.mark.parametrize("version", ["9999-99-99", "", "2024-11-02", "2024-11-01-preview", "latest", "2024-11-01 "])
def test_api_version_must_be_one_the_specification_knows(store: Path, template: bytes, version: str) -> None:
    msg = refused(vmss, {**WEB, "api_version": version}, store, template)
    assert msg.startswith("api_version: ") and "2024-11-01" in msg and "2026-09-01" in msg, msg


def test_every_known_api_version_is_accepted(store: Path) -> None:
    for version in KNOWN_API_VERSIONS:
        result = call(vmss, {"store": str(store), **WEB, "api_version": version})
        assert result["rc"] == 0 and result["simulator"]["api_version"] == version, result


# -- the ARM endpoint: Azure's codes ------------------------------------------------------------------


@pytest.fixture
def client(store: Path, tmp_path: Path) -> WsgiClient:
    return WsgiClient(make_app(store, state_files(tmp_path / "arm-state")))


@pytest.mark.parametrize("subscription", ["not-a-guid", "00000000-0000-0000-0000-00000000000Z", "x" * 300])
def test_the_endpoint_answers_invalid_subscription_id(client: WsgiClient, subscription: str) -> None:
    path = f"/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web"
    answer = client.arm("GET", path)
    assert answer.status == 400, answer
    error = answer.json["error"]
    assert error["code"] == "InvalidSubscriptionId"
    assert (
        error["message"].startswith("The provided subscription identifier '")
        and "is malformed or invalid" in error["message"]
    )


def test_the_endpoint_refuses_a_put_with_an_unknown_api_version(
    client: WsgiClient, store: Path, template: bytes
) -> None:
    path = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/new"
    body = {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 1},
        "properties": {"virtualMachineProfile": {"storageProfile": {"imageReference": {**IMAGE, "version": "latest"}}}},
    }
    answer = client.arm("PUT", path, body, api_version="2099-01-01")
    assert answer.status == 400 and answer.json["error"]["code"] == "NoRegisteredProviderFound", answer
    assert store.read_bytes() == template
    assert client.arm("PUT", path, body, api_version="2024-07-01").status in (200, 201)
    assert json.dumps(client.arm("GET", path, api_version="2024-07-01").json).count("/new") >= 1
