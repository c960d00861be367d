# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Automatic instance repairs on the virtual clock (azure-behaviour-2 §8, D12).

One ``repairs`` event per scale set (subject ``<key>/repairs``, so deleting the scale set removes it) wakes the
engine when a repair ends or a grace period runs out. ``tick`` is also called after anything that may change an
instance's health: a scale-set write and every step of a run. Each tick:

1. ends the repairs that are due: Replace (a new instance id, the current model, AR-6), Reimage (a new OS disk of
   the same image version), Restart; the instance is healthy again unless a ``repair_failure`` fault picks it;
2. starts repairs of instances that are Unhealthy or Unknown (AR-3), past their grace period (AR-5), running and
   successfully provisioned (AR-2), not protected (AR-4) and not in a rolling upgrade's current batch or health
   wait (AR-12), at most ``max(1, floor(5% of N))`` at a time (AR-3), while the service is Running (AR-8);
3. suspends the service after three repairs in a row of one slot that ended unhealthy (AR-10);
4. puts its one event at the next time anything is due.

SIMULATOR CHOICE (durations): Replace and Reimage take ``reimage_duration`` plus ``boot_duration``; Restart takes
``boot_duration``.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Event
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue
from ansible_collections.azsim.vmss.plugins.module_utils._model import repairs as policy
from ansible_collections.azsim.vmss.plugins.module_utils._model.extension_versions import install
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import (
    expired_credentials,
    extensions_of,
    provision,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import Fleet, fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.instances import (
    fresh_data_disks,
    new_os_disk,
    os_disk_name,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record, RepairAction
from ansible_collections.azsim.vmss.plugins.module_utils._model.repair_services import policy_of, service_state
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import is_active
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

EVENT_KIND = "repairs"


def subject(key: str) -> str:
    return f"{key}/repairs"


def on_repairs(store: Store, event: Event) -> list[dict[str, Any]]:
    return tick(store, event.payload["scale_set"])


def tick(store: Store, key: str, act: bool = True, record: Record | None = None) -> list[dict[str, Any]]:
    """End due repairs, start eligible ones, schedule the next wake-up; reports for sim_clock.

    ``act=False`` (after a scale-set write) only notes grace periods and puts the wake-up event at the time
    something is due, now included, so that the repairs themselves happen, and are reported, as the clock moves.
    ``record``: the scale set's record, given by a caller that found it with a repairs policy (a run's step).
    """
    fleet = fleet_of(store)
    if record is None:
        record = fleet.record(key)
        if record is None or policy_of(record) is None:
            return []
    ctx = _Tick(store, fleet, key, record)
    ctx.note_new()
    if act:
        ctx.finish_due()
        ctx.start_eligible()
    ctx.schedule()
    if ctx.changed:
        fleet.touch(key)
    return ctx.reports


class _Tick:
    def __init__(self, store: Store, fleet: Fleet, key: str, record: Record) -> None:
        self.store, self.fleet, self.key, self.record = store, fleet, key, record
        self.now = store.now()
        self.state = policy.state_of(record)
        self.reports: list[dict[str, Any]] = []
        self.changed = False

    def report(self, kind: str, **details: Any) -> None:
        self.reports.append({"type": kind, "subject": self.record["model"]["id"], **details})

    # -- 1. repairs that end now ---------------------------------------------------------------------

    def finish_due(self) -> None:
        due = sorted(
            (r["until"], int(iid), iid) for iid, r in self.state["repairing"].items() if r["until"] <= self.now
        )
        for _until, _order, iid in due:
            repair = self.state["repairing"].pop(iid)
            self.changed = True
            instance = self.fleet.by_id(self.key).get(iid)
            if instance is None or iid in self.busy():
                continue  # scaled in meanwhile, or a rolling upgrade took the instance into its batch
            self.finish(instance, repair["action"])

    def finish(self, instance: Instance, action: RepairAction) -> None:
        old_id = instance["instance_id"]
        fails = policy.repair_fails(self.record, self.fleet.instances(self.key), instance)
        self.fleet.changed(self.key, instance)
        if action == "Replace":
            self.replace(instance)
        elif action == "Reimage":
            self.reimage(instance)
        instance["provisioning_state"] = "Succeeded"
        instance["health"] = "Unhealthy" if fails else "Healthy"
        self.state["grace_until"].pop(old_id, None)
        # AR-5: the grace period also applies to an instance a repair created or changed.
        policy.note_state_change(self.record, instance["instance_id"], self.now)
        name = instance["name"]
        if fails:
            self.state["failures"][name] = self.state["failures"].get(name, 0) + 1
        else:
            self.state["failures"].pop(name, None)
        self.report(
            "RepairCompleted",
            instance=name,
            instance_id=instance["instance_id"],
            previous_instance_id=old_id if old_id != instance["instance_id"] else None,
            action=action,
            result="unhealthy" if fails else "healthy",
        )
        if fails and self.state["failures"][name] >= policy.SUSPEND_AFTER and not self.state["suspended"]:
            # AR-10: the platform suspends repairs when replacements keep ending unhealthy.
            self.state["suspended"] = True
            self.report("RepairsSuspended", instance=name, failures=self.state["failures"][name])

    def replace(self, instance: Instance) -> None:
        """AR-6 Replace: a new VM (new instance id, the host name kept as its slot, D10) from the current model."""
        record = self.record
        new_id = record["next_instance_id"]
        record["next_instance_id"] = new_id + 1
        record["instance_ids"][instance["name"]] = new_id
        model = record["model"]
        reference = model["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
        instance["disk_generation"] = 1
        instance["os_disk"] = {
            "name": os_disk_name(record, new_id, 1),
            "image_version": catalogue.resolve(self.store, reference, model["location"]),
        }
        instance["previous_os_disk"] = None
        instance["data_disks"] = fresh_data_disks(record, instance["data_disks"], new_id)  # AR-6: none kept
        instance["model_version"] = record["model_version"]
        old_id = instance["instance_id"]
        instance["instance_id"] = str(new_id)
        self.rerun_extensions(instance)
        self.fleet.reindex(self.key, instance, old_id)

    def reimage(self, instance: Instance) -> None:
        """AR-6 Reimage: a new OS disk of the image version the instance has (SIMULATOR CHOICE), same id."""
        new_os_disk(self.record, instance, instance["os_disk"]["image_version"])
        self.rerun_extensions(instance)

    def rerun_extensions(self, instance: Instance) -> None:
        instance["extensions"] = provision(
            extensions_of(self.record["model"]), expired_credentials(self.record, self.now)
        )
        install(self.record, instance)

    # -- 2. repairs that start now -------------------------------------------------------------------

    def busy(self) -> set[str]:
        """AR-12: instances of a rolling upgrade's current batch, or in its health wait or restore."""
        run = self.fleet.latest_run(self.key)
        return set(run["flight"]) if run is not None and is_active(run) else set()

    def waiting(self) -> list[Instance]:
        """Instances that would be repaired once their grace period ends (AR-2, AR-3, AR-4)."""
        busy = self.busy()
        return [
            i
            for i in self.fleet.instances(self.key)
            if i["health"] in policy.TRIGGERING
            and i["power_state"] == "running"
            and i["provisioning_state"] == "Succeeded"
            and i["instance_id"] not in self.state["repairing"]
            and i["instance_id"] not in busy
            and not policy.protected(i)
        ]

    def note_new(self) -> None:
        for instance in self.fleet.instances(self.key):
            if instance["instance_id"] not in self.state["grace_until"]:
                # First seen (created, or the policy just set): the grace period starts now (AR-5).
                policy.note_state_change(self.record, instance["instance_id"], self.now)
                self.changed = True

    def room(self) -> int:
        """AR-3: how many more repairs may start now."""
        return policy.cap(len(self.fleet.instances(self.key))) - len(self.state["repairing"])

    def start_eligible(self) -> None:
        if service_state(self.record) != "Running":
            return
        room = self.room()
        action = policy.repair_action(self.record)
        for instance in self.waiting():
            if room <= 0:
                break
            if self.state["grace_until"][instance["instance_id"]] > self.now:
                continue
            self.start(instance, action)
            room -= 1

    def start(self, instance: Instance, action: RepairAction) -> None:
        sim = self.record["simulation"]
        boot = parse_duration(sim["boot_duration"], "simulation.boot_duration")
        duration = boot if action == "Restart" else parse_duration(sim["reimage_duration"], "reimage_duration") + boot
        self.state["repairing"][instance["instance_id"]] = {
            "action": action,
            "started": self.now,
            "until": self.now + duration,
        }
        instance["provisioning_state"] = "Updating"
        self.fleet.changed(self.key, instance)
        self.changed = True
        self.report("RepairStarted", instance=instance["name"], instance_id=instance["instance_id"], action=action)

    # -- 3. the next wake-up -----------------------------------------------------------------------------

    def schedule(self) -> None:
        times = [r["until"] for r in self.state["repairing"].values()]
        if service_state(self.record) == "Running":
            grace = self.state["grace_until"]
            # An instance eligible now counts only while there is room; otherwise the end of a repair wakes it.
            room = self.room() > 0
            times += [
                max(grace[i["instance_id"]], self.now)
                for i in self.waiting()
                if room or grace[i["instance_id"]] > self.now
            ]
        wanted = min(times) if times else None
        where = subject(self.key)
        pending = self.store.pending_events(where, EVENT_KIND)
        if len(pending) == 1 and pending[0]["due"] == wanted:
            return  # unchanged: nothing written
        self.store.cancel_events(where, EVENT_KIND)
        if wanted is not None:
            self.store.schedule(wanted, EVENT_KIND, where, {"scale_set": self.key})
