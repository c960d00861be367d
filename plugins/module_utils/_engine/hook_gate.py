# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lifecycle-hook events as gates of platform-started OS runs (azure-behaviour-2 LH-13, LH-15, LH-16).

A Scheduling event holds back the start of a run; a BatchStarting event holds back one batch. Each
Active event has one ``lifecycle_hook_default`` event in the store's queue at its ``waitUntil``
(subject ``<scale set key>/lifecyclehookevents/<name>``, so deleting the scale set removes it), where
the hook's default action decides every target still Waiting. A decided event resumes what it held:
the run starts (Scheduling, approved) or its ``hook_decided`` agenda action wakes the run (BatchStarting),
which the orchestrator turns into the batch.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._engine import run_start
from ansible_collections.azsim.vmss.plugins.module_utils._engine.agenda import push, wake
from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Event
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.lifecycle_hooks import (
    BATCH_STARTING,
    SCHEDULING,
    TERMINAL,
    ActionState,
    HookEvent,
    event_id,
    events_of,
    hook_of,
    new_event,
    vm_resource_id,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import automatic_os_upgrade_enabled
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import ACTIVE, Run
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

EVENT_KIND = "lifecycle_hook_default"
_DEFAULTED: dict[str, ActionState] = {"Approve": "Approved", "Reject": "Rejected"}


def timer_subject(key: str, name: str) -> str:
    return f"{key}/lifecyclehookevents/{name.lower()}"


def _report(kind: str, record: Record, event: HookEvent, **details: Any) -> dict[str, Any]:
    """A sim_clock ``events`` entry (design.md round 2) about one lifecycle-hook event."""
    return {
        "type": kind,
        "subject": event_id(record, event),
        "hook_type": event["type"],
        "state": event["state"],
        "targets": {t["id"].rsplit("/", 1)[-1]: t["state"] for t in event["targets"]},
        **details,
    }


def _open(store: Store, key: str, record: Record, event: HookEvent) -> dict[str, Any]:
    store.schedule(event["wait_until"], EVENT_KIND, timer_subject(key, event["name"]), {"scale_set": key})
    fleet_of(store).touch(key)
    return _report("LifecycleHookEventCreated", record, event, wait_until=format_timestamp(event["wait_until"]))


# -- raising events --------------------------------------------------------------------------------


def raise_scheduling(store: Store, key: str, record: Record, version: str) -> list[dict[str, Any]] | None:
    """LH-15: the platform would start a run towards ``version``; with a Scheduling hook it raises an event
    instead (targeting the scale set, LH-14, D4) and the run waits for it. None when there is no such hook."""
    hook = hook_of(record, SCHEDULING)
    if hook is None:
        return None
    reports = []
    for stale in events_of(record):
        if stale["type"] == SCHEDULING and stale["state"] == "Active":
            reports.append(abandon(store, key, record, stale))  # LH-9: superseded by the newer image's event
    event = new_event(record, hook, store.now(), [(record["model"]["id"], None)])
    event["version"] = version
    reports.append(_open(store, key, record, event))
    return reports


def raise_batch(store: Store, key: str, record: Record, run: Run, batch: list[str]) -> list[dict[str, Any]] | None:
    """LH-16: with a BatchStarting hook, the batch a platform OS run chose waits for an event targeting its VMs
    (LH-3: only platform-started automatic OS runs raise events). None when the batch need not wait."""
    if run["kind"] != "os" or run["started_by"] != "Platform":
        return None
    hook = hook_of(record, BATCH_STARTING)
    if hook is None:
        return None
    event = new_event(record, hook, store.now(), [(vm_resource_id(record, iid), iid) for iid in batch])
    event["run_id"] = run["run_id"]
    event["batch"] = len(run["batches"]) + 1
    return [_open(store, key, record, event)]


# -- deciding --------------------------------------------------------------------------------------


def decide(store: Store, key: str, record: Record, event: HookEvent, states: dict[str, ActionState]) -> list[str]:
    """Set targets (by resource id) to Approved or Rejected; returns the ids changed. An event whose every target
    is terminal completes (LH-13) and what it held goes on."""
    changed = []
    for target in event["targets"]:
        wanted = states.get(target["id"].lower())
        if wanted is not None and target["state"] == "Waiting":
            target["state"] = wanted
            changed.append(target["id"])
    if changed:
        fleet_of(store).touch(key)
        if all(t["state"] in TERMINAL for t in event["targets"]):
            _complete(store, key, record, event)
    return changed


def delay(store: Store, key: str, event: HookEvent, wait_until: int) -> None:
    """LH-12: a later ``waitUntil`` moves the default action's time."""
    event["wait_until"] = wait_until
    store.cancel_events(timer_subject(key, event["name"]), EVENT_KIND)
    store.schedule(wait_until, EVENT_KIND, timer_subject(key, event["name"]), {"scale_set": key})
    fleet_of(store).touch(key)


def _complete(store: Store, key: str, record: Record, event: HookEvent) -> list[dict[str, Any]]:
    event["state"] = "Completed"
    event["closed"] = store.now()
    store.cancel_events(timer_subject(key, event["name"]), EVENT_KIND)
    reports = [_report("LifecycleHookEventCompleted", record, event)]
    if event["type"] == SCHEDULING:
        reports += _after_scheduling(store, key, record, event)
    else:
        _after_batch_event(store, key, event)
    return reports


def _after_scheduling(store: Store, key: str, record: Record, event: HookEvent) -> list[dict[str, Any]]:
    """LH-15: approved, the run starts now (startedBy Platform); rejected, no run for that image version."""
    if event["targets"][0]["state"] != "Approved":
        return []
    fleet = fleet_of(store)
    latest = fleet.latest_run(key)
    if latest is not None and latest["status"] in ACTIVE:
        return []  # a user run took the scale set's one slot meanwhile
    if not automatic_os_upgrade_enabled(record["model"]["properties"]["upgradePolicy"]):
        return []
    run = run_start.start_run(store, key, "os", "Platform")
    record["platform"] = {"last_target": event.get("version", ""), "last_run_at": store.now()}
    fleet.touch(key)
    if run is None:
        return []
    return [
        {
            "type": "RollingUpgradeStarted",
            "subject": record["model"]["id"],
            "run_id": run["run_id"],
            "started_by": "Platform",
            "target_version": run["target_version"],
            "scheduled": format_timestamp(store.now()),
        }
    ]


def _after_batch_event(store: Store, key: str, event: HookEvent) -> None:
    """D2: the held batch starts once every target is decided; the run does it at its next step."""
    fleet = fleet_of(store)
    run = fleet.run(key, event.get("run_id", 0))
    if run is None or run["status"] not in ACTIVE:
        return
    push(run, store.now(), "hook_decided", [event["name"]])
    fleet.touch_run(key, run["run_id"])
    wake(store, key, run)


def abandon(store: Store, key: str, record: Record, event: HookEvent) -> dict[str, Any]:
    """LH-9, LH-10, LH-16.5: the platform drops the event; its Waiting targets are Abandoned."""
    event["state"] = "Abandoned"
    event["closed"] = store.now()
    for target in event["targets"]:
        if target["state"] == "Waiting":
            target["state"] = "Abandoned"
    store.cancel_events(timer_subject(key, event["name"]), EVENT_KIND)
    fleet_of(store).touch(key)
    return _report("LifecycleHookEventAbandoned", record, event)


def abandon_for_run(store: Store, key: str, record: Record, run_id: int) -> list[dict[str, Any]]:
    """A run that ends (cancelled, faulted) abandons the batch event it was waiting for (LH-16.5)."""
    return [
        abandon(store, key, record, e)
        for e in events_of(record)
        if e["state"] == "Active" and e.get("run_id") == run_id
    ]


def on_default(store: Store, event: Event) -> list[dict[str, Any]]:
    """LH-13: at ``waitUntil`` every target still Waiting gets the hook's default action; the event completes."""
    key = event.payload["scale_set"]
    record = fleet_of(store).record(key)
    if record is None:
        return []
    name = event.subject.rsplit("/", 1)[-1]
    hook_event = next((e for e in events_of(record) if e["name"].lower() == name and e["state"] == "Active"), None)
    if hook_event is None:
        return []
    state = _DEFAULTED[hook_event["default_action"]]
    defaulted = [t["id"].rsplit("/", 1)[-1] for t in hook_event["targets"] if t["state"] == "Waiting"]
    for target in hook_event["targets"]:
        if target["state"] == "Waiting":
            target["state"] = state
    fleet_of(store).touch(key)
    reports = [_report("LifecycleHookEventDefaulted", record, hook_event, default_action=state, defaulted=defaulted)]
    return reports + _complete(store, key, record, hook_event)
