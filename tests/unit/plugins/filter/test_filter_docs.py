# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every filter has its documentation beside it, and the documentation matches the function.

ansible-test's validate-modules skips filter plugins (several filters share a file), so this checks what it would:
one ``<filter>.yml`` per filter with DOCUMENTATION, EXAMPLES and RETURN, its options the function's parameters,
``positional`` the parameters after the input in order, and examples that use the filter by its full name.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml

FILTER_DIR = Path(__file__).resolve().parents[4] / "plugins" / "filter"
FILES = sorted(path.stem for path in FILTER_DIR.glob("*.py") if not path.name.startswith("_"))


def filters() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for stem in FILES:
        module = importlib.import_module(f"ansible_collections.azsim.vmss.plugins.filter.{stem}")
        for name, function in module.FilterModule().filters().items():
            assert name not in found, f"filter {name} defined twice"
            found[name] = function
    return found


FILTERS = filters()


def test_every_doc_file_documents_a_filter() -> None:
    assert FILTERS
    assert {path.stem for path in FILTER_DIR.glob("*.yml")} == set(FILTERS)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_documentation_matches_the_function(name: str) -> None:
    docs = yaml.safe_load((FILTER_DIR / f"{name}.yml").read_text(encoding="utf-8"))
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    doc = docs["DOCUMENTATION"]
    assert doc["name"] == name
    assert doc["short_description"] and not doc["short_description"].endswith(".")
    assert doc["version_added"] and doc["author"] and doc["description"]

    parameters = list(inspect.signature(FILTERS[name]).parameters.values())
    options = doc["options"]
    assert set(options) == {"_input"} | {p.name for p in parameters[1:]}
    assert options["_input"]["required"] is True
    positional = [p.name for p in parameters[1:] if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert [n.strip() for n in doc.get("positional", "").split(",") if n.strip()] == positional
    for parameter in parameters[1:]:
        option = options[parameter.name]
        assert option["description"] and option["type"]
        if parameter.default is inspect.Parameter.empty:
            assert option.get("required") is True, parameter.name
        else:
            assert option.get("default") == parameter.default, parameter.name

    assert f"azsim.vmss.{name}" in docs["EXAMPLES"]
    assert isinstance(yaml.safe_load(docs["EXAMPLES"]), list)
    assert set(docs["RETURN"]) == {"_value"}
    assert docs["RETURN"]["_value"]["description"] and docs["RETURN"]["_value"]["type"]
