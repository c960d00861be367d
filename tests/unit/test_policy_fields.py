# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One source for the upgrade-policy fields: ``POLICY_FIELDS`` against everything that restates it.

The defaults, the JSON Schema and the module's argument spec are built from the table. What cannot be
built from it (YAML and Markdown that ansible-doc, ansible-lint and people read) is checked here, field
by field: vmss_upgrade_policy's DOCUMENTATION options and RETURN sample, and the upgrade_policy role's
``meta/argument_specs.yml``, ``defaults/main.yml`` and README variable table. A field added to the
table fails these tests until it is documented everywhere; a documented option the table lacks fails too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._front.policy_options import (
    POLICY_OPTION_TYPES,
    upgrade_policy_argument_spec,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import (
    DEFAULT_UPGRADE_POLICY,
    POLICY_FIELDS,
    PolicyField,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.schema import (
    UPGRADE_POLICY_SCHEMA,
    policy_field_schema,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "plugins" / "modules" / "vmss_upgrade_policy.py"
ROLE = ROOT / "roles" / "upgrade_policy"
ROLE_PREFIX = "upgrade_policy_"  # the role's variables are its options' names with this prefix


def _module_constant(name: str) -> Any:
    """DOCUMENTATION or RETURN of the module, read from its source (not imported)."""
    for node in ast.parse(MODULE.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"{MODULE.name} has no {name}")


DOC_OPTIONS: dict[str, Any] = _module_constant("DOCUMENTATION")["options"]
DOC_DESCRIPTION = " ".join(_module_constant("DOCUMENTATION")["description"])
RETURN_SAMPLE: dict[str, Any] = _module_constant("RETURN")["upgrade_policy"]["sample"]
ROLE_OPTIONS: dict[str, Any] = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"][
    "main"
]["options"]
ROLE_DEFAULTS_TEXT = (ROLE / "defaults" / "main.yml").read_text()
ROLE_DEFAULTS: dict[str, Any] = yaml.safe_load(ROLE_DEFAULTS_TEXT)
README = (ROLE / "README.md").read_text()

SPEC = upgrade_policy_argument_spec()
# The module's top-level policy options: mode, automatic_os_upgrade, rolling_upgrade_policy.
TOP_OPTIONS = sorted({f.group_option or f.option for f in POLICY_FIELDS})
GROUP_OPTIONS = sorted({f.group_option for f in POLICY_FIELDS if f.group_option})


def _ids(field: PolicyField) -> str:
    return field.option


def _text(entry: dict[str, Any]) -> str:
    description = entry.get("description", "")
    return " ".join(description) if isinstance(description, list) else str(description)


def _entry(options: dict[str, Any], field: PolicyField, top: str, nested: str) -> dict[str, Any] | None:
    """The documented entry of a field: ``options[top]``, or ``options[top][nested][key]`` for a sub-option."""
    if field.group_option is None:
        found = options.get(top)
    else:
        found = ((options.get(top) or {}).get(nested) or {}).get(field.key)
    return found if isinstance(found, dict) else None


def _names_the_field(text: str, field: PolicyField) -> bool:
    """The description says which REST field the option is: C(maxSurge), C(upgradePolicy.mode)."""
    return re.search(rf"C\((?:\w+\.)*{re.escape(field.name)}\)", text) is not None


def _check_entry(entry: dict[str, Any] | None, field: PolicyField, where: str, api_version: bool) -> None:
    assert entry is not None, f"{where}: {field.option} ({field.rest}) is in POLICY_FIELDS but not documented"
    assert entry.get("type") == POLICY_OPTION_TYPES[field.kind], f"{where}: {field.option} type"
    assert entry.get("choices") == (list(field.choices) if field.choices else None), f"{where}: {field.option} choices"
    text = _text(entry)
    if field.option != field.name:
        assert _names_the_field(text, field), f"{where}: {field.option} does not name C({field.name})"
    if field.kind == "int":
        assert f"{field.minimum} to {field.maximum}" in text, f"{where}: {field.option} range"
    if api_version and field.api_version:
        assert f"API {field.api_version}" in text, f"{where}: {field.option} does not give API {field.api_version}"


# -- the table itself --------------------------------------------------------------------------------


def test_the_table_is_consistent() -> None:
    options = [f.option for f in POLICY_FIELDS]
    assert len(options) == len(set(options))
    assert len({f.rest for f in POLICY_FIELDS}) == len(POLICY_FIELDS)
    for field in POLICY_FIELDS:
        assert field.check(field.default) == field.default, f"{field.option}: its default is not allowed"
        assert bool(field.choices) == (field.kind == "choice")
        assert (field.minimum is not None and field.maximum is not None) == (field.kind == "int")


def test_defaults_come_from_the_table() -> None:
    validate(DEFAULT_UPGRADE_POLICY, UPGRADE_POLICY_SCHEMA)
    for field in POLICY_FIELDS:
        container = DEFAULT_UPGRADE_POLICY[field.group] if field.group else DEFAULT_UPGRADE_POLICY
        assert container[field.name] == field.default


# Values of every kind, valid and not, for comparing the table's check with the generated schema.
_VALUES = st.one_of(
    st.booleans(),
    st.integers(-5, 120),
    st.sampled_from(
        [
            "Automatic",
            "Manual",
            "Rolling",
            "rolling",
            "",
            "PT0S",
            "PT5M",
            "pt5m",
            " PT1H ",
            "P1D",
            "P1M",
            "PT",
            "5 minutes",
            "true",
            "20",
        ]
    ),
    st.none(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=1),
)


@given(field=st.sampled_from(POLICY_FIELDS), value=_VALUES)
def test_the_schema_and_the_table_agree(field: PolicyField, value: Any) -> None:
    """What the table's check accepts the schema accepts (as stored); what the schema accepts the check keeps."""
    schema = policy_field_schema(field)
    try:
        stored = field.check(value)
    except InvalidInput:
        stored = None
    else:
        validate(stored, schema)
    try:
        validate(value, schema)
    except InvalidInput:
        return
    if isinstance(value, float):  # JSON Schema calls 20.0 an integer; Python callers must give an int
        return
    assert stored == value, f"{field.option}: the schema allows {value!r}, the table's check does not"


# -- the module ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", POLICY_FIELDS, ids=_ids)
def test_the_module_documents_each_field(field: PolicyField) -> None:
    entry = _entry(DOC_OPTIONS, field, field.group_option or field.option, "suboptions")
    _check_entry(entry, field, "vmss_upgrade_policy DOCUMENTATION", api_version=True)


def test_the_module_documents_no_other_policy_option() -> None:
    """Only the table's options (the scale set's and the common ones come from doc fragments)."""
    assert sorted(DOC_OPTIONS) == TOP_OPTIONS
    for group in GROUP_OPTIONS:
        assert DOC_OPTIONS[group]["type"] == "dict"
        assert sorted(DOC_OPTIONS[group]["suboptions"]) == sorted(
            f.key for f in POLICY_FIELDS if f.group_option == group
        )


def _shape(spec: dict[str, Any], nested: str) -> dict[str, Any]:
    """Names, types and choices of an argument spec or documentation, the part validate-modules compares."""
    out: dict[str, Any] = {}
    for name, entry in spec.items():
        out[name] = {"type": entry.get("type"), "choices": entry.get("choices")}
        if entry.get(nested):
            out[name]["options"] = _shape(entry[nested], "options" if nested == "options" else "suboptions")
    return out


def test_the_argument_spec_matches_the_documentation() -> None:
    assert sorted(SPEC) == TOP_OPTIONS
    assert _shape(SPEC, "options") == _shape(DOC_OPTIONS, "suboptions")


def test_the_module_states_the_defaults() -> None:
    mode = next(f for f in POLICY_FIELDS if f.option == "mode")
    assert f"C(mode={mode.default})" in DOC_DESCRIPTION
    numbers = "/".join(str(f.default) for f in POLICY_FIELDS if f.group == "rollingUpgradePolicy" and f.kind != "bool")
    assert f"rolling policy {numbers}" in DOC_DESCRIPTION
    assert all(f.default is False for f in POLICY_FIELDS if f.kind == "bool"), "the description says every flag false"


def test_the_return_sample_has_every_field() -> None:
    validate(RETURN_SAMPLE, UPGRADE_POLICY_SCHEMA)
    assert set(RETURN_SAMPLE) == set(DEFAULT_UPGRADE_POLICY)
    for key, value in DEFAULT_UPGRADE_POLICY.items():
        if isinstance(value, dict):
            assert set(RETURN_SAMPLE[key]) == set(value), f"RETURN sample {key}"


# -- the upgrade_policy role ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", POLICY_FIELDS, ids=_ids)
def test_the_role_argument_spec_has_each_field(field: PolicyField) -> None:
    entry = _entry(ROLE_OPTIONS, field, ROLE_PREFIX + (field.group_option or field.option), "options")
    _check_entry(entry, field, "roles/upgrade_policy/meta/argument_specs.yml", api_version=False)


def test_the_role_argument_spec_has_no_other_policy_option() -> None:
    for top in TOP_OPTIONS:
        assert ROLE_PREFIX + top in ROLE_OPTIONS
    for group in GROUP_OPTIONS:
        entry = ROLE_OPTIONS[ROLE_PREFIX + group]
        assert entry["type"] == "dict"
        assert sorted(entry["options"]) == sorted(f.key for f in POLICY_FIELDS if f.group_option == group)


def _comment_above(variable: str) -> str:
    """The comment lines right above ``variable:`` in defaults/main.yml."""
    lines = ROLE_DEFAULTS_TEXT.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{variable}:"))
    block: list[str] = []
    for line in reversed(lines[:index]):
        if not line.startswith("#"):
            break
        block.insert(0, line.lstrip("# "))
    return " ".join(block)


def _listed_after(text: str, marker: str, stop: str) -> list[str]:
    """The names listed after ``marker`` up to ``stop``: ``snake_case: a, b, c.`` gives [a, b, c]."""
    assert marker in text, f"no {marker!r} in {text!r}"
    listed = text.split(marker, 1)[1].split(stop, 1)[0]
    return [name.strip(" `.") for name in listed.split(",")]


@pytest.mark.parametrize("top", TOP_OPTIONS)
def test_the_role_defaults_keep_each_part(top: str) -> None:
    """Every part of the policy defaults to "keep the scale set's value", and its comment lists the table's options."""
    variable = ROLE_PREFIX + top
    assert variable in ROLE_DEFAULTS, f"defaults/main.yml has no {variable}"
    comment = _comment_above(variable)
    if top in GROUP_OPTIONS:
        assert ROLE_DEFAULTS[variable] == {}
        assert ROLE_OPTIONS[variable].get("default") == {}
        assert _listed_after(comment, "snake_case:", "\n") == [f.key for f in POLICY_FIELDS if f.group_option == top]
    else:
        field = next(f for f in POLICY_FIELDS if f.option == top)
        assert ROLE_DEFAULTS[variable] is None
        for choice in field.choices:
            assert choice in comment, f"defaults/main.yml: the comment on {variable} does not list {choice}"


def _readme_row(variable: str) -> list[str]:
    row = next((line for line in README.splitlines() if line.startswith(f"| `{variable}` |")), None)
    assert row is not None, f"README.md: no row for {variable} in the variable table"
    return [cell.strip() for cell in row.strip("|").split("|")]


@pytest.mark.parametrize("top", TOP_OPTIONS)
def test_the_role_readme_lists_each_part(top: str) -> None:
    variable = ROLE_PREFIX + top
    _name, default, meaning = _readme_row(variable)
    if top in GROUP_OPTIONS:
        assert default == "`{}`"
        assert _listed_after(meaning, "snake_case:", ";") == [f.key for f in POLICY_FIELDS if f.group_option == top]
    else:
        field = next(f for f in POLICY_FIELDS if f.option == top)
        assert default == "unset"
        for choice in field.choices:
            assert f"`{choice}`" in meaning, f"README.md: the row of {variable} does not list {choice}"
