# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions on lifecycle-hook events (azure-behaviour-2 LH-7...LH-14, LH-20): list, read, approve, reject, delay.

``update_event`` is Azure's PATCH of one event; ``lifecycle_hook_event`` is the module's idempotent
form on top of it (by event name or by type, ``state`` or ``wait_until``); ``lifecycle_hook_events``
lists them. A decided event resumes what it held at once (the clock runs up to now).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome, address
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._engine import hook_gate
from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.lifecycle_hooks import (
    DEFAULT_WAIT,
    ActionState,
    HookEvent,
    event_view,
    events_of,
    find_event,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import external_id, id_map
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import record_key

Decision = Literal["approved", "rejected"]
EventStateFilter = Literal["Active", "Completed", "Abandoned"]
_STATES: dict[str, ActionState] = {"approved": "Approved", "rejected": "Rejected"}


class HookEventsResult(Outcome, total=False):
    events: list[dict[str, Any]]
    now: str


def _record(call: Call, resource_group: str, name: str) -> tuple[str, Record]:
    key, _stored = address(call, resource_group, name)
    record = fleet_of(call.store).record(key)
    if record is None:
        raise AssertionError(f"scale set {key} vanished")
    return key, record


def _not_found(record: Record, event_name: str) -> NotFound:
    return NotFound(
        f"event: scale set {record['model']['name']} has no lifecycle hook event {event_name!r}",
        code="NotFound",
        azure_message=f"The lifecycle hook event '{event_name}' was not found.",
    )


def _newest_first(events: list[HookEvent]) -> list[HookEvent]:
    return sorted(events, key=lambda e: e["created"], reverse=True)


# -- reads -----------------------------------------------------------------------------------------


def lifecycle_hook_events(
    call: Call, resource_group: str, name: str, *, state: EventStateFilter | None = None
) -> HookEventsResult:
    """The scale set's events, Azure's shape, newest first (LH-7 list); ``state`` filters."""
    _key, record = _record(call, resource_group, name)
    events = [e for e in _newest_first(events_of(record)) if state is None or e["state"] == state]
    return {
        "changed": False,
        "events": [event_view(record, e) for e in events],
        "now": format_timestamp(call.store.now()),
    }


def lifecycle_hook_event_get(call: Call, resource_group: str, name: str, event_name: str) -> dict[str, Any]:
    """One event (LH-7 get); 404 ``NotFound`` if unknown (LH-20)."""
    _key, record = _record(call, resource_group, name)
    event = find_event(record, event_name)
    if event is None:
        raise _not_found(record, event_name)
    return event_view(record, event)


# -- Azure's PATCH ---------------------------------------------------------------------------------


def update_event(
    call: Call,
    resource_group: str,
    name: str,
    event_name: str,
    *,
    targets: dict[str, str] | None = None,
    wait_until: str | None = None,
) -> dict[str, Any]:
    """Azure's PATCH of an event (LH-10...LH-12, LH-20): ``targets`` maps resource ids to an actionState,
    ``wait_until`` delays the default action. Every refusal before anything changes."""
    key, record = _record(call, resource_group, name)
    event = find_event(record, event_name)
    if event is None:
        raise _not_found(record, event_name)
    if event["state"] != "Active":
        raise Conflict(
            f"event: lifecycle hook event {event['name']} is {event['state']}; only an Active event can change",
            code="Conflict",
            status=409,
        )
    states = _checked_targets(event, targets or {})
    when = _checked_wait_until(call, event, wait_until) if wait_until is not None else None
    _apply(call, key, record, event, states, when)
    return event_view(record, event)


def _checked_targets(event: HookEvent, targets: dict[str, str]) -> dict[str, ActionState]:
    """LH-10, LH-11: Approved or Rejected only, for targets of the event that are still Waiting."""
    current = {t["id"].lower(): t for t in event["targets"]}
    states: dict[str, ActionState] = {}
    for resource_id, wanted in targets.items():
        where = f"properties.targetResources[{resource_id}]"
        if wanted not in ("Approved", "Rejected"):
            raise InvalidInput(f"{where}.actionState: {wanted!r} is not allowed; a caller sets Approved or Rejected")
        target = current.get(resource_id.lower())
        if target is None:
            raise InvalidInput(f"{where}: {resource_id} is not a target resource of event {event['name']}")
        if target["state"] == wanted:
            continue
        if target["state"] != "Waiting":
            raise Conflict(
                f"{where}: the target is already {target['state']}, a terminal state",
                code="Conflict",
                status=409,
            )
        states[resource_id.lower()] = "Approved" if wanted == "Approved" else "Rejected"
    return states


def _checked_wait_until(call: Call, event: HookEvent, value: str) -> int:
    """LH-12: later than now and not beyond maxWaitUntil."""
    when = parse_timestamp(value, "wait_until")
    if when <= call.store.now() or when > event["max_wait_until"]:
        raise InvalidInput(
            f"wait_until: {value} must be later than now ({format_timestamp(call.store.now())}) and not later than "
            f"the event's maxWaitUntil ({format_timestamp(event['max_wait_until'])})"
        )
    return when


def _apply(
    call: Call, key: str, record: Record, event: HookEvent, states: dict[str, ActionState], when: int | None
) -> None:
    store = call.store
    if when is not None and when != event["wait_until"]:
        hook_gate.delay(store, key, event, when)
    if states and hook_gate.decide(store, key, record, event, states):
        advance(store, store.now())  # what the event held goes on now: a run or a batch starts


# -- the module ------------------------------------------------------------------------------------


def lifecycle_hook_event(
    call: Call,
    resource_group: str,
    name: str,
    *,
    event: str | None = None,
    hook_type: str | None = None,
    state: Decision | None = None,
    instance_ids: list[str] | None = None,
    wait_until: str | None = None,
) -> HookEventsResult:
    """Approve, reject or delay one event (``event``) or every Active event of a ``type``; changed only when
    a target or a waitUntil actually changes."""
    if (event is None) == (hook_type is None):
        raise InvalidInput("event, type: give exactly one of them (an event's name, or a hook type)")
    if (state is None) == (wait_until is None):
        raise InvalidInput("state, wait_until: give exactly one (decide the targets, or delay the event)")
    if hook_type is not None and hook_type not in DEFAULT_WAIT:
        raise InvalidInput(f"type: {hook_type!r} is not a hook type; use {' or '.join(DEFAULT_WAIT)}")
    key, record = _record(call, resource_group, name)
    if event is not None:
        found = find_event(record, event)
        if found is None:
            raise _not_found(record, event)
        chosen = [found]
    else:
        chosen = [e for e in _newest_first(events_of(record)) if e["type"] == hook_type and e["state"] == "Active"]
    before = [event_view(record, e) for e in chosen]
    plans = _plan(call, record, chosen, state, instance_ids, wait_until)
    for hook_event, states, when in plans:
        _apply(call, key, record, hook_event, states, when)
    after = [event_view(record, e) for e in chosen]
    return {"before": before, "after": after, "events": after, "now": format_timestamp(call.store.now())}


def _plan(
    call: Call,
    record: Record,
    chosen: list[HookEvent],
    state: Decision | None,
    instance_ids: list[str] | None,
    wait_until: str | None,
) -> list[tuple[HookEvent, dict[str, ActionState], int | None]]:
    """Every change to make, checked before any is made (a refusal writes nothing)."""
    wanted_ids = _instance_ids(record, fleet_of(call.store).instances(record_key(record)), instance_ids)
    plans: list[tuple[HookEvent, dict[str, ActionState], int | None]] = []
    matched: set[str] = set()
    for hook_event in chosen:
        if wait_until is not None:
            if hook_event["state"] != "Active":
                _refuse_closed(hook_event)
            plans.append((hook_event, {}, _checked_wait_until(call, hook_event, wait_until)))
            continue
        targets = [t for t in hook_event["targets"] if wanted_ids is None or t["instance_id"] in wanted_ids]
        matched |= {t["instance_id"] or "" for t in targets}
        if wanted_ids is None:
            targets = [t for t in targets if t["state"] == "Waiting"]
        decision = _STATES[state or "approved"]
        if any(t["state"] != decision for t in targets) and hook_event["state"] != "Active":
            _refuse_closed(hook_event)
        plans.append((hook_event, _checked_targets(hook_event, {t["id"]: decision for t in targets}), None))
    missing = sorted((wanted_ids or set()) - matched, key=int) if state is not None else []
    if missing:
        shown = ", ".join(external_id(record, iid) for iid in missing)  # FX-6: VM names on Flexible
        raise InvalidInput(f"instance_ids: {shown} are not targets of the lifecycle hook event(s) chosen")
    return plans


def _refuse_closed(event: HookEvent) -> None:
    raise Conflict(
        f"event: lifecycle hook event {event['name']} is {event['state']}; only an Active event can change",
        code="Conflict",
        status=409,
    )


def _instance_ids(record: Record, instances: list[Instance], wanted: list[str] | None) -> set[str] | None:
    """Instance ids from ids or host names (PS: decimal ids for Uniform)."""
    if wanted is None:
        return None
    by_name = {i["name"]: i["instance_id"] for i in instances}
    # azure-behaviour-2 FX-6: the instance id on Uniform, the VM name on Flexible (both: the id callers see).
    known = id_map(record, instances)
    ids = set()
    for index, value in enumerate(wanted):
        iid = known.get(str(value)) or by_name.get(str(value))
        if iid is None:
            raise InvalidInput(f"instance_ids[{index}]: {value!r} is neither an instance id nor a host name")
        ids.add(iid)
    return ids
