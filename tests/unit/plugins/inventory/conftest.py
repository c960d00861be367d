# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin is controller code found through ansible-core's collection loader: its tests run as the
controller (tests/unit/_controller.py) with the loader installed for the test and removed after it, so that the rest
of the process imports the collection as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.tests.unit import _controller


@pytest.fixture(autouse=True)
def _as_controller(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    import sys

    from ansible.plugins.loader import init_plugin_loader
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _controller.as_controller(monkeypatch)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AZSIM_VMSS_STORE", raising=False)
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    # build/ (or the tree above an ansible_collections checkout), which tests/unit/conftest.py put on sys.path.
    collections = [p for p in sys.path if Path(p, "ansible_collections", "azsim", "vmss").exists()][:1]
    # The collection's package must be loaded by the collection loader, which reads meta/runtime.yml into it; the
    # modules below it stay the ones already imported (the same classes for the tests' isinstance checks).
    for package in ("ansible_collections", "ansible_collections.azsim", "ansible_collections.azsim.vmss"):
        monkeypatch.delitem(sys.modules, package, raising=False)
    init_plugin_loader(collections)
    try:
        yield
    finally:
        _AnsibleCollectionFinder._remove()
