# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vmss_upgrade_policy through main(): the JSON a playbook would get, and what the store holds afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._model import scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import DEFAULT_UPGRADE_POLICY
from ansible_collections.azsim.vmss.plugins.module_utils._model.schema import UPGRADE_POLICY_SCHEMA, validate
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.plugins.modules import vmss_upgrade_policy
from ansible_collections.azsim.vmss.tests.unit._call import act
from ansible_collections.azsim.vmss.tests.unit._harness import run as harness_run

SUB = "00000000-0000-0000-0000-000000000000"
WINDOWS = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-Datacenter"}
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A store with scale set rg/web (Ubuntu latest, probe, 10 instances) and rg/win (fails three requirements)."""
    path = tmp_path / "store" / "vmss.sqlite"
    store = Store.open(str(path))
    try:
        with store.transaction():
            for image in (UBUNTU, WINDOWS):
                act(
                    publish_image,
                    store,
                    SUB,
                    {**image, "state": "present", "version": "1.0.0", "location": "eastus", "gallery_image_id": None},
                )
            base = {"resource_group": "rg", "state": "present", "instances": [f"h{n}" for n in range(10)]}
            act(
                ensure_scale_set,
                store,
                SUB,
                {
                    **base,
                    "name": "web",
                    "image": {**UBUNTU, "version": "latest"},
                    "health_probe": {"protocol": "tcp", "port": 80},
                },
            )
            act(
                ensure_scale_set,
                store,
                SUB,
                {
                    **base,
                    "name": "win",
                    "os_type": "windows",
                    "image": {**WINDOWS, "version": "1.0.0"},
                    "windows_configuration": {"enable_automatic_updates": True},
                },
            )
    finally:
        store.close()
    return path


def run(args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Run the module as Ansible would; (exit code, parsed result)."""
    return harness_run(vmss_upgrade_policy, args)


def stored_policy(path: Path, name: str = "web") -> dict[str, Any]:
    store = Store.open(str(path))
    try:
        with store.transaction(commit=False):
            return dict(scaleset.load_or_fail(store, SUB, "rg", name)["model"]["properties"]["upgradePolicy"])
    finally:
        store.close()


def args(path: Path, name: str = "web", **options: Any) -> dict[str, Any]:
    return {"store": str(path), "resource_group": "rg", "name": name, **options}


ENABLE: dict[str, Any] = {
    "mode": "Rolling",
    "automatic_os_upgrade": {"enabled": True, "use_rolling_upgrade_policy": True},
    "rolling_upgrade_policy": {"max_batch_instance_percent": 30, "pause_time_between_batches": "PT1M"},
}


def test_sets_the_policy(store_path: Path) -> None:
    rc, result = run(args(store_path, **ENABLE))
    assert rc == 0 and result["changed"] is True
    validate(result["upgrade_policy"], UPGRADE_POLICY_SCHEMA)
    assert result["upgrade_policy"]["rollingUpgradePolicy"]["maxBatchInstancePercent"] == 30
    assert result["findings"] == []
    assert "before" not in result and "after" not in result and "diff" not in result
    assert stored_policy(store_path) == result["upgrade_policy"]


def test_second_run_is_not_changed(store_path: Path) -> None:
    run(args(store_path, **ENABLE))
    rc, result = run(args(store_path, **ENABLE))
    assert (rc, result["changed"]) == (0, False)


def test_check_mode_reports_and_writes_nothing(store_path: Path) -> None:
    rc, result = run(args(store_path, _ansible_check_mode=True, **ENABLE))
    assert (rc, result["changed"]) == (0, True)
    assert result["upgrade_policy"]["mode"] == "Rolling"
    assert stored_policy(store_path) == DEFAULT_UPGRADE_POLICY


def test_diff_shows_before_and_after(store_path: Path) -> None:
    rc, result = run(args(store_path, _ansible_diff=True, mode="Automatic"))
    assert rc == 0
    assert result["diff"]["before"]["upgrade_policy"]["mode"] == "Manual"
    assert result["diff"]["after"]["upgrade_policy"]["mode"] == "Automatic"


def test_unmet_requirements_fail_with_every_finding(store_path: Path) -> None:
    rc, result = run(args(store_path, "win", automatic_os_upgrade={"enabled": True}))
    assert rc == 1 and result["failed"] is True
    errors = [f for f in result["findings"] if f["severity"] == "error"]
    assert [f["code"] for f in errors] == [
        "ImageVersionNotLatest",
        "HealthSourceMissing",
        "WindowsAutomaticUpdatesEnabled",
    ]
    assert all(set(f) == {"code", "path", "message", "severity"} for f in result["findings"])
    assert "\n" not in result["msg"]
    assert (
        "3 unmet requirements (ImageVersionNotLatest, HealthSourceMissing, WindowsAutomaticUpdatesEnabled)"
        in (result["msg"])
    )
    assert result["upgrade_policy"] == DEFAULT_UPGRADE_POLICY
    assert "exception" not in result
    assert stored_policy(store_path, "win") == DEFAULT_UPGRADE_POLICY


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (
            {"rolling_upgrade_policy": {"max_batch_instance_percent": 3}},
            "rolling_upgrade_policy.max_batch_instance_percent: 3 is not allowed; use a whole number from 5 to 100",
        ),
        (
            {"rolling_upgrade_policy": {"pause_time_between_batches": "5 minutes"}},
            "rolling_upgrade_policy.pause_time_between_batches: '5 minutes' is not an ISO 8601 duration",
        ),
        ({"rolling_upgrade_policy": {"max_batch_instance_percent": "many"}}, "max_batch_instance_percent"),
        ({"mode": "Sometimes"}, "mode"),
        ({"automatic_os_upgrade": {"enable": True}}, "enable"),
    ],
)
def test_bad_options_name_the_option(store_path: Path, options: dict[str, Any], needle: str) -> None:
    rc, result = run(args(store_path, **options))
    assert rc == 1
    assert needle in result["msg"]
    assert "Traceback" not in json.dumps(result)
    assert stored_policy(store_path) == DEFAULT_UPGRADE_POLICY


def test_missing_scale_set_is_an_error_not_a_traceback(store_path: Path) -> None:
    rc, result = run(args(store_path, "absent", mode="Manual"))
    assert rc == 1
    assert "scale set absent" in result["msg"] and "azsim.vmss.vmss" in result["msg"]
    assert "exception" not in result


def test_warnings_are_returned_and_shown(store_path: Path) -> None:
    rc, result = run(args(store_path, rolling_upgrade_policy={"max_unhealthy_instance_percent": 5}, mode="Rolling"))
    assert (rc, result["changed"]) == (0, True)
    assert [f["code"] for f in result["findings"]] == ["PolicyStopsOnFirstUnhealthyInstance"]
    # ansible-core 2.19 wraps each warning in a WarningSummary; the text is in it.
    assert "PolicyStopsOnFirstUnhealthyInstance: " in json.dumps(result["warnings"])
