# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""User reimages on the virtual clock: ``reimage``/``reimageall`` of a scale set, and of one VM.

A reimage is two events of one scale set (subject ``<key>/reimage``, so deleting the scale set removes them),
on the timeline of design.md's simulation rules:

    start ── R ── reimaged ── B ── booted          (R = reimage_duration, B = boot_duration)

At the start the instances are ``Updating`` and their health ``Unknown``. At ``reimaged`` each gets a new OS
disk of the image version it has (SIMULATOR CHOICE, as the Reimage repair of azure-behaviour-2 AR-6: no
``exactVersion``, so the instance's version is kept, not the model's ``latest``), its extensions run again and
it is ``Succeeded`` (or ``Failed`` when one did not provision), which ends the request's operation; at
``booted`` its health is recomputed (design.md "Health after reimage"). Data disks are not modelled, so
``reimageall`` (OS and data disks) is the same timeline.

Who may be reimaged (protection, a rolling upgrade's batch) is the action's business (_actions/reimage.py).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine import repairs
from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Event
from ansible_collections.azsim.vmss.plugins.module_utils._model import repairs as repair_policy
from ansible_collections.azsim.vmss.plugins.module_utils._model.extension_versions import install
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import (
    expired_credentials,
    extensions_of,
    provision,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import initial_health
from ansible_collections.azsim.vmss.plugins.module_utils._model.instances import new_os_disk
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import is_active
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

EVENT_KIND = "reimage"


def subject(key: str) -> str:
    return f"{key}/reimage"


def start_reimage(store: Store, key: str, instance_ids: list[str]) -> tuple[int, int]:
    """Start reimaging ``instance_ids`` now; returns when their reimage ends and when they have booted."""
    fleet = fleet_of(store)
    record = fleet.record(key)
    if record is None:
        raise AssertionError(f"scale set {key} vanished before its reimage")
    sim = record["simulation"]
    now = store.now()
    reimaged = now + parse_duration(sim["reimage_duration"], "simulation.reimage_duration")
    booted = reimaged + parse_duration(sim["boot_duration"], "simulation.boot_duration")
    by_id = fleet.by_id(key)
    for iid in instance_ids:
        by_id[iid]["provisioning_state"] = "Updating"
        by_id[iid]["health"] = "Unknown"
        fleet.changed(key, by_id[iid])
    fleet.touch(key)
    payload = {"scale_set": key, "instance_ids": list(instance_ids), "step": "reimaged", "booted": booted}
    store.schedule(reimaged, EVENT_KIND, subject(key), payload)
    return reimaged, booted


def on_reimage(store: Store, event: Event) -> list[dict[str, Any]]:
    key = event.payload["scale_set"]
    fleet = fleet_of(store)
    record = fleet.record(key)
    if record is None:
        return []
    by_id = fleet.by_id(key)
    run = fleet.latest_run(key)
    taken = set(run["flight"]) if run is not None and is_active(run) else set()
    # An instance scaled in meanwhile is gone; one a rolling upgrade's batch took since is the run's (CF-4).
    present = [by_id[i] for i in event.payload["instance_ids"] if i in by_id and i not in taken]
    reports: list[dict[str, Any]] = []
    for instance in present:
        fleet.changed(key, instance)
    if event.payload["step"] == "reimaged":
        now = store.now()
        for instance in present:
            new_os_disk(record, instance, instance["os_disk"]["image_version"])
            instance["extensions"] = provision(extensions_of(record["model"]), expired_credentials(record, now))
            failed = [e["name"] for e in instance["extensions"] if e["provisioning_state"] != "Succeeded"]
            install(record, instance, {e["name"] for e in instance["extensions"]} - set(failed))
            instance["provisioning_state"] = "Failed" if failed else "Succeeded"
            # azure-behaviour-2 AR-5: a reimaged instance gets a fresh grace period before any repair.
            repair_policy.note_state_change(record, instance["instance_id"], now)
            reports.append(
                {"type": "InstanceReimaged", "subject": record["model"]["id"], "instance": instance["name"],
                 "instance_id": instance["instance_id"], "image_version": instance["os_disk"]["image_version"]}
            )  # fmt: skip
        store.schedule(event.payload["booted"], EVENT_KIND, subject(key), {**event.payload, "step": "booted"})
    else:
        for instance in present:
            instance["health"] = initial_health(record, instance["power_state"], instance["extensions"])
    fleet.touch(key)
    # azure-behaviour-2 §8: a changed health starts a grace period, or a repair once it ran out.
    return reports + repairs.tick(store, key)


def reimaging(store: Store, key: str) -> set[str]:
    """The instances a user reimage has not finished with (their disk is not new yet)."""
    return {
        iid
        for event in store.pending_events(subject(key), EVENT_KIND)
        if event["payload"]["step"] == "reimaged"
        for iid in event["payload"]["instance_ids"]
    }
