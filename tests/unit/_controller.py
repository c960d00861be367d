# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test controller code (the filter plugins) in the same pytest process as the modules.

The first import of ansible-core's controller code (``ansible.errors`` imports ``ansible._internal``) marks the whole
process as the controller: it sets ``ansible.module_utils._internal.is_controller`` and two hooks, and from then on
module code in that process shows its warnings on the controller's display instead of returning them in the module's
result, which the module tests check. Importing this module does that first import and puts the module-side values
back, so later imports of controller code change nothing; ``as_controller`` gives one test the controller's values.
The ``conftest.py`` of the filter and plugin_utils tests imports it before their test modules import the filters.
"""

from __future__ import annotations

import importlib

import pytest
from ansible.module_utils import _internal

_HOOKS = ("is_controller", "get_controller_serialize_map", "import_controller_module")

_MODULE_SIDE = {name: getattr(_internal, name) for name in _HOOKS}
importlib.import_module("ansible._internal")
_CONTROLLER_SIDE = {name: getattr(_internal, name) for name in _HOOKS}
for _name, _value in _MODULE_SIDE.items():
    setattr(_internal, _name, _value)


def as_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the current test with ansible-core's controller values, as the filters run in ansible-playbook."""
    for name, value in _CONTROLLER_SIDE.items():
        monkeypatch.setattr(_internal, name, value)
