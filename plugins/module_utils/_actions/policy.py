# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: write ``properties.upgradePolicy`` of a scale set, or refuse to.

Fields not given keep their current value. The merged policy is validated (ranges, ISO 8601
durations), then every requirement of ``_checks.requirements`` is checked against the scale set as
it would be after the write. Any unmet requirement raises ``RequirementsNotMet`` carrying all
findings, so the call fails and its transaction writes nothing.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome, address
from ansible_collections.azsim.vmss.plugins.module_utils._checks.flexible import (
    FLEX_AUTO_OS_FEATURE,
    check_flexible_policy,
)
from ansible_collections.azsim.vmss.plugins.module_utils._checks.requirements import (
    ERROR,
    Finding,
    RequirementsNotMet,
    check_policy,
    summarize,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine import conflicts
from ansible_collections.azsim.vmss.plugins.module_utils._engine.platform import reschedule
from ansible_collections.azsim.vmss.plugins.module_utils._engine.rollouts import rollout_model_change
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import (
    DEFAULT_NAMESPACE,
    REGISTERED,
    gallery_opt_in_complete,
    load_feature,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import count_unhealthy
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import is_flexible
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import automatic_os_upgrade_enabled, merge
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record


class PolicyResult(Outcome):
    upgrade_policy: dict[str, Any]
    findings: list[Finding]


def _windows_configuration(record: Record) -> dict[str, Any] | None:
    if record.get("os_type") != "windows":
        return None
    os_profile = record["model"]["properties"]["virtualMachineProfile"].setdefault("osProfile", {})
    config: dict[str, Any] | None = os_profile.get("windowsConfiguration")
    if config is None:
        config = os_profile["windowsConfiguration"] = {}
    return config


def _snapshot(record: Record) -> dict[str, Any]:
    """What ``changed`` and ``diff`` compare: the policy, and Windows Update, which enabling may turn off."""
    out: dict[str, Any] = {"upgrade_policy": copy.deepcopy(record["model"]["properties"]["upgradePolicy"])}
    config = record["model"]["properties"]["virtualMachineProfile"].get("osProfile", {}).get("windowsConfiguration")
    if record.get("os_type") == "windows":
        out["windows_configuration"] = copy.deepcopy(config or {})
    return out


def set_upgrade_policy(
    call: Call,
    resource_group: str,
    name: str,
    *,
    mode: str | None = None,
    automatic_os_upgrade: dict[str, Any] | None = None,
    rolling_upgrade_policy: dict[str, Any] | None = None,
) -> PolicyResult:
    """Merge the given fields into the policy, validate, check every requirement (§1, §2), and write it."""
    store = call.store
    key, record = address(call, resource_group, name)
    instances = fleet_of(store).instances(key)
    current = record["model"]["properties"]["upgradePolicy"]
    policy = merge(
        current,
        {"mode": mode, "automatic_os_upgrade": automatic_os_upgrade, "rolling_upgrade_policy": rolling_upgrade_policy},
    )

    candidate = copy.deepcopy(record)
    candidate["model"]["properties"]["upgradePolicy"] = policy
    # azure-behaviour-2 FX-2, FX-3, D7: what Flexible orchestration refuses in a policy.
    registered = (
        is_flexible(candidate)
        and load_feature(store, call.subscription_id, DEFAULT_NAMESPACE, FLEX_AUTO_OS_FEATURE)["state"] == REGISTERED
    )
    check_flexible_policy(candidate, policy, registered, automatic_os_upgrade_enabled(current))
    if automatic_os_upgrade_enabled(policy):
        config = _windows_configuration(candidate)
        # Azure turns in-VM Windows Update off with automatic OS upgrade when nobody said otherwise;
        # an explicit true stays, and the requirement check reports it (§2 rule 6; design.md, Windows).
        if config is not None and config.get("enableAutomaticUpdates") is None:
            config["enableAutomaticUpdates"] = False

    unhealthy = count_unhealthy(instances)
    findings = check_policy(
        candidate, policy, len(instances), gallery_opt_in_complete(store, call.subscription_id), unhealthy
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
        was_enabled = automatic_os_upgrade_enabled(current)
        if automatic_os_upgrade_enabled(policy) and not was_enabled:
            # The platform's first-rollout delay counts from here (azure-behaviour §4).
            candidate["automatic_os_upgrade_enabled_at"] = store.now()
        elif not automatic_os_upgrade_enabled(policy):
            candidate["automatic_os_upgrade_enabled_at"] = None
        profile_before = record["model"]["properties"]["virtualMachineProfile"]
        if candidate["model"]["properties"]["virtualMachineProfile"] != profile_before:
            # Turning Windows Update off is a change of the VM model that instances must take.
            candidate["model_version"] = record["model_version"] + 1
            # azure-behaviour-2 CF-2: not while a run goes on in mode Rolling or Automatic.
            conflicts.refuse_model_change(name, (current["mode"], policy["mode"]), fleet_of(store).latest_run(key))
        fleet_of(store).save(candidate)
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
