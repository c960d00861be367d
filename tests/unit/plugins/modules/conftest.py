# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the module tests: an isolated HOME, and ``store``/``call`` for one scale set ``rg/web``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.modules import sim_clock, vm_image
from ansible_collections.azsim.vmss.tests.unit._harness import Call, run


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test passes ``store``; should one forget, it still must not reach ~/.ansible."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AZSIM_VMSS_STORE", str(tmp_path / "forgotten" / "vmss.sqlite"))
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "vmss.sqlite"


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "store" / "vmss.sqlite")


@pytest.fixture
def call(store: str) -> Call:
    """call(module, check=False, **args) → (rc, result); store set; the scale set is rg/web unless told."""

    def invoke(module: Any, check: bool = False, **args: Any) -> tuple[int, dict[str, Any]]:
        if module not in (vm_image, sim_clock):
            args = {"resource_group": "rg", "name": "web", **args}
        return run(module, {"store": store, "_ansible_check_mode": check, **args})

    return invoke
