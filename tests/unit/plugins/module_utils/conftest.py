# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the module_utils tests: fresh stores on temporary paths, never ~/.ansible."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store


@pytest.fixture(autouse=True)
def _no_default_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A test that forgets to pass a path must not reach the real ~/.ansible/azsim store."""
    monkeypatch.setenv("AZSIM_VMSS_STORE", str(tmp_path / "default-store-must-not-be-used" / "vmss.sqlite"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "vmss.sqlite"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    opened = Store.open(str(store_path))
    try:
        yield opened
    finally:
        opened.close()
