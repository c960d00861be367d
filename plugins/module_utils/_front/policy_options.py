# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade-policy options of module vmss_upgrade_policy, built from ``_model.policy.POLICY_FIELDS``.

Apart from the glue (``_front.ansible_module``) so that the other modules do not carry the policy table into
their AnsiballZ payload: every module_utils file a module imports is parsed by the controller and compiled
in the module's process at each call (issue 14).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import POLICY_FIELDS, PolicyField

# The Ansible type of each kind of upgrade-policy field; ranges and duration forms are the core's to check,
# so that their messages say what is allowed.
POLICY_OPTION_TYPES: dict[str, str] = {"choice": "str", "bool": "bool", "int": "int", "duration": "str"}


def policy_option_spec(field: PolicyField) -> dict[str, Any]:
    """The argument spec of one upgrade-policy option, from its row of POLICY_FIELDS."""
    spec: dict[str, Any] = {"type": POLICY_OPTION_TYPES[field.kind]}
    if field.choices:
        spec["choices"] = list(field.choices)
    return spec


def upgrade_policy_argument_spec() -> dict[str, Any]:
    """``mode``, ``automatic_os_upgrade`` and ``rolling_upgrade_policy`` (module vmss_upgrade_policy), built from
    POLICY_FIELDS: a field added to the table is an option here (and tests/unit/test_policy_fields.py asks for
    its documentation)."""
    spec: dict[str, Any] = {}
    for field in POLICY_FIELDS:
        if field.group_option is None:
            spec[field.option] = policy_option_spec(field)
        else:
            group = spec.setdefault(field.group_option, {"type": "dict", "options": {}})
            group["options"][field.key] = policy_option_spec(field)
    return spec
