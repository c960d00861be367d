# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module imports when it starts: only what its call needs (issue 14 items 3 and 4).

A module runs from its AnsiballZ zip, where every file it imports is compiled from source on each call:
in a loop of `vmss` over a fleet, that compilation is most of what an item costs beyond a `ping`
(bench/fleet_playbook.py). The run engine (the orchestrator and the clock's event handlers) is imported
only by the calls that start or drive a run; creating a scale set or setting its policy on an up-to-date
one starts none. Each import is checked in a fresh interpreter, as a module process starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._engine import orchestrator
from ansible_collections.azsim.vmss.plugins.module_utils._model import run_state

PACKAGE = "ansible_collections.azsim.vmss.plugins"
ENGINE = f"{PACKAGE}.module_utils._engine"
# The engine that moves runs: what a call that only creates or reschedules must not compile.
RUN_ENGINE = (
    f"{ENGINE}.orchestrator",
    f"{ENGINE}.hook_gate",
    f"{ENGINE}.run_checks",
    f"{ENGINE}.extension_runs",
    f"{ENGINE}.handlers",
    f"{ENGINE}.simulation",
    f"{ENGINE}.registrations",
)


def _imported_by(module: str) -> set[str]:
    """The collection's modules in sys.modules after importing ``module`` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ansible_collections.azsim.'))))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}  # where this test found the collection
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("module", ["vmss", "vmss_upgrade_policy"])
def test_creating_and_setting_policy_do_not_import_the_run_engine(module: str) -> None:
    imported = _imported_by(f"{PACKAGE}.modules.{module}")
    assert f"{ENGINE}.platform" in imported  # the platform's rescheduling is needed (azure-behaviour §4)
    assert sorted(set(RUN_ENGINE) & imported) == []


def test_a_rolling_upgrade_imports_the_run_engine() -> None:
    # The counterpart: the same check would pass vacuously if the module names above were wrong.
    imported = _imported_by(f"{PACKAGE}.modules.vmss_os_rolling_upgrade")
    assert set(RUN_ENGINE) <= imported


def test_is_active_is_one_function() -> None:
    # The orchestrator's callers and the modules that need only this predicate ask the same function.
    assert orchestrator.is_active is run_state.is_active
