# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lifecycle hooks (azure-behaviour-2 §1): the scale set's ``lifecycleHooksProfile`` and the events it raises.

The setting is part of the scale set's REST model. The events are kept in the scale set's record (so
that deleting the scale set removes them), in the internal shape ``HookEvent``; ``event_view`` shapes
one as Azure's ``lifecycleHookEvents`` resource (LH-8).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Literal, NotRequired, TypedDict, cast

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import (
    format_duration,
    format_timestamp,
    parse_duration,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import api_at_least
from ansible_collections.azsim.vmss.plugins.module_utils._model import orchestration
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record

HookType = Literal["UpgradeAutoOSScheduling", "UpgradeAutoOSRollingBatchStarting"]
HookAction = Literal["Approve", "Reject"]
EventState = Literal["Active", "Completed", "Abandoned"]
ActionState = Literal["Waiting", "Approved", "Rejected", "Abandoned"]

SCHEDULING: HookType = "UpgradeAutoOSScheduling"
BATCH_STARTING: HookType = "UpgradeAutoOSRollingBatchStarting"
# LH-1: the profile and the events first appear in this api-version.
MIN_API_VERSION = "2025-11-01"
# LH-4 (decision D6): per type, the default waitDuration and the longest allowed, in seconds.
DEFAULT_WAIT: dict[HookType, int] = {SCHEDULING: 3600, BATCH_STARTING: 1800}
MAX_WAIT: dict[HookType, int] = {SCHEDULING: 2 * 86400, BATCH_STARTING: 4 * 3600}
EVENT_TYPE = "Microsoft.Compute/virtualMachineScaleSets/lifecycleHookEvents"
TERMINAL: tuple[ActionState, ...] = ("Approved", "Rejected", "Abandoned")
_WHERE = "lifecycle_hooks"


class Hook(TypedDict):
    """One entry of ``lifecycleHooksProfile.lifecycleHooks`` (LH-2), as stored and returned on GET."""

    type: HookType
    waitDuration: str
    defaultAction: HookAction


class HookTarget(TypedDict):
    """A target resource of an event (LH-14): the scale set (``instance_id`` None) or one of its VMs."""

    id: str
    instance_id: str | None
    state: ActionState


class HookEvent(TypedDict):
    """One lifecycle-hook event, times in virtual seconds (LH-8, LH-12)."""

    name: str
    type: HookType
    created: int
    wait_until: int
    max_wait_until: int
    default_action: HookAction
    state: EventState
    targets: list[HookTarget]
    # What the event gates: the image version a Scheduling event would start a run towards (LH-15), or the run
    # and batch a BatchStarting event holds back (LH-16).
    version: NotRequired[str]
    run_id: NotRequired[int]
    batch: NotRequired[int]
    closed: NotRequired[int]


# -- the scale-set setting (LH-1...LH-6) -----------------------------------------------------------


def normalise_hooks(value: list[dict[str, Any]], api_version: str) -> list[Hook]:
    """The ``lifecycleHooks`` to store from what a caller gave (snake_case or Azure's names), or InvalidInput.

    LH-1: refused below api-version 2025-11-01; LH-2: one hook per type; LH-3: two types; LH-4: the type's default
    waitDuration when omitted, and 0 < waitDuration <= the type's maximum; LH-5: Approve (default) or Reject (the GA
    behaviour; the preview's refusal of Reject is not simulated).
    """
    if not api_at_least(api_version, MIN_API_VERSION):
        raise InvalidInput(
            f"{_WHERE}: lifecycle hooks need api_version {MIN_API_VERSION} or later (the scale set uses {api_version})",
            code="BadRequest",
            azure_message="Could not find member 'lifecycleHooksProfile' on object of type 'properties'.",
        )
    hooks: list[Hook] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"{_WHERE}[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where}: each hook is a dict with type, wait_duration and default_action")
        hook_type = _hook_type(item.get("type"), where)
        if hook_type in seen:
            raise InvalidInput(
                f"{where}.type: {hook_type} is given twice; a scale set has at most one hook per type",
                azure_message=f"Lifecycle hook type '{hook_type}' is specified more than once.",
            )
        seen.add(hook_type)
        wait = _first(item, "wait_duration", "waitDuration")
        seconds = DEFAULT_WAIT[hook_type] if wait is None else parse_duration(wait, f"{where}.wait_duration")
        if not 0 < seconds <= MAX_WAIT[hook_type]:
            raise InvalidInput(
                f"{where}.wait_duration: {wait!r} is out of range for {hook_type}; use more than PT0S and at most "
                f"{format_duration(MAX_WAIT[hook_type])}"
            )
        given = _first(item, "default_action", "defaultAction") or "Approve"
        if given not in ("Approve", "Reject"):
            raise InvalidInput(f"{where}.default_action: {given!r} is not allowed; use Approve or Reject")
        action: HookAction = "Approve" if given == "Approve" else "Reject"
        hooks.append({"type": hook_type, "waitDuration": format_duration(seconds), "defaultAction": action})
    return hooks


def _first(item: dict[str, Any], *names: str) -> Any:
    for name in names:
        if item.get(name) is not None:
            return item[name]
    return None


def _hook_type(value: object, where: str) -> HookType:
    if value not in DEFAULT_WAIT:
        raise InvalidInput(f"{where}.type: {value!r} is not a hook type; use {SCHEDULING} or {BATCH_STARTING}")
    return SCHEDULING if value == SCHEDULING else BATCH_STARTING


def hooks_of(record: Record) -> list[Hook]:
    profile = record["model"]["properties"].get("lifecycleHooksProfile") or {}
    return cast(list[Hook], profile.get("lifecycleHooks") or [])


def hook_of(record: Record, hook_type: HookType) -> Hook | None:
    return next((h for h in hooks_of(record) if h["type"] == hook_type), None)


def set_hooks(record: Record, hooks: list[Hook]) -> None:
    """Store the hooks in the model; an empty list removes the profile. LH-6: not a VM-model change."""
    if hooks:
        record["model"]["properties"]["lifecycleHooksProfile"] = {"lifecycleHooks": hooks}
    else:
        record["model"]["properties"].pop("lifecycleHooksProfile", None)


# -- the events (LH-7...LH-14) ---------------------------------------------------------------------


def events_of(record: Record) -> list[HookEvent]:
    """The scale set's events, oldest first; the list is the record's own, so changes to it are kept."""
    return cast(list[HookEvent], cast(dict[str, Any], record).setdefault("lifecycle_hook_events", []))


def event_name(record: Record, number: int) -> str:
    """LH-8: a GUID, generated from the scale set's seed and id so the same run gives the same names."""
    digest = hashlib.sha256(f"{record['simulation']['seed']}:{record['model']['id'].lower()}:{number}".encode())
    return str(uuid.UUID(bytes=digest.digest()[:16], version=4))


def new_event(record: Record, hook: Hook, now: int, targets: list[tuple[str, str | None]]) -> HookEvent:
    """An Active event of ``hook`` created ``now`` (LH-12: waitUntil and maxWaitUntil from the hook's type)."""
    events = events_of(record)
    event: HookEvent = {
        "name": event_name(record, len(events) + 1),
        "type": hook["type"],
        "created": now,
        "wait_until": now + parse_duration(hook["waitDuration"], "waitDuration"),
        "max_wait_until": now + MAX_WAIT[hook["type"]],
        "default_action": hook["defaultAction"],
        "state": "Active",
        "targets": [{"id": rid, "instance_id": iid, "state": "Waiting"} for rid, iid in targets],
    }
    events.append(event)
    return event


def vm_resource_id(record: Record, instance_id: str) -> str:
    """LH-14: a VM as a target: the scale set's VM on Uniform, the VM resource named by its name on Flexible."""
    return orchestration.vm_resource_id(record, instance_id)


def event_id(record: Record, event: HookEvent) -> str:
    return f"{record['model']['id']}/lifecycleHookEvents/{event['name']}"


def event_view(record: Record, event: HookEvent) -> dict[str, Any]:
    """Azure's event resource (LH-8), with the proxy-resource ``type`` the example omits."""
    return {
        "name": event["name"],
        "id": event_id(record, event),
        "type": EVENT_TYPE,
        "properties": {
            "type": event["type"],
            "waitUntil": format_timestamp(event["wait_until"]),
            "maxWaitUntil": format_timestamp(event["max_wait_until"]),
            "timeCreated": format_timestamp(event["created"]),
            "defaultAction": event["default_action"],
            "targetResources": [{"resource": {"id": t["id"]}, "actionState": t["state"]} for t in event["targets"]],
            "state": event["state"],
        },
    }


def find_event(record: Record, name: str) -> HookEvent | None:
    return next((e for e in events_of(record) if e["name"].lower() == name.lower()), None)
