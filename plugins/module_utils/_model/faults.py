# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault model: which instance misbehaves how in a run.

A rule picks instances by name, by probability, or (with neither) every instance. Probability draws
come from one RNG per rule seeded with the scale set's seed, one draw per instance in instance-id
order, so the same seed and fleet give the same picks in every run.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import random
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, InstanceFaults


def check_rules(rules: list[dict[str, Any]], names: set[str], extensions: set[str]) -> None:
    """Fault rules must name existing instances and extensions; checked when the scale set is saved.

    Their values too: what ``pick`` reads in every later run (``delay``, ``at``, ``probability``) is refused
    now, so that a stored rule can never make the runs of the scale set fail.
    """
    for index, rule in enumerate(rules):
        for option in ("delay", "at"):
            if rule.get(option) is not None:
                parse_duration(rule[option], f"simulation.faults[{index}].{option}")
        probability = rule.get("probability")
        # NaN passes the schema's minimum and maximum (every comparison with NaN is false) and json stores it bare.
        if probability is not None and not (isinstance(probability, (int, float)) and 0 <= probability <= 1):
            raise InvalidInput(
                f"simulation.faults[{index}].probability: {probability!r} is not allowed; use a number from 0 to 1"
            )
        for name in rule.get("instances") or []:
            if name not in names:
                raise InvalidInput(
                    f"simulation.faults[{index}].instances: {name!r} is not an instance of this scale set"
                )
        if rule.get("extension") and rule["extension"] not in extensions:
            known = ", ".join(sorted(extensions)) or "none"
            raise InvalidInput(
                f"simulation.faults[{index}].extension: {rule['extension']!r} is not an extension of this scale set "
                f"(known: {known})"
            )


def pick(
    rules: list[dict[str, Any]], seed: int, instances: list[Instance], target_version: str | None
) -> dict[str, InstanceFaults]:
    """{instance id: {boot_unhealthy, slow_boot, extension_failure, rollback_failure, unhealthy_at}} for a run.

    ``target_version`` is the OS image version the run rolls out (None for a model change); rules
    limited to an image_version apply only to runs towards that version.
    """
    ordered = sorted(instances, key=lambda i: int(i["instance_id"]))
    picked: dict[str, InstanceFaults] = {}
    for index, rule in enumerate(rules):
        if rule.get("image_version") and rule["image_version"] != target_version:
            continue
        if rule["type"] in ("repair_failure", "internal_execution_error"):
            # Not an instance's fault in a run: automatic repairs read the first (_model/repairs.py repair_fails),
            # the run itself the second (``internal_error_at``).
            continue
        if rule.get("instances"):
            wanted = set(rule["instances"])
            chosen = [i for i in ordered if i["name"] in wanted]
        elif rule.get("probability") is not None:
            rng = random.Random(f"{seed}:{index}")
            chosen = [i for i in ordered if rng.random() < rule["probability"]]
        else:
            chosen = ordered
        for instance in chosen:
            entry = picked.setdefault(instance["instance_id"], {})
            kind = rule["type"]
            if kind == "slow_boot":
                entry["slow_boot"] = max(entry.get("slow_boot", 0), parse_duration(rule["delay"], "delay"))
            elif kind == "app_initializing":
                # AH-3, AH-5: the application answers only this long after boot; Initializing meanwhile.
                delay = parse_duration(rule["delay"], "delay")
                entry["app_initializing"] = max(entry.get("app_initializing", 0), delay)
            elif kind == "extension_failure":
                entry.setdefault("extension_failure", []).append(rule["extension"])
            elif kind == "unhealthy_at":
                entry["unhealthy_at"] = parse_duration(rule["at"], "at")
            elif kind == "boot_unhealthy":
                entry["boot_unhealthy"] = True
            else:  # rollback_failure, the last type the schema allows
                entry["rollback_failure"] = True
    return picked


def internal_error_at(rules: list[dict[str, Any]], target_version: str | None) -> int | None:
    """azure-behaviour-2 ER-8: seconds after a run's start an ``internal_execution_error`` rule stops it (the
    earliest of them; rules limited to an image_version apply only to runs towards it); None when none does.
    Azure documents no cause for InternalExecutionError: the simulator raises it only when told to."""
    times = [
        parse_duration(rule["at"], "at")
        for rule in rules
        if rule["type"] == "internal_execution_error"
        and (not rule.get("image_version") or rule["image_version"] == target_version)
    ]
    return min(times) if times else None
