# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module declares its attributes, and what it declares is what it does.

Each module's DOCUMENTATION is read with ``yaml.safe_load`` and the attributes of its ``extends_documentation_fragment``
merged in from ``plugins/doc_fragments`` as ansible-core merges them (the module's own keys win); one test checks the
result against ``ansible-doc --json``. ansible-doc runs in a subprocess: importing ansible's controller code
(``ansible.utils.plugin_docs``) would mark this process as the controller, after which ``AnsibleModule.warn`` goes to
the display instead of the result, and the module tests sharing the worker would lose their ``warnings``.

Then one call per module runs through ``main()`` with ``_ansible_diff: true``, first in check mode and then for real,
on a store prepared with the fewest calls it needs:

- ``diff_mode`` full or partial: the call returns ``diff`` with ``before`` and ``after`` that differ, in check mode too;
  none or N/A: it returns no ``diff`` (so a module that starts returning one must say so).
- ``check_mode`` full: the check-mode call writes nothing to the store and predicts ``changed``.
- ``idempotent`` full: the same call again changes nothing.
- ``action_group``: membership ``azsim.vmss.vmss``, which ``meta/runtime.yml`` lists the module in.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from ansible_collections.azsim.vmss.tests.unit import _playbook_runner
from ansible_collections.azsim.vmss.tests.unit._harness import dump, run

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "azsim.vmss"
PACKAGE = "ansible_collections.azsim.vmss.plugins"
MODULES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if not path.name.startswith("_"))
ATTRIBUTES = ("action", "action_group", "check_mode", "diff_mode", "idempotent")
SUPPORT = ("full", "partial", "none", "N/A")
ACTION_GROUP = "vmss"

IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
SCALE_SET = {"resource_group": "rg", "name": "web"}
BUILD = {
    **SCALE_SET,
    "image": {**IMAGE, "version": "latest"},
    "health_probe": {"protocol": "http", "port": 80, "request_path": "/health"},
    "instances": ["web-01", "web-02", "web-03"],
}


AGENT_TYPE = "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent"
AGENT = {
    "name": "monitor",
    "publisher": "Microsoft.Azure.Monitor",
    "type": "AzureMonitorLinuxAgent",
    "type_handler_version": "1.0",
}


@dataclass
class Case:
    """The calls that prepare the store, then the call under test (changing, unless the module only reads)."""

    setup: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    args: dict[str, Any] = field(default_factory=dict)
    changes: bool = True
    teardown: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # calls after, pass or fail


CASES: dict[str, Case] = {
    # It starts a process (port 0: a free port), which the teardown stops.
    "arm_endpoint": Case(args={"port": 0}, teardown=[("arm_endpoint", {"state": "stopped"})]),
    "feature_registration": Case(args={}),
    "sim_clock": Case(args={"advance": "PT1H"}),
    # dest under HOME, which _isolated points at the test's own folder.
    "store_snapshot": Case(
        setup=[("vm_image", {**IMAGE, "version": "1.0.0"}), ("vmss", BUILD)], args={"dest": "~/kept/snapshot.sqlite"}
    ),
    "vm_image": Case(args={**IMAGE, "version": "1.0.0"}),
    "vm_image_info": Case(setup=[("vm_image", {**IMAGE, "version": "1.0.0"})], args=IMAGE, changes=False),
    "vmss": Case(setup=[("vm_image", {**IMAGE, "version": "1.0.0"})], args=BUILD),
    "vmss_info": Case(
        setup=[("vm_image", {**IMAGE, "version": "1.0.0"}), ("vmss", BUILD)], args=SCALE_SET, changes=False
    ),
    "vmss_os_rolling_upgrade": Case(
        setup=[
            ("vm_image", {**IMAGE, "version": "1.0.0"}),
            ("vmss", BUILD),
            ("vm_image", {**IMAGE, "version": "1.1.0"}),
        ],
        args=SCALE_SET,
    ),
    # The monitoring agent on 1.0, then its publisher releases 1.1 (azure-behaviour-2 EX-1).
    "vmss_extension_upgrade": Case(
        setup=[
            ("vm_image", {**IMAGE, "version": "1.0.0"}),
            ("vmss", {**BUILD, "extensions": [AGENT], "simulation": {"extension_versions": {AGENT_TYPE: ["1.0"]}}}),
            ("vmss", {**SCALE_SET, "simulation": {"extension_versions": {AGENT_TYPE: ["1.0", "1.1"]}}}),
        ],
        args=SCALE_SET,
    ),
    "vmss_upgrade_history": Case(
        setup=[("vm_image", {**IMAGE, "version": "1.0.0"}), ("vmss", BUILD)], args=SCALE_SET, changes=False
    ),
    "vmss_upgrade_policy": Case(
        setup=[("vm_image", {**IMAGE, "version": "1.0.0"}), ("vmss", BUILD)], args={**SCALE_SET, "mode": "Rolling"}
    ),
    # A Scheduling event waits (azure-behaviour-2 LH-15) once the platform's first rollout delay has passed.
    "vmss_lifecycle_hook_event": Case(
        setup=[
            ("vm_image", {**IMAGE, "version": "1.0.0"}),
            (
                "vmss",
                {**BUILD, "api_version": "2025-11-01", "lifecycle_hooks": [{"type": "UpgradeAutoOSScheduling"}]},
            ),
            ("vmss_upgrade_policy", {**SCALE_SET, "automatic_os_upgrade": {"enabled": True}}),
            ("vm_image", {**IMAGE, "version": "1.1.0"}),
            ("sim_clock", {"advance": "PT3H"}),
        ],
        args={**SCALE_SET, "type": "UpgradeAutoOSScheduling", "state": "approved"},
    ),
    "vmss_lifecycle_hook_event_info": Case(
        setup=[("vm_image", {**IMAGE, "version": "1.0.0"}), ("vmss", BUILD)], args=SCALE_SET, changes=False
    ),
    # Changes a file, not the store: "{tmp}" is the test's temporary folder.
    "vmss_upgrade_report": Case(
        setup=[("vm_image", {**IMAGE, "version": "1.0.0"}), ("vmss", BUILD)],
        args={**SCALE_SET, "dest": "{tmp}/report.html"},
    ),
}


def module_of(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.modules.{name}")


def fragment(slug: str) -> dict[str, Any]:
    """A fragment of this collection by its slug: ``azsim.vmss.common`` (DOCUMENTATION) or
    ``azsim.vmss.common.scale_set``."""
    parts = slug.split(".")
    assert ".".join(parts[:2]) == COLLECTION and len(parts) in (3, 4), f"not a fragment of {COLLECTION}: {slug}"
    holder = importlib.import_module(f"{PACKAGE}.doc_fragments.{parts[2]}").ModuleDocFragment
    text = getattr(holder, parts[3].upper() if len(parts) == 4 else "DOCUMENTATION", None)
    assert isinstance(text, str), f"unknown doc fragment {slug}"
    return dict(yaml.safe_load(text))


@functools.lru_cache(maxsize=None)
def _attributes(name: str) -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(module_of(name).DOCUMENTATION)
    merged: dict[str, dict[str, Any]] = dict(doc.get("attributes") or {})
    # ansible.utils.plugin_docs.add_fragments: per attribute, the fragment's keys under what is there already.
    for slug in doc.get("extends_documentation_fragment") or []:
        for attribute, value in (fragment(slug).get("attributes") or {}).items():
            merged[attribute] = {**value, **merged.get(attribute, {})}
    return merged


def attributes(name: str) -> dict[str, dict[str, Any]]:
    """The module's attributes with its fragments merged in, as ansible-doc shows them."""
    return copy.deepcopy(_attributes(name))


@functools.lru_cache(maxsize=None)
def _ansible_doc() -> dict[str, Any]:
    beside = Path(sys.executable).parent / "ansible-doc"
    environment = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(_playbook_runner.collections_dir()),
        "ANSIBLE_NOCOLOR": "1",
    }
    environment.pop("ANSIBLE_CONFIG", None)
    done = subprocess.run(
        [str(beside) if beside.exists() else "ansible-doc", "--json", *(f"{COLLECTION}.{name}" for name in MODULES)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def support(declared: dict[str, dict[str, Any]], attribute: str) -> str:
    return str(declared[attribute]["support"])


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every call passes ``store``; should one forget, it still must not reach ~/.ansible."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AZSIM_VMSS_STORE", str(tmp_path / "forgotten" / "vmss.sqlite"))
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)


def test_every_module_has_a_case() -> None:
    assert sorted(CASES) == MODULES


@pytest.mark.parametrize("name", MODULES)
def test_merged_attributes_are_what_ansible_doc_shows(name: str) -> None:
    assert attributes(name) == _ansible_doc()[f"{COLLECTION}.{name}"]["doc"]["attributes"]


@pytest.mark.parametrize("name", MODULES)
def test_attributes_are_declared(name: str) -> None:
    merged = attributes(name)
    for attribute in ATTRIBUTES:
        assert attribute in merged, f"{name}: attribute {attribute} is not declared"
        declared = merged[attribute]
        assert declared.get("description"), f"{name}: attribute {attribute} has no description"
        assert declared.get("support") in SUPPORT, f"{name}: {attribute}.support is {declared.get('support')!r}"
        if declared["support"] in ("partial", "none"):
            assert declared.get("details"), f"{name}: {attribute} is {declared['support']}; details must say why"


@pytest.mark.parametrize("name", MODULES)
def test_action_group_is_the_one_in_meta_runtime(name: str) -> None:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    action_group = attributes(name)["action_group"]
    assert action_group["support"] == "full"
    assert action_group["membership"] == [f"{COLLECTION}.{ACTION_GROUP}"]
    assert name in runtime["action_groups"][ACTION_GROUP]


@pytest.mark.parametrize("name", MODULES)
def test_action_is_the_action_plugin(name: str) -> None:
    # An action plugin of the module's name is what runs its tasks; ours is the one that runs the module in the
    # worker (plugin_utils/_module_action.py). Read as text: importing it would make this process the controller.
    plugin = ROOT / "plugins" / "action" / f"{name}.py"
    assert support(attributes(name), "action") == ("full" if plugin.exists() else "none")
    if plugin.exists():
        assert "class ActionModule(ModuleAction):" in plugin.read_text()


@pytest.mark.parametrize("name", MODULES)
def test_declared_attributes_hold_for_a_call(name: str, tmp_path: Path) -> None:
    declared = attributes(name)
    case = CASES[name]
    store = str(tmp_path / "store" / "vmss.sqlite")

    def call(module: str, args: dict[str, Any], check: bool = False) -> dict[str, Any]:
        args = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in args.items()}
        rc, result = run(
            module_of(module), {"store": store, "_ansible_diff": True, "_ansible_check_mode": check, **args}
        )
        assert rc == 0, f"{module} {args}: {result}"
        return result

    try:
        _check_declared(name, declared, case, call, store)
    finally:
        for module, args in case.teardown:
            call(module, args)


def _check_declared(name: str, declared: dict[str, dict[str, Any]], case: Case, call: Any, store: str) -> None:
    for module, args in case.setup:
        call(module, args)
    before = dump(store) if Path(store).exists() else None

    checked = call(name, case.args, check=True)
    if support(declared, "check_mode") == "full":
        assert before is None or dump(store) == before, f"{name}: check mode wrote to the store"
        assert checked["changed"] is case.changes

    result = call(name, case.args)
    assert result["changed"] is case.changes, f"{name}: {result}"
    for label, outcome in (("check mode", checked), ("real run", result)):
        if support(declared, "diff_mode") in ("full", "partial"):
            assert "diff" in outcome, (
                f"{name} declares diff_mode {support(declared, 'diff_mode')} but returned no diff ({label})"
            )
            assert set(outcome["diff"]) >= {"before", "after"}, f"{name}: diff without before/after ({label})"
            assert outcome["diff"]["before"] != outcome["diff"]["after"], (
                f"{name}: a change with an empty diff ({label})"
            )
        else:
            assert "diff" not in outcome, (
                f"{name} returns a diff although it declares diff_mode {support(declared, 'diff_mode')} ({label}): "
                "declare what it supports"
            )

    if support(declared, "idempotent") == "full":
        again = call(name, case.args)
        assert again["changed"] is False, f"{name} declares idempotent full, but the same call changed again"
