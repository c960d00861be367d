# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform: automatic OS upgrades start by themselves as the virtual clock moves (azure-behaviour §4).

When automatic OS upgrade is enabled and a newer image version becomes latest for the scale set's
location (gallery: replicated there, not excluded), the platform starts a run (startedBy Platform):
the first one ``first_rollout_delay`` after enablement or after the image appeared, whichever is later;
later ones ``rollout_delay`` after the newer image appeared. A version the platform already tried
(however that run ended) is not tried again; a newer one is. One ``platform_rollout`` event per scale
set holds the next start; everything that could change it calls ``reschedule``.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Event
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import gallery_opt_in_complete
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import automatic_os_upgrade_enabled
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import every_key, record_key
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

EVENT_KIND = "platform_rollout"


def _due(store: Store, record: Record) -> tuple[int, str] | None:
    """When the platform should start its next run, and towards which version; None if it should not."""
    policy = record["model"]["properties"]["upgradePolicy"]
    if not automatic_os_upgrade_enabled(policy):
        return None
    reference = record["model"]["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
    if catalogue.pinned_version(reference) is not None:
        return None  # azure-behaviour §2 rule 1: only a reference that follows latest is upgraded
    # Gallery images upgrade automatically only in subscriptions that completed the opt-in (§2 rule 3).
    if "id" in reference and not gallery_opt_in_complete(store, record["model"]["id"].split("/")[2]):
        return None
    latest = catalogue.latest_available(store, reference, record["model"]["location"])
    if latest is None:
        return None
    version, available = latest
    platform = record.get("platform")
    if platform and platform.get("last_target") == version:
        return None
    key = record_key(record)
    fleet = fleet_of(store)
    # azure-behaviour-2 IP-6: with only protected instances left behind, the scale set counts as up to date.
    if not fleet.any_instance_behind(key, version):
        return None
    if fleet.latest_run_active(key):
        return None  # the end of that run reschedules
    sim = record["simulation"]
    enabled_at = record.get("automatic_os_upgrade_enabled_at") or 0
    last_run = platform.get("last_run_at") if platform else None
    if last_run is None or last_run < enabled_at:
        due = max(enabled_at, available) + parse_duration(sim["first_rollout_delay"], "simulation.first_rollout_delay")
    else:
        due = available + parse_duration(sim["rollout_delay"], "simulation.rollout_delay")
    return max(due, store.now()), version


def reschedule(store: Store, record: Record) -> None:
    """Recompute the scale set's next platform-started run after anything that may change it."""
    key = record_key(record)
    store.cancel_events(key, EVENT_KIND)
    due = _due(store, record)
    if due is not None:
        store.schedule(due[0], EVENT_KIND, key, {"version": due[1]})


def reschedule_all(store: Store) -> None:
    """After the catalogue changed: every scale set with automatic OS upgrade may have a new latest."""
    fleet = fleet_of(store)
    for key in every_key(store):  # each record decoded once, into the call's fleet that the runs use next
        record = fleet.record(key)
        if record is not None and automatic_os_upgrade_enabled(record["model"]["properties"]["upgradePolicy"]):
            reschedule(store, record)


def on_platform_rollout(store: Store, event: Event) -> list[dict[str, Any]]:
    # Imported only when a run starts: a call that just reschedules (vmss, vmss_upgrade_policy) need not compile
    # the run engine, which a module does from source on each call (AnsiballZ zip).
    from ansible_collections.azsim.vmss.plugins.module_utils._engine import hook_gate, run_start  # pylint: disable=import-outside-toplevel

    fleet = fleet_of(store)
    record = fleet.record(event.subject)
    if record is None:
        return []
    due = _due(store, record)
    if due is None or due[0] > store.now():
        if due is not None:
            store.schedule(due[0], EVENT_KIND, event.subject, {"version": due[1]})
        return []
    held = hook_gate.raise_scheduling(store, event.subject, record, due[1])
    if held is not None:  # azure-behaviour-2 LH-15: the run waits for the Scheduling event
        record["platform"] = {"last_target": due[1], "last_run_at": store.now()}
        fleet.touch(event.subject)
        return held
    run = run_start.start_run(store, event.subject, "os", "Platform")
    record["platform"] = {"last_target": due[1], "last_run_at": store.now()}
    fleet.touch(event.subject)
    if run is None:
        return []
    return [
        {
            "type": "RollingUpgradeStarted",
            "subject": record["model"]["id"],
            "run_id": run["run_id"],
            "started_by": "Platform",
            "target_version": run["target_version"],
            "scheduled": format_timestamp(event.due),
        }
    ]
