# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core's layers import only downward, and nothing imports in a circle (docs/architecture.md).

Imports are read from the source (AST), function-level imports included, so a cycle cannot hide
behind a late import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE_UTILS = ROOT / "plugins" / "module_utils"
PACKAGE = "ansible_collections.azsim.vmss.plugins.module_utils"

# Lowest first: a file may import from its own layer or any layer before it.
LAYERS = ("_common", "_store", "_model", "_checks", "_engine", "_views", "_actions", "_front")


def _module_name(path: Path) -> str:
    relative = path.relative_to(MODULE_UTILS).with_suffix("")
    parts = [p for p in relative.parts if p != "__init__"]
    return ".".join([PACKAGE, *parts])


def _core_files() -> list[Path]:
    """Every file of a layer (the package's own empty ``__init__.py`` is in none)."""
    return sorted(p for p in MODULE_UTILS.rglob("*.py") if p.parent != MODULE_UTILS)


def _imports(path: Path) -> set[str]:
    """The collection's module_utils modules ``path`` imports (``from X import y`` may name a module y)."""
    found: set[str] = set()
    known = {_module_name(p) for p in _core_files()}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(PACKAGE))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
    return {name for name in found if name != PACKAGE}


def _layer(module: str) -> int:
    first = module[len(PACKAGE) + 1 :].split(".")[0]
    if first not in LAYERS:
        raise AssertionError(f"{module} is in no layer; put it in one of {', '.join(LAYERS)}")
    return LAYERS.index(first)


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in _core_files()}


def test_every_core_file_sits_in_a_layer() -> None:
    stray = [p.name for p in MODULE_UTILS.glob("*.py") if p.name != "__init__.py"]
    assert stray == [], f"module_utils files outside the layers: {stray}"
    assert (MODULE_UTILS / "__init__.py").read_text().strip() == ""
    assert sorted(p.name for p in MODULE_UTILS.iterdir() if p.is_dir() and (p / "__init__.py").exists()) == sorted(
        LAYERS
    )


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(MODULE_UTILS)))
def test_imports_go_only_downward(path: Path) -> None:
    source = _module_name(path)
    upward = sorted(t for t in _imports(path) if _layer(t) > _layer(source))
    assert upward == [], f"{source} imports from a higher layer: {upward}"


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(MODULE_UTILS)))
def test_every_core_file_is_marked_private(path: Path) -> None:
    assert "PRIVATE to the azsim.vmss collection" in path.read_text()[:1500]


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(MODULE_UTILS)))
def test_nothing_below_the_front_door_imports_ansible(path: Path) -> None:
    if _layer(_module_name(path)) == LAYERS.index("_front"):
        return
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        )
        assert not [n for n in names if n == "ansible" or n.startswith("ansible.")], f"{path.name} imports {names}"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if there is any (depth-first search with colours)."""
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if colour.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if colour.get(target) is None:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if colour.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle() -> None:
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_modules_reach_the_core_through_the_front_door() -> None:
    """Thin modules: each imports the Ansible glue and calls actions; none reaches into the engine or store."""
    for path in sorted((ROOT / "plugins" / "modules").glob("*.py")):
        imported = _imports(path)
        assert any(_layer(m) == LAYERS.index("_front") for m in imported), f"{path.name} does not use the glue"
        deep = sorted(m for m in imported if _layer(m) in (LAYERS.index("_store"), LAYERS.index("_engine")))
        assert deep == [], f"{path.name} reaches below the actions: {deep}"


def test_inventory_plugins_reach_the_core_through_the_front_door_or_the_actions() -> None:
    """An inventory plugin is a front door like a module: it reads through _front (or an action), never the store
    or the model."""
    plugins = sorted((ROOT / "plugins" / "inventory").glob("*.py"))
    assert plugins, "plugins/inventory holds no plugin"
    for path in plugins:
        imported = _imports(path)
        front = (LAYERS.index("_actions"), LAYERS.index("_front"))
        assert any(_layer(m) in front for m in imported), f"{path.name} does not use the glue or an action"
        # _common (the collection's exceptions) is the one layer below the actions a front door may name.
        deep = sorted(m for m in imported if LAYERS.index("_common") < _layer(m) < LAYERS.index("_actions"))
        assert deep == [], f"{path.name} reaches below the actions: {deep}"


def test_action_plugins_reach_the_core_only_through_the_module_glue() -> None:
    """An action plugin runs its module's ``main()`` (plugin_utils/_module_action.py): the core it names is the
    glue's seam (_front/module_glue.py), nothing of the actions, the engine or the store."""
    plugins = sorted((ROOT / "plugins" / "action").glob("*.py"))
    assert plugins, "plugins/action holds no plugin"
    for path in plugins:
        assert _imports(path) == set(), f"{path.name} names the core itself"
        assert "plugin_utils._module_action import ModuleAction" in path.read_text(), path.name
    shared = ROOT / "plugins" / "plugin_utils" / "_module_action.py"
    assert _imports(shared) == {f"{PACKAGE}._front.module_glue"}
    assert _imports(ROOT / "plugins" / "plugin_utils" / "_worker_module.py") == set()
