# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Automatic instance repairs as data (azure-behaviour-2 §8): the policy, the orchestration service's state, and
what the repair engine keeps per scale set (grace periods, repairs under way, failures in a row).

The policy is ``properties.automaticRepairsPolicy`` of the REST model (AR-1); the rest lives in the record's
``repairs`` entry, which only a scale set with a policy has. The engine that acts on it is _engine/repairs.py.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import random
from typing import Any, cast

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError, Conflict, InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import api_at_least
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import health_source
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import is_protected_from_scale_in
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import (
    Instance,
    Record,
    RepairAction,
    RepairsState,
)

# The service's state, read by every view of a scale set, lives apart (repair_services).
from ansible_collections.azsim.vmss.plugins.module_utils._model.repair_services import policy_of, service_state

REPAIR_ACTIONS: tuple[RepairAction, ...] = ("Replace", "Restart", "Reimage")
# AR-1: gracePeriod from PT10M (also the default) to PT90M.
GRACE_MIN, GRACE_MAX, GRACE_DEFAULT = 600, 5400, "PT10M"
POLICY_API = "2018-10-01"  # AR-1: automaticRepairsPolicy with enabled and gracePeriod
REPAIR_ACTION_API = "2021-11-01"  # AR-1: repairAction
# AR-10 SIMULATOR CHOICE: the platform suspends repairs after this many repairs in a row of one instance slot
# that end unhealthy.
SUSPEND_AFTER = 3
# AR-3: "no more than 5% of the total instances"; fewer than 20 instances: one at a time.
CAP_PERCENT = 5
# Health states that trigger a repair (AR-3): Initializing does not.
TRIGGERING = ("Unhealthy", "Unknown")


class BadRequest(AzsimError):
    """Azure's 400 ``BadRequest`` for a repairs policy the scale set cannot have (AR-2, AR-7)."""

    CODE = "BadRequest"


def enabled(record: Record) -> bool:
    policy = policy_of(record)
    return bool(policy and policy.get("enabled"))


def grace_seconds(record: Record) -> int:
    policy = policy_of(record) or {}
    return parse_duration(str(policy.get("gracePeriod") or GRACE_DEFAULT), "automaticRepairsPolicy.gracePeriod")


def repair_action(record: Record) -> RepairAction:
    policy = policy_of(record) or {}
    return cast(RepairAction, policy.get("repairAction") or "Replace")


def state_of(record: Record) -> RepairsState:
    """The engine's state, made on first use."""
    state = record.get("repairs")
    if state is None:
        state = {"suspended": False, "grace_until": {}, "repairing": {}, "failures": {}}
        record["repairs"] = state
    return state


def cap(instance_count: int) -> int:
    """AR-3 SIMULATOR CHOICE: at most max(1, floor(5% of N)) repairs at the same time."""
    return max(1, instance_count * CAP_PERCENT // 100)


# -- writing the policy ----------------------------------------------------------------------------------


def _grace(value: Any) -> str:
    seconds = parse_duration(value, "automatic_repairs.grace_period")
    if not GRACE_MIN <= seconds <= GRACE_MAX:
        raise InvalidInput(
            f"automatic_repairs.grace_period: {value!r} is outside the allowed range PT10M to PT90M (AR-1)",
            path="properties.automaticRepairsPolicy.gracePeriod",
        )
    return str(value)


def apply_policy(record: Record, option: dict[str, Any] | None) -> None:
    """Write ``automatic_repairs`` into ``properties.automaticRepairsPolicy``; keys not given keep their value."""
    if option is None or all(v is None for v in option.values()):
        return
    api = record["api_version"]
    if not api_at_least(api, POLICY_API):
        # AR-1: Azure's own answer to the field at an older api-version.
        raise BadRequest(
            f"automatic_repairs: needs api_version {POLICY_API} or later (scale set has {api}): Couldn't find member "
            "'automaticRepairsPolicy' on object of type 'properties'",
            azure_message="Couldn't find member 'automaticRepairsPolicy' on object of type 'properties'",
        )
    old = policy_of(record)
    new: dict[str, Any] = dict(old or {"enabled": False, "gracePeriod": GRACE_DEFAULT})
    if option.get("enabled") is not None:
        new["enabled"] = bool(option["enabled"])
    if option.get("grace_period") is not None:
        new["gracePeriod"] = _grace(option["grace_period"])
    action = option.get("repair_action")
    if action is not None:
        if action not in REPAIR_ACTIONS:
            raise InvalidInput(
                f"automatic_repairs.repair_action: {action!r} is not allowed; allowed: {', '.join(REPAIR_ACTIONS)}"
            )
        if not api_at_least(api, REPAIR_ACTION_API):
            raise InvalidInput(
                f"automatic_repairs.repair_action: needs api_version {REPAIR_ACTION_API} or later (scale set has {api})"
            )
        new["repairAction"] = action
    elif api_at_least(api, REPAIR_ACTION_API):
        new.setdefault("repairAction", "Replace")
    if old is not None and old.get("enabled") and new["enabled"]:
        if old.get("repairAction", "Replace") != new.get("repairAction", "Replace"):
            # AR-7 SIMULATOR CHOICE text.
            text = (
                "To change repairAction, disable automaticRepairsPolicy first and re-enable it with the new "
                "repairAction."
            )
            raise BadRequest(f"automatic_repairs.repair_action: {text}", azure_message=text)
    record["model"]["properties"]["automaticRepairsPolicy"] = new


def check_requirements(record: Record) -> None:
    """AR-2, checked on every write of a scale set whose repairs are enabled: one health source, no Service
    Fabric. Removing the health source later is refused the same way."""
    if not enabled(record):
        return
    source = health_source(record)
    if source is None:
        text = (
            "Automatic repairs is not supported for this Virtual Machine Scale Set because a health probe or health "
            "extension was not provided."
        )
        raise BadRequest(text)
    if source == "both":  # AR-2: "only one can be enabled at a time"
        text = (
            "Automatic repairs needs exactly one health source; this Virtual Machine Scale Set has both a load "
            "balancer health probe and an Application Health extension."
        )
        raise BadRequest(text)
    if record.get("service_fabric"):
        text = "Automatic repairs is not supported for service fabric scale sets."
        raise BadRequest(text)


def set_service(record: Record, wanted: str | None) -> None:
    """Azure's setOrchestrationServiceState for AutomaticRepairs (AR-9, AR-11): ``running`` is Resume,
    ``suspended`` is Suspend. Resuming a running service, or suspending a suspended one, changes nothing."""
    if wanted is None:
        return
    state = service_state(record)
    if state is None:
        raise InvalidInput(
            "orchestration_service: the scale set has no automatic_repairs policy; set automatic_repairs first"
        )
    verb = "Resume" if wanted == "running" else "Suspend"
    if state == "NotRunning":
        # AR-11 SIMULATOR CHOICE text (the Suspend case; a Resume of a disabled service is refused alike).
        text = (
            f"Operation '{verb}' for AutomaticRepairs is not allowed on Virtual Machine Scale Set "
            f"'{record['model']['name']}' because orchestration service 'AutomaticRepairs' is not in Running state."
        )
        raise Conflict(f"orchestration_service: {text}", code="OperationNotAllowed", status=409, azure_message=text)
    if (verb == "Resume") == (state == "Running"):
        return
    repairs = state_of(record)
    repairs["suspended"] = verb == "Suspend"
    if verb == "Resume":
        repairs["failures"] = {}  # AR-10: a resume starts counting afresh


def note_state_change(record: Record, instance_id: str, now: int) -> None:
    """AR-5: a state change of the instance (created, upgraded, rolled back, repaired) completed ``now``; no repair
    acts on it before its grace period ends. Only scale sets with a repairs policy keep this."""
    if policy_of(record) is None:
        return
    state_of(record)["grace_until"][instance_id] = now + grace_seconds(record)


def protected(instance: Instance) -> bool:
    """AR-4: either protection policy (IP rules) keeps repairs off the instance; protection from scale-in is
    implied by protection from actions (IP-2), so the one predicate of _model/protection.py answers both."""
    return is_protected_from_scale_in(instance)


# -- the repair_failure fault --------------------------------------------------------------------------


def repair_fails(record: Record, instances: list[Instance], instance: Instance) -> bool:
    """Whether a ``repair_failure`` fault rule picks ``instance`` (design.md round 2): by name, or by probability
    with the scale set's seed, drawn over the instances in id order as the run faults are."""
    ordered = sorted(instances, key=lambda i: int(i["instance_id"]))
    seed = record["simulation"]["seed"]
    for index, rule in enumerate(record["simulation"]["faults"]):
        if rule.get("type") != "repair_failure":
            continue
        if rule.get("instances"):
            if instance["name"] in rule["instances"]:
                return True
        elif rule.get("probability") is not None:
            rng = random.Random(f"{seed}:{index}:repair")
            if any(rng.random() < rule["probability"] and i["name"] == instance["name"] for i in ordered):
                return True
        else:
            return True
    return False
