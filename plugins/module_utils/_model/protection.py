# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance protection (azure-behaviour-2 §2, IP rules): the per-instance ``protectionPolicy`` and the
predicates every scale-set action asks before it touches an instance.

Every engine that acts on instances on the scale set's behalf (OS and model runs, maxSurge, reimage,
extension runs, repairs, scale-in) asks ``is_protected_from_scale_set_actions`` or ``is_protected_from_scale_in``
here, so that the rule lives in one place.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import external_id, slot_order
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, ProtectionPolicy, Record

PROTECTION_KEYS = ("from_scale_set_actions", "from_scale_in")


def protection_policy(instance: Mapping[str, Any]) -> ProtectionPolicy:
    """Azure's ``protectionPolicy`` of the instance; both false when never set (IP-1: no protection by default)."""
    stored = instance.get("protection_policy") or {}
    return {
        "protectFromScaleIn": bool(stored.get("protectFromScaleIn")),
        "protectFromScaleSetActions": bool(stored.get("protectFromScaleSetActions")),
    }


def is_protected_from_scale_set_actions(instance: Mapping[str, Any]) -> bool:
    """IP-4: upgrades, reimage, model updates, maxSurge, extension runs and repairs leave the instance alone."""
    stored = instance.get("protection_policy")  # protection_policy's, without its dict: asked of every instance
    return bool(stored and stored.get("protectFromScaleSetActions"))


def is_protected_from_scale_in(instance: Mapping[str, Any]) -> bool:
    """IP-3/IP-4: a scale-in never picks the instance (protection from actions implies it, IP-2)."""
    policy = protection_policy(instance)
    return policy["protectFromScaleIn"] or policy["protectFromScaleSetActions"]


def normalize_protection(value: Any, where: str, instance: str) -> ProtectionPolicy:
    """The ``protection`` option of one instance as Azure's ``protectionPolicy`` (IP-2's consistency rule)."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: give a dict with {', '.join(PROTECTION_KEYS)} (booleans)")
    unknown = sorted(set(value) - set(PROTECTION_KEYS))
    if unknown:
        raise InvalidInput(f"{where}: unknown key {', '.join(unknown)}; allowed: {', '.join(PROTECTION_KEYS)}")
    for key in PROTECTION_KEYS:
        if value.get(key) is not None and not isinstance(value[key], bool):
            raise InvalidInput(f"{where}.{key}: {value[key]!r} is not allowed; give true or false")
    actions = bool(value.get("from_scale_set_actions"))
    scale_in = value.get("from_scale_in")
    if actions and scale_in is False:
        # IP-2 (SIMULATOR CHOICE: 400 InvalidParameter), Azure's text.
        raise InvalidInput(
            f"{where}: Virtual Machine Scale Set VM instance {instance} protectionPolicy properties protectFromScaleIn "
            "and protectFromScaleSetActions conflict with each other. protectFromScaleIn cannot be false when "
            "protectFromScaleSetActions is true."
        )
    # IP-2: protection from actions with from_scale_in omitted reads back as protected from scale-in too.
    return {"protectFromScaleIn": bool(scale_in) or actions, "protectFromScaleSetActions": actions}


def protected_message(instance_ids: Iterable[str]) -> str:
    """IP-7's text (CSS-PB) for an explicit instance list naming protected instances."""
    return (
        "InstanceIds may not contain instances that are protected from scale set actions. The following instance "
        f"ids are protected from scale set action: {', '.join(instance_ids)}."
    )


def refuse_protected(instances: Iterable[Instance], option: str, record: Record | None = None) -> None:
    """IP-7 (SIMULATOR CHOICE: 409 OperationNotAllowed): a scale-set action that names protected-from-actions
    instances explicitly is refused; ``option`` names the module option that named them. With ``record``, the
    ids are those callers see (VM names on Flexible, azure-behaviour-2 FX-6)."""
    protected = [
        i["instance_id"] if record is None else external_id(record, i["instance_id"])
        for i in sorted(instances, key=lambda i: int(i["instance_id"]))
        if is_protected_from_scale_set_actions(i)
    ]
    if protected:
        text = protected_message(protected)
        raise Conflict(f"{option}: {text}", code="OperationNotAllowed", status=409, azure_message=text)


NO_UNPROTECTED_LATEST = (
    "The OS Rolling Upgrade API cannot be used on a Virtual Machine Scale Set unless the Virtual Machine Scale Set "
    "has some unprotected instances which have imageReference.version set to latest."
)


def scale_in(instances: list[dict[str, Any]], keep: int, vmss: str) -> list[dict[str, Any]]:
    """The instances left after a capacity decrease to ``keep`` (IP-9: scale-in deletes the highest instance ids
    among those not protected from scale-in). Too few unprotected instances is refused, nothing changed
    (decision D8: 409 OperationNotAllowed naming the protected instances)."""
    ordered = slot_order(instances)
    protected = [i for i in ordered if is_protected_from_scale_in(i)]
    if keep < len(protected):
        ids = ", ".join(i["instance_id"] for i in protected)
        text = (
            f"The capacity of Virtual Machine Scale Set {vmss} cannot be decreased to {keep}: {len(protected)} "
            f"instance(s) are protected from scale-in and are never deleted by it: {ids}."
        )
        raise Conflict(f"sku.capacity: {text}", code="OperationNotAllowed", status=409, azure_message=text)
    unprotected = [i for i in ordered if not is_protected_from_scale_in(i)]
    kept = {i["instance_id"] for i in protected} | {i["instance_id"] for i in unprotected[: keep - len(protected)]}
    return [i for i in ordered if i["instance_id"] in kept]
