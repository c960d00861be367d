# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters are controller code: run their tests as the controller, and leave the module tests' process a module's
(tests/unit/_controller.py)."""

from __future__ import annotations

import pytest

from ansible_collections.azsim.vmss.tests.unit import _controller


@pytest.fixture(autouse=True)
def _as_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    _controller.as_controller(monkeypatch)
