# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade policy (``properties.upgradePolicy``, azure-behaviour §1): its fields, defaults and merge.

``POLICY_FIELDS`` is the one table of the policy's fields: the defaults, the module options
(``automatic_os_upgrade.enabled`` is ``automaticOSUpgradePolicy.enableAutomaticOSUpgrade``) and the
API versions that allow each field come from it.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._model.schema import UPGRADE_POLICY_SCHEMA, validate

POLICY = "properties.upgradePolicy"


class RollingPolicy(TypedDict):
    """``rollingUpgradePolicy`` with every field present: the numbers a run goes by (azure-behaviour §1, §3)."""

    maxBatchInstancePercent: int
    maxUnhealthyInstancePercent: int
    maxUnhealthyUpgradedInstancePercent: int
    pauseTimeBetweenBatches: str
    enableCrossZoneUpgrade: bool
    prioritizeUnhealthyInstances: bool
    rollbackFailedInstancesOnPolicyBreach: bool
    maxSurge: bool


@dataclass(frozen=True)
class PolicyField:
    """One field of ``properties.upgradePolicy``: its module option, REST place, default and API version."""

    option: str
    group: str | None
    name: str
    default: Any
    api_version: str | None

    @property
    def path(self) -> str:
        return f"{POLICY}.{self.group}.{self.name}" if self.group else f"{POLICY}.{self.name}"


# azure-behaviour §1, in the order Azure's REST specification lists them.
POLICY_FIELDS: tuple[PolicyField, ...] = (
    PolicyField("mode", None, "mode", "Manual", None),
    PolicyField("automatic_os_upgrade.enabled", "automaticOSUpgradePolicy", "enableAutomaticOSUpgrade", False,
                "2018-10-01"),
    PolicyField("automatic_os_upgrade.disable_automatic_rollback", "automaticOSUpgradePolicy",
                "disableAutomaticRollback", False, "2018-10-01"),
    PolicyField("automatic_os_upgrade.use_rolling_upgrade_policy", "automaticOSUpgradePolicy",
                "useRollingUpgradePolicy", False, "2022-03-01"),
    PolicyField("automatic_os_upgrade.os_rolling_upgrade_deferral", "automaticOSUpgradePolicy",
                "osRollingUpgradeDeferral", False, "2023-09-01"),
    PolicyField("rolling_upgrade_policy.max_batch_instance_percent", "rollingUpgradePolicy",
                "maxBatchInstancePercent", 20, "2017-03-30"),
    PolicyField("rolling_upgrade_policy.max_unhealthy_instance_percent", "rollingUpgradePolicy",
                "maxUnhealthyInstancePercent", 20, "2017-03-30"),
    PolicyField("rolling_upgrade_policy.max_unhealthy_upgraded_instance_percent", "rollingUpgradePolicy",
                "maxUnhealthyUpgradedInstancePercent", 20, "2017-03-30"),
    PolicyField("rolling_upgrade_policy.pause_time_between_batches", "rollingUpgradePolicy",
                "pauseTimeBetweenBatches", "PT0S", "2017-03-30"),
    PolicyField("rolling_upgrade_policy.enable_cross_zone_upgrade", "rollingUpgradePolicy",
                "enableCrossZoneUpgrade", False, "2020-12-01"),
    PolicyField("rolling_upgrade_policy.prioritize_unhealthy_instances", "rollingUpgradePolicy",
                "prioritizeUnhealthyInstances", False, "2020-12-01"),
    PolicyField("rolling_upgrade_policy.rollback_failed_instances_on_policy_breach", "rollingUpgradePolicy",
                "rollbackFailedInstancesOnPolicyBreach", False, "2022-11-01"),
    PolicyField("rolling_upgrade_policy.max_surge", "rollingUpgradePolicy", "maxSurge", False, "2022-11-01"),
)


OPTION_GROUPS = {"automatic_os_upgrade": "automaticOSUpgradePolicy", "rolling_upgrade_policy": "rollingUpgradePolicy"}


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


def automatic_os_upgrade_enabled(policy: dict[str, Any]) -> bool:
    """``automaticOSUpgradePolicy.enableAutomaticOSUpgrade`` (azure-behaviour §1); absent means off."""
    return bool((policy.get("automaticOSUpgradePolicy") or {}).get("enableAutomaticOSUpgrade"))


def default_upgrade_policy() -> dict[str, Any]:
    """Azure's policy of a scale set created without one: every field at its default."""
    policy: dict[str, Any] = {}
    for field in POLICY_FIELDS:
        container = policy if field.group is None else policy.setdefault(field.group, {})
        container[field.name] = copy.deepcopy(field.default)
    return policy


DEFAULT_UPGRADE_POLICY: dict[str, Any] = default_upgrade_policy()
