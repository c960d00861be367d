# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vmss_upgrade_policy module: write ``properties.upgradePolicy`` of a scale set, or refuse to.

Options are the snake_case of azure-behaviour §1; an option not given keeps its current value. The
merged policy is validated (ranges, ISO 8601 durations: the JSON Schema of ``_schema``), then every
requirement of ``_requirements`` is checked against the scale set as it would be after the write.
Any unmet requirement raises ``RequirementsNotMet`` carrying all findings, so the glue fails the
task and the transaction writes nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._model import scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import gallery_opt_in_complete
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group, check_scale_set_name
from ansible_collections.azsim.vmss.plugins.module_utils._engine.platform import reschedule
from ansible_collections.azsim.vmss.plugins.module_utils._checks.requirements import (
    ERROR,
    POLICY_FIELDS,
    PolicyField,
    RequirementsNotMet,
    check_policy,
    summarize,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.schema import UPGRADE_POLICY_SCHEMA, validate
from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import rollout_model_change
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

OPTION_GROUPS = {"automatic_os_upgrade": "automaticOSUpgradePolicy", "rolling_upgrade_policy": "rollingUpgradePolicy"}
# Health states the pre-batch check counts as unhealthy (azure-behaviour §3, health signal).
UNHEALTHY_STATES = ("Unhealthy", "Unknown")


# -- options → REST ---------------------------------------------------------------------------------


def _fragment(field: PolicyField) -> dict[str, Any]:
    """The JSON Schema of one field, taken from UPGRADE_POLICY_SCHEMA so the two never disagree."""
    if field.group is None:
        return dict(UPGRADE_POLICY_SCHEMA["properties"][field.name])
    return dict(UPGRADE_POLICY_SCHEMA["properties"][field.group]["properties"][field.name])


def _allowed(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if schema.get("type") == "boolean":
        return "true or false"
    if schema.get("type") == "integer":
        return f"a whole number from {schema.get('minimum')} to {schema.get('maximum')}"
    return "an ISO 8601 duration such as PT0S, PT30S or PT5M"


def _check_option(field: PolicyField, value: Any) -> Any:
    """The value to store for one option, or InvalidInput naming the option and what it allows."""
    schema = _fragment(field)
    if field.default == "PT0S" and isinstance(value, str):
        parse_duration(value, field.option)  # its message names the option and the forms allowed
        value = value.strip().upper()
    try:
        validate(value, schema, field.option)
    except InvalidInput:
        rest = f"{field.group}.{field.name}" if field.group else field.name
        raise InvalidInput(
            f"{field.option}: {value!r} is not allowed; use {_allowed(schema)} (Azure's {rest})",
            option=field.option,
        ) from None
    return value


def _given(params: dict[str, Any], field: PolicyField) -> Any:
    """The option's value from the module parameters, None when not given."""
    if field.group is None:
        return params.get(field.option)
    group_option, key = field.option.split(".", 1)
    group = params.get(group_option)
    if group is None:
        return None
    if not isinstance(group, dict):
        raise InvalidInput(f"{group_option}: give a dict of options, not {type(group).__name__}")
    return group.get(key)


def _check_keys(params: dict[str, Any]) -> None:
    """Ansible refuses unknown sub-options; callers of the core get the same answer."""
    for group_option in OPTION_GROUPS:
        group = params.get(group_option)
        if not isinstance(group, dict):
            continue
        known = sorted(f.option.split(".", 1)[1] for f in POLICY_FIELDS if f.option.startswith(group_option + "."))
        unknown = sorted(set(group) - set(known))
        if unknown:
            raise InvalidInput(
                f"{group_option}: unknown option {', '.join(unknown)}; allowed: {', '.join(known)}"
            )


def merge(current: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The policy after applying the options that are given; the rest keep their current value."""
    _check_keys(params)
    policy = copy.deepcopy(current)
    for field in POLICY_FIELDS:
        value = _given(params, field)
        if value is None:
            continue
        value = _check_option(field, value)
        if field.group is None:
            policy[field.name] = value
        else:
            policy.setdefault(field.group, {})[field.name] = value
    # Fill what an older record may lack, so the result is always Azure's full shape.
    for field in POLICY_FIELDS:
        container = policy if field.group is None else policy.setdefault(field.group, {})
        container.setdefault(field.name, field.default)
    validate(policy, UPGRADE_POLICY_SCHEMA, "properties.upgradePolicy")
    return policy


def enabled(policy: dict[str, Any]) -> bool:
    return bool((policy.get("automaticOSUpgradePolicy") or {}).get("enableAutomaticOSUpgrade"))


# -- the action ------------------------------------------------------------------------------------


def _windows_configuration(record: dict[str, Any]) -> dict[str, Any] | None:
    if record.get("os_type") != "windows":
        return None
    os_profile = record["model"]["properties"]["virtualMachineProfile"].setdefault("osProfile", {})
    config: dict[str, Any] | None = os_profile.get("windowsConfiguration")
    if config is None:
        config = os_profile["windowsConfiguration"] = {}
    return config


def _snapshot(record: dict[str, Any]) -> dict[str, Any]:
    """What ``changed`` and ``diff`` compare: the policy, and Windows Update, which enabling may turn off."""
    out: dict[str, Any] = {"upgrade_policy": copy.deepcopy(record["model"]["properties"]["upgradePolicy"])}
    config = record["model"]["properties"]["virtualMachineProfile"].get("osProfile", {}).get("windowsConfiguration")
    if record.get("os_type") == "windows":
        out["windows_configuration"] = copy.deepcopy(config or {})
    return out


def policy_action(store: Store, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """vmss_upgrade_policy: merge, validate, check the requirements, and write the policy."""
    resource_group = check_resource_group(params["resource_group"])
    name = check_scale_set_name(params["name"])
    record = scaleset.load_or_fail(store, subscription_id, resource_group, name)
    key = scaleset.record_key(record)
    instances = scaleset.load_instances(store, key)
    current = record["model"]["properties"]["upgradePolicy"]
    policy = merge(current, params)

    candidate = copy.deepcopy(record)
    candidate["model"]["properties"]["upgradePolicy"] = policy
    if enabled(policy):
        config = _windows_configuration(candidate)
        # Azure turns in-VM Windows Update off with automatic OS upgrade when nobody said otherwise;
        # an explicit true stays, and the requirement check reports it.
        if config is not None and config.get("enableAutomaticUpdates") is None:
            config["enableAutomaticUpdates"] = False

    unhealthy = sum(1 for i in instances if i.get("health") in UNHEALTHY_STATES or i.get("power_state") != "running")
    findings = check_policy(
        candidate, policy, len(instances), gallery_opt_in_complete(store, subscription_id), unhealthy
    )
    if any(f["severity"] == ERROR for f in findings):
        raise RequirementsNotMet(
            f"upgrade policy of scale set {name} (resource group {resource_group}) refused: {summarize(findings)}; "
            "nothing was changed, see findings for the JSON path and the fix of each",
            findings=findings,
            upgrade_policy=copy.deepcopy(current),
        )

    before = _snapshot(record)
    after = _snapshot(candidate)
    if before != after:
        was_enabled = enabled(current)
        if enabled(policy) and not was_enabled:
            # The platform's first-rollout delay counts from here (azure-behaviour §4).
            candidate["automatic_os_upgrade_enabled_at"] = store.now()
        elif not enabled(policy):
            candidate["automatic_os_upgrade_enabled_at"] = None
        profile_before = record["model"]["properties"]["virtualMachineProfile"]
        if candidate["model"]["properties"]["virtualMachineProfile"] != profile_before:
            # Turning Windows Update off is a change of the VM model that instances must take.
            candidate["model_version"] = record["model_version"] + 1
        scaleset.save(store, candidate)  # also replaces the call's cached copy (_fleet.Fleet.adopt)
        if candidate["model_version"] != record["model_version"]:
            rollout_model_change(store, key)
        # The platform's next automatic run depends on enablement and its time.
        reschedule(store, candidate)
    return {
        "before": before,
        "after": after,
        "upgrade_policy": copy.deepcopy(policy),
        "findings": findings,
        "warnings": [f"{f['code']}: {f['message']}" for f in findings],
    }
