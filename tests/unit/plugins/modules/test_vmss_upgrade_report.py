# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azsim.vmss.vmss_upgrade_report through main() (conventions habit 8): check mode writes nothing, a second
run changes nothing, diff shows the file's size and hash, refusals name the option; the store is only read."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.modules import vm_image, vmss, vmss_os_rolling_upgrade, vmss_upgrade_report
from ansible_collections.azsim.vmss.tests.unit._harness import dump, run

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
PROBE = {"protocol": "http", "port": 80, "request_path": "/health"}
Call = Callable[..., dict[str, Any]]


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "store" / "vmss.sqlite")


@pytest.fixture
def call(store: str) -> Call:
    def invoke(module: Any, check: bool = False, diff: bool = False, expect_rc: int = 0, **args: Any) -> dict[str, Any]:
        if module is not vm_image:
            args = {"resource_group": "rg", "name": "web", **args}
        rc, result = run(module, {"store": store, "_ansible_check_mode": check, "_ansible_diff": diff, **args})
        assert rc == expect_rc, result
        return result

    return invoke


@pytest.fixture
def stopped(call: Call) -> None:
    """A manual run stopped after batch 3 by three failed instances (how-a-run-proceeds, Stops)."""
    call(vm_image, **UBUNTU, version="1.0.0")
    call(
        vmss,
        image={**UBUNTU, "version": "latest"},
        health_probe=PROBE,
        instances=[f"web-{i:02d}" for i in range(1, 11)],
        simulation={"faults": [{"type": "boot_unhealthy", "instances": ["web-01", "web-02", "web-03"]}]},
    )
    call(vm_image, **UBUNTU, version="1.1.0")
    call(vmss_os_rolling_upgrade, fail_on_fault=False)


def test_check_mode_then_write_then_nothing(call: Call, stopped: None, store: str, tmp_path: Path) -> None:
    dest = tmp_path / "report.html"
    before = dump(store)
    checked = call(vmss_upgrade_report, check=True, diff=True, dest=str(dest))
    assert checked["changed"] is True
    assert not dest.exists(), "check mode writes nothing"
    assert checked["diff"]["before"] == {}
    assert checked["diff"]["after"]["size"] > 0

    written = call(vmss_upgrade_report, diff=True, dest=str(dest))
    assert written["changed"] is True
    assert written["dest"] == str(dest)
    assert written["diff"]["after"] == checked["diff"]["after"], "check mode predicted the same content"
    assert written["diff"]["after"]["size"] == dest.stat().st_size
    assert [(r["run_id"], r["status"], r["start"], r["end"]) for r in written["runs"]] == [
        (1, "Faulted", "2025-01-01T00:00:00Z", "2025-01-01T00:24:00Z")
    ]
    page = dest.read_text()
    assert page.count("class='instance-row'") == 10
    assert "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade" in page

    mtime = dest.stat().st_mtime_ns
    again = call(vmss_upgrade_report, diff=True, dest=str(dest))
    assert again["changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"]
    assert dest.stat().st_mtime_ns == mtime
    assert dump(store) == before, "the store is only read"


def test_same_store_same_bytes_whatever_the_case_of_the_resource_group(
    call: Call, stopped: None, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    call(vmss_upgrade_report, dest=str(first))
    call(vmss_upgrade_report, dest=str(second), resource_group="RG", name=None)
    assert first.read_bytes() == second.read_bytes()


def test_no_store_is_a_clear_failure_and_creates_nothing(call: Call, store: str, tmp_path: Path) -> None:
    result = call(vmss_upgrade_report, expect_rc=1, dest=str(tmp_path / "report.html"))
    assert "does not exist" in result["msg"]
    assert not os.path.exists(store)
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"dest": "{tmp}/nowhere/r.html"}, "dest: the folder {tmp}/nowhere does not exist"),
        ({"dest": "{tmp}"}, "dest: {tmp} is a directory"),
        ({"name": "nope"}, "name: scale set nope in resource group rg"),
        ({"resource_group": "rg-none", "name": None}, "resource_group: rg-none has no scale sets"),
        ({"runs": 0}, "runs: 0 is not allowed"),
        ({"name": "bad name!"}, "name"),
    ],
    ids=["dest folder missing", "dest is a directory", "unknown scale set", "empty group", "runs", "bad name"],
)
def test_refusals_name_the_option(
    call: Call, stopped: None, tmp_path: Path, args: dict[str, Any], message: str
) -> None:
    filled = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in args.items()}
    before = sorted(os.listdir(tmp_path))
    result = call(vmss_upgrade_report, expect_rc=1, **{"dest": str(tmp_path / "r.html"), **filled})
    assert message.format(tmp=tmp_path) in result["msg"]
    assert "Traceback" not in result["msg"]
    assert sorted(os.listdir(tmp_path)) == before
