# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES runs as written.

Each module's EXAMPLES block is read from its file (not imported), put in a playbook on localhost after the fewest
setup tasks it needs (an image in the catalogue, the scale sets it names), and run with ansible-playbook against a
fresh store. A module whose EXAMPLES need no setup gets none: they must run on an empty store as they are.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit import _playbook_runner

# Ansible-playbook runs: the system tier (pyproject.toml), left out of `make units-fast`.
pytestmark = pytest.mark.system

ROOT = _playbook_runner.ROOT
MODULES_DIR = ROOT / "plugins" / "modules"
MODULES = sorted(path.stem for path in MODULES_DIR.glob("*.py") if not path.name.startswith("_"))

IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
HEALTH_EXTENSION = {
    "name": "health",
    "publisher": "Microsoft.ManagedServices",
    "type": "ApplicationHealthLinux",
    "type_handler_version": "2.0",
    "settings": {"protocol": "http", "port": 80, "requestPath": "/health"},
}
WEB_HOSTS = ["web-01", "web-02", "web-03", "web-04", "web-05"]


def _publish(version: str) -> dict[str, Any]:
    return {"name": f"setup: publish {version}", "azsim.vmss.vm_image": dict(IMAGE, version=version)}


def _scale_set(name: str, version: str = "latest", health: bool = True) -> dict[str, Any]:
    args: dict[str, Any] = {
        "resource_group": "rg-web",
        "name": name,
        "image": dict(IMAGE, version=version),
        "instances": WEB_HOSTS if name == "web" else [f"{name}-01", f"{name}-02"],
    }
    if health:
        args["extensions"] = [HEALTH_EXTENSION]
    return {"name": f"setup: scale set {name}", "azsim.vmss.vmss": args}


# The setup each module's EXAMPLES need: the scale sets rg-web/web (and rg-web/legacy) they address.
SETUP: dict[str, list[dict[str, Any]]] = {
    "vmss_info": [_publish("24.04.202501010"), _scale_set("web")],
    "vmss_upgrade_history": [_publish("24.04.202501010"), _scale_set("web")],
    "vmss_upgrade_policy": [
        _publish("24.04.202501010"),
        _scale_set("web"),
        # Pinned version, no health source: the example shows its findings.
        _scale_set("legacy", version="24.04.202501010", health=False),
    ],
    "vmss_os_rolling_upgrade": [
        _publish("24.04.202501010"),
        _scale_set("web"),
        _publish("24.04.202502010"),
    ],
    "vmss_upgrade_report": [_publish("24.04.202501010"), _scale_set("web")],
    "vmss_lifecycle_hook_event": [_publish("24.04.202501010"), _scale_set("web")],
    "vmss_lifecycle_hook_event_info": [_publish("24.04.202501010"), _scale_set("web")],
    # Its EXAMPLES create the scale set they upgrade; the catalogue needs its image.
    "vmss_extension_upgrade": [_publish("24.04.202501010")],
}

# EXAMPLES that cannot run as written, with the reason; strict: once they run, the mark must go.
KNOWN_BROKEN: dict[str, str] = {}


def run_playbook(args: list[str], tmp_path: Path, store: Path) -> subprocess.CompletedProcess[str]:
    """ansible-playbook ARGS on localhost with the interpreter running these tests (see _playbook_runner)."""
    return _playbook_runner.run_playbook(args, tmp_path, store, {"ANSIBLE_PYTHON_INTERPRETER": sys.executable})


def module_examples(module: str) -> list[dict[str, Any]]:
    """The module's EXAMPLES, parsed as YAML from its source."""
    tree = ast.parse((MODULES_DIR / f"{module}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "EXAMPLES" for t in node.targets):
            value = ast.literal_eval(node.value)
            tasks = yaml.safe_load(value)
            assert isinstance(tasks, list) and tasks, f"{module}: EXAMPLES is not a list of tasks"
            return tasks
    raise AssertionError(f"{module}: no EXAMPLES")


def test_every_module_is_covered() -> None:
    assert MODULES, f"no module under {MODULES_DIR}"
    assert set(SETUP) <= set(MODULES)


@pytest.mark.parametrize(
    "module",
    [
        pytest.param(m, marks=pytest.mark.xfail(reason=KNOWN_BROKEN[m], strict=True)) if m in KNOWN_BROKEN else m
        for m in MODULES
    ],
)
def test_examples_run_as_written(module: str, tmp_path: Path) -> None:
    examples = module_examples(module)
    playbook = [
        {
            "name": f"EXAMPLES of azsim.vmss.{module}",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": SETUP.get(module, []) + examples,
        }
    ]
    path = tmp_path / f"{module}_examples.yml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False), encoding="utf-8")

    store = tmp_path / "store" / "vmss.sqlite"
    Store.open(str(store)).close()  # an empty store: read-only modules refuse a store that does not exist
    result = run_playbook(["-i", "localhost,", "-c", "local", str(path)], tmp_path, store)

    output = result.stdout + result.stderr
    assert result.returncode == 0, f"EXAMPLES of {module} failed (rc {result.returncode}):\n{output[-6000:]}"
    for task in examples:
        if "name" in task:
            assert f"TASK [{task['name']}]" in output, (
                f"{module}: example {task['name']!r} did not run:\n{output[-4000:]}"
            )
