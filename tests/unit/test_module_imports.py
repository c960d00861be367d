# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module imports when it starts, and what AnsiballZ packs for it: only what its call needs (issue 14
items 3 and 4).

A module runs from its AnsiballZ zip, where every file it imports is compiled from source on each call:
in a loop of `vmss` over a fleet, that compilation is most of what an item costs beyond a `ping`
(bench/fleet_playbook.py). The run engine (the orchestrator and the clock's event handlers) is imported
only by the calls that start or drive a run; creating a scale set or setting its policy on an up-to-date
one starts none. Each import is checked in a fresh interpreter, as a module process starts.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._engine import handlers, orchestrator, reimages
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


# Handlers the clock's table imports only when an event of their kind fires (_engine/handlers.py).
ON_FIRE = (f"{ENGINE}.registrations", f"{ENGINE}.reimages")


def test_a_rolling_upgrade_imports_the_run_engine() -> None:
    # The counterpart: the same check would pass vacuously if the module names above were wrong.
    imported = _imported_by(f"{PACKAGE}.modules.vmss_os_rolling_upgrade")
    assert set(RUN_ENGINE) - set(ON_FIRE) <= imported
    assert sorted(set(ON_FIRE) & imported) == []


def test_the_reimage_handler_is_filed_under_its_kind() -> None:
    # The table names the kind without importing reimages, so that it is imported only when one fires.
    assert handlers.REIMAGE_EVENT == reimages.EVENT_KIND
    assert handlers.HANDLERS[reimages.EVENT_KIND] is handlers.on_reimage


def test_is_active_is_one_function() -> None:
    # The orchestrator's callers and the modules that need only this predicate ask the same function.
    assert orchestrator.is_active is run_state.is_active


# -- what AnsiballZ packs: every module_utils file a module names in an import, function-level ones included ----
ROOT = Path(__file__).resolve().parents[2]


def _names_imported(path: Path) -> set[str]:
    """The collection's modules ``path`` names in an import statement anywhere (``from X import y`` may name y)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if _source(candidate) is not None else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(PACKAGE))
    return found


def _source(module: str) -> Path | None:
    relative = Path(*module[len(PACKAGE) + 1 :].split("."))
    for candidate in (ROOT / "plugins" / relative.with_suffix(".py"), ROOT / "plugins" / relative / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _packed_for(module: str) -> set[str]:
    """The collection's modules AnsiballZ walks and packs for ``module``: its imports, transitively, as written
    (the controller parses each of them at every call; the module's process compiles those it runs)."""
    seen: set[str] = set()
    todo = [f"{PACKAGE}.modules.{module}"]
    while todo:
        name = todo.pop()
        path = _source(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        todo.extend(_names_imported(path))
    return seen


UTILS = f"{PACKAGE}.module_utils"
# What only creating a scale set or setting its policy needs.
CREATION = (
    f"{UTILS}._model.wanted_instances",
    f"{UTILS}._model.new_scale_set",
    f"{UTILS}._front.policy_options",
)


@pytest.mark.parametrize("module", ["vmss_info", "vmss_upgrade_history"])
def test_reads_carry_no_engine_no_policy_table_no_repairs_model(module: str) -> None:
    packed = _packed_for(module)
    assert f"{UTILS}._store.reading" in packed  # the walk found the collection's files
    unwanted = {f"{UTILS}._model.policy", f"{UTILS}._model.repairs", f"{UTILS}._model.faults", *CREATION}
    assert sorted(m for m in packed if m in unwanted or m.startswith(f"{UTILS}._engine")) == []


def test_a_rolling_upgrade_carries_nothing_of_creation() -> None:
    packed = _packed_for("vmss_os_rolling_upgrade")
    assert set(RUN_ENGINE) <= packed  # ON_FIRE too: the clock may fire any event while the run goes on
    assert sorted(set(CREATION) & packed) == []


STORE = f"{UTILS}._store"


@pytest.mark.parametrize("module", ["vmss_info", "vmss_upgrade_history", "vmss_os_rolling_upgrade"])
def test_modules_carry_no_store_maintenance(module: str) -> None:
    # The endpoint's kept connections, emptying a store, snapshots: no module but those that do it packs them.
    packed = _packed_for(module)
    assert f"{STORE}.reading" in packed
    assert sorted({f"{STORE}.kept_store", f"{STORE}.clearing", f"{STORE}.snapshot"} & packed) == []


def test_reads_pack_but_do_not_import_the_log_checks() -> None:
    # vmss_info stands for the read-only modules here; the next test checks what each of them packs.
    assert f"{STORE}.sidecar_logs" in _packed_for("vmss_info")  # packed: AnsiballZ has what a call may import
    assert f"{STORE}.sidecar_logs" not in _imported_by(f"{PACKAGE}.modules.vmss_info")


# The read-only modules: module_glue.py's AzsimModule(read_only=True) opens a ReadStore (_store/reading.py), and
# what only a write needs is neither packed nor imported: the writes, the encoder and the event queue (store.py,
# events.py), nor the glue that opens a Store (issue 14 item 3).
READ_ONLY = (
    "vmss_info",
    "vmss_upgrade_history",
    "vm_image_info",
    "vmss_lifecycle_hook_event_info",
    "vmss_upgrade_report",
)
WRITING = (f"{STORE}.store", f"{STORE}.events", f"{UTILS}._front.ansible_module")


@pytest.mark.parametrize("module", READ_ONLY)
def test_read_only_modules_pack_no_store_writes(module: str) -> None:
    packed = _packed_for(module)
    assert {f"{STORE}.reading", f"{UTILS}._front.module_glue"} <= packed
    assert sorted(set(WRITING) & packed) == []


def test_a_module_that_writes_packs_the_store_writes() -> None:
    # The counterpart: the check above would pass vacuously if the names in WRITING were wrong.
    assert set(WRITING) <= _packed_for("vmss_os_rolling_upgrade")


def test_every_read_only_module_is_listed() -> None:
    # A new read-only module is checked above too: those that ask for read_only=True are exactly READ_ONLY.
    modules = ROOT / "plugins" / "modules"
    asking = {p.stem for p in modules.glob("[!_]*.py") if "read_only=True" in p.read_text()}
    assert asking == set(READ_ONLY)


def test_creation_carries_what_it_needs() -> None:
    # The counterpart: the checks above would pass vacuously if the names in CREATION were wrong.
    assert set(CREATION[:2]) <= _packed_for("vmss")
    assert CREATION[2] in _packed_for("vmss_upgrade_policy")


def test_a_read_of_an_up_to_date_store_does_not_import_the_migrations() -> None:
    # reading.py says which schema is the newest without them; migrations.py is imported to migrate only.
    from ansible_collections.azsim.vmss.plugins.module_utils._store import migrations, reading

    assert reading.SCHEMA_VERSION == max(migrations.MIGRATIONS)
    assert f"{STORE}.migrations" not in _imported_by(f"{UTILS}._front.module_glue")
