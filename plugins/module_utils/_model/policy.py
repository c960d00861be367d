# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade policy (``properties.upgradePolicy``, azure-behaviour §1): its fields, defaults and merge.

``POLICY_FIELDS`` is the one table of the policy's fields. Everything else about them derives from it:
the defaults (``DEFAULT_UPGRADE_POLICY``), the checks of option values here, the JSON Schema
(``_model.schema.UPGRADE_POLICY_SCHEMA``), the module's argument spec (``_front.policy_options``), the API
versions that allow each field (``_checks.requirements``); tests/unit/test_policy_fields.py checks the
module's documentation and the upgrade_policy role's argument spec, defaults and README against it.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal, cast

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import RollingPolicy

POLICY = "properties.upgradePolicy"


AUTOMATIC = "automaticOSUpgradePolicy"
ROLLING = "rollingUpgradePolicy"

# What a field holds: one of ``choices``, true/false, a whole number from ``minimum`` to ``maximum``, or an
# ISO 8601 duration (kept upper-case, as Azure writes it).
Kind = Literal["choice", "bool", "int", "duration"]


@dataclass(frozen=True)
class PolicyField:
    """One field of ``properties.upgradePolicy`` (a row of azure-behaviour §1's table).

    ``option`` is the module option (``group_option.key`` for a sub-option), ``group``/``name`` its place
    in the REST shape, ``api_version`` the first Compute API version that has the field (None: every one).
    """

    option: str
    group: str | None
    name: str
    kind: Kind
    default: Any
    api_version: str | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def rest(self) -> str:
        """``rollingUpgradePolicy.maxSurge``: the field's place inside the policy."""
        return f"{self.group}.{self.name}" if self.group else self.name

    @property
    def path(self) -> str:
        """The JSON path in the scale set's REST model."""
        return f"{POLICY}.{self.rest}"

    @property
    def group_option(self) -> str | None:
        """The module option holding the field (``rolling_upgrade_policy``), None for a top-level one."""
        return self.option.split(".", 1)[0] if self.group else None

    @property
    def key(self) -> str:
        """The option's own name: the sub-option (``max_surge``) or the top-level option (``mode``)."""
        return self.option.split(".", 1)[-1]

    def allowed(self) -> str:
        """What the field accepts, in words, for error messages."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "int":
            return f"a whole number from {self.minimum} to {self.maximum}"
        return "an ISO 8601 duration such as PT0S, PT30S or PT5M"

    def check(self, value: Any, where: str | None = None) -> Any:
        """The value to store, or InvalidInput naming ``where`` (the option), the value and what is allowed."""
        where = where or self.option
        if self.kind == "duration" and isinstance(value, str):
            parse_duration(value, where)  # its message names the option and the forms allowed
            return value.strip().upper()
        if self.kind == "choice":
            ok = isinstance(value, str) and value in self.choices
        elif self.kind == "bool":
            ok = isinstance(value, bool)
        elif self.kind == "int":
            ok = (
                isinstance(value, int)
                and not isinstance(value, bool)
                and self.minimum is not None
                and self.maximum is not None
                and self.minimum <= value <= self.maximum
            )
        else:
            ok = False
        if not ok:
            detail = {"option": where} if where == self.option else {"path": where}
            raise InvalidInput(
                f"{where}: {value!r} is not allowed; use {self.allowed()} (Azure's {self.rest})", **detail
            )
        return value


def _percent(option: str, name: str, minimum: int) -> PolicyField:
    return PolicyField(
        f"rolling_upgrade_policy.{option}", ROLLING, name, "int", 20, "2017-03-30", minimum=minimum, maximum=100
    )


# azure-behaviour §1, in the order Azure's REST specification lists them.
POLICY_FIELDS: tuple[PolicyField, ...] = (
    PolicyField("mode", None, "mode", "choice", "Manual", choices=("Automatic", "Manual", "Rolling")),
    PolicyField("automatic_os_upgrade.enabled", AUTOMATIC, "enableAutomaticOSUpgrade", "bool", False, "2018-10-01"),
    PolicyField(
        "automatic_os_upgrade.disable_automatic_rollback",
        AUTOMATIC,
        "disableAutomaticRollback",
        "bool",
        False,
        "2018-10-01",
    ),
    PolicyField(
        "automatic_os_upgrade.use_rolling_upgrade_policy",
        AUTOMATIC,
        "useRollingUpgradePolicy",
        "bool",
        False,
        "2022-03-01",
    ),
    PolicyField(
        "automatic_os_upgrade.os_rolling_upgrade_deferral",
        AUTOMATIC,
        "osRollingUpgradeDeferral",
        "bool",
        False,
        "2023-09-01",
    ),
    _percent("max_batch_instance_percent", "maxBatchInstancePercent", 5),
    _percent("max_unhealthy_instance_percent", "maxUnhealthyInstancePercent", 5),
    _percent("max_unhealthy_upgraded_instance_percent", "maxUnhealthyUpgradedInstancePercent", 0),
    PolicyField(
        "rolling_upgrade_policy.pause_time_between_batches",
        ROLLING,
        "pauseTimeBetweenBatches",
        "duration",
        "PT0S",
        "2017-03-30",
    ),
    PolicyField(
        "rolling_upgrade_policy.enable_cross_zone_upgrade",
        ROLLING,
        "enableCrossZoneUpgrade",
        "bool",
        False,
        "2020-12-01",
    ),
    PolicyField(
        "rolling_upgrade_policy.prioritize_unhealthy_instances",
        ROLLING,
        "prioritizeUnhealthyInstances",
        "bool",
        False,
        "2020-12-01",
    ),
    PolicyField(
        "rolling_upgrade_policy.rollback_failed_instances_on_policy_breach",
        ROLLING,
        "rollbackFailedInstancesOnPolicyBreach",
        "bool",
        False,
        "2022-11-01",
    ),
    PolicyField("rolling_upgrade_policy.max_surge", ROLLING, "maxSurge", "bool", False, "2022-11-01"),
)

# Module option of each REST group: {"automatic_os_upgrade": "automaticOSUpgradePolicy", ...}.
OPTION_GROUPS: dict[str, str] = {f.option.split(".", 1)[0]: f.group for f in POLICY_FIELDS if f.group is not None}


def policy_field(option: str) -> PolicyField:
    """The row of ``option`` (``automatic_os_upgrade.enabled``); KeyError for an unknown one."""
    for field in POLICY_FIELDS:
        if field.option == option:
            return field
    raise KeyError(option)


def field_value(policy: dict[str, Any], field: PolicyField) -> Any:
    """The field's value in a REST-shaped policy; its default when absent."""
    container = (policy.get(field.group) if field.group else policy) or {}
    return container.get(field.name, field.default)


def _given(params: dict[str, Any], field: PolicyField) -> Any:
    """The option's value from the module parameters, None when not given."""
    group_option = field.group_option
    if group_option is None:
        return params.get(field.option)
    group = params.get(group_option)
    if group is None:
        return None
    if not isinstance(group, dict):
        raise InvalidInput(f"{group_option}: give a dict of options, not {type(group).__name__}")
    return group.get(field.key)


def group_keys(group_option: str) -> list[str]:
    """The sub-options of ``automatic_os_upgrade`` or ``rolling_upgrade_policy``, in the table's order."""
    return [f.key for f in POLICY_FIELDS if f.group_option == group_option]


def _check_keys(params: dict[str, Any]) -> None:
    """Ansible refuses unknown sub-options; callers of the core get the same answer."""
    for group_option in OPTION_GROUPS:
        group = params.get(group_option)
        if not isinstance(group, dict):
            continue
        known = sorted(group_keys(group_option))
        unknown = sorted(set(group) - set(known))
        if unknown:
            raise InvalidInput(f"{group_option}: unknown option {', '.join(unknown)}; allowed: {', '.join(known)}")


def _check_document(policy: dict[str, Any]) -> None:
    """A policy in REST shape has only the table's fields, each with a value it allows."""
    groups = set(OPTION_GROUPS.values())
    top = {f.name for f in POLICY_FIELDS if f.group is None} | groups
    unknown = sorted(set(policy) - top)
    if unknown:
        raise InvalidInput(f"{POLICY}: unknown field {', '.join(unknown)}", path=POLICY)
    for group in sorted(groups):
        if not isinstance(policy.get(group), dict):
            raise InvalidInput(f"{POLICY}.{group}: {policy.get(group)!r} is not an object", path=f"{POLICY}.{group}")
        extra = sorted(set(policy[group]) - {f.name for f in POLICY_FIELDS if f.group == group})
        if extra:
            raise InvalidInput(f"{POLICY}.{group}: unknown field {', '.join(extra)}", path=f"{POLICY}.{group}")
    for field in POLICY_FIELDS:
        field.check(field_value(policy, field), field.path)


def merge(current: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The policy after applying the options that are given; the rest keep their current value."""
    _check_keys(params)
    policy = copy.deepcopy(current)
    for field in POLICY_FIELDS:
        value = _given(params, field)
        if value is None:
            continue
        value = field.check(value)
        if field.group is None:
            policy[field.name] = value
        else:
            policy.setdefault(field.group, {})[field.name] = value
    # Fill what an older record may lack, so the result is always Azure's full shape.
    for field in POLICY_FIELDS:
        container = policy if field.group is None else policy.setdefault(field.group, {})
        container.setdefault(field.name, field.default)
    _check_document(policy)
    return policy


ENABLED = policy_field("automatic_os_upgrade.enabled")
USE_ROLLING = policy_field("automatic_os_upgrade.use_rolling_upgrade_policy")


def automatic_os_upgrade_enabled(policy: dict[str, Any]) -> bool:
    """``automaticOSUpgradePolicy.enableAutomaticOSUpgrade`` (azure-behaviour §1); absent means off."""
    return bool(field_value(policy, ENABLED))


def default_upgrade_policy() -> dict[str, Any]:
    """Azure's policy of a scale set created without one: every field at its default."""
    policy: dict[str, Any] = {}
    for field in POLICY_FIELDS:
        container = policy if field.group is None else policy.setdefault(field.group, {})
        container[field.name] = copy.deepcopy(field.default)
    return policy


DEFAULT_UPGRADE_POLICY: dict[str, Any] = default_upgrade_policy()

# azure-behaviour §1, bullet 1: automatic OS upgrades use the rolling policy's numbers only with
# useRollingUpgradePolicy; otherwise Azure's fixed defaults 20 / 20 / 20 / PT0S, the table's defaults.
FIXED_AUTOMATIC_ROLLING_POLICY = cast(RollingPolicy, dict(DEFAULT_UPGRADE_POLICY[ROLLING]))


def automatic_upgrade_uses_rolling_policy(policy: dict[str, Any]) -> bool:
    """Whether a platform-started OS upgrade takes the scale set's rolling policy (azure-behaviour §1 bullet 1)."""
    return bool(field_value(policy, USE_ROLLING))


def rolling_numbers(policy: dict[str, Any], platform_os_upgrade: bool) -> RollingPolicy:
    """The rolling upgrade policy a run uses (azure-behaviour §1 bullet 1).

    A platform-started (automatic) OS upgrade without ``useRollingUpgradePolicy`` uses the fixed
    defaults whatever the scale set says; every other run uses the scale set's rolling policy, with the
    table's defaults for fields an older record lacks.
    """
    if platform_os_upgrade and not automatic_upgrade_uses_rolling_policy(policy):
        return FIXED_AUTOMATIC_ROLLING_POLICY.copy()
    return cast(RollingPolicy, {**FIXED_AUTOMATIC_ROLLING_POLICY, **(policy.get(ROLLING) or {})})


# -- the percentage thresholds (azure-behaviour §3: "Percent thresholds compare strictly") -----------


def tolerated(instance_count: int, percent: int) -> int:
    """How many of ``instance_count`` a "more than ``percent``%" threshold lets pass: floor(N * percent / 100).

    azure-behaviour §3 rules 1 and 6 (the pre-batch and post-batch checks); Azure's example: 10 instances at
    20% tolerate 2, so the third unhealthy upgraded instance stops the run.
    """
    return instance_count * percent // 100


def exceeds(count: int, instance_count: int, percent: int) -> bool:
    """``count`` is more than ``percent``% of ``instance_count`` (azure-behaviour §3, strict comparison)."""
    return count > tolerated(instance_count, percent)
