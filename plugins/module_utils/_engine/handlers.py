# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every kind of event the virtual clock can run, and the function that runs it.

One explicit table rather than registration on import, so that what moves when the clock moves can
be read in one place.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._engine import (
    agenda,
    extension_platform,
    hook_gate,
    orchestrator,
    platform,
    repairs,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Event, Handler
from ansible_collections.azsim.vmss.plugins.module_utils._model import features
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.repair_services import policy_of
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store


def on_run_step(store: Store, event: Event) -> list[dict[str, Any]]:
    """A run's agenda fell due: step it, and once it ended let the platform plan its next run."""
    payload = event.payload
    key, run_id = payload["scale_set"], payload["run_id"]
    reports = orchestrator.step(store, key, run_id)  # the tests observe every step through it
    fleet = fleet_of(store)
    record = fleet.record(key)
    if record is None:  # the scale set was deleted meanwhile: no repairs to tick (repairs.tick), no next run
        return reports
    if policy_of(record) is not None:  # what repairs.tick asks first; most scale sets have no repairs policy
        # azure-behaviour-2 §8: the step may have changed an instance's health. The record found here is handed
        # over: tick need not look it up nor ask for its policy again.
        reports += repairs.tick(store, key, record=record)
    run = fleet.run(key, run_id)
    if run is not None and not orchestrator.is_active(run):
        platform.reschedule(store, record)  # a newer image may have appeared while the run was going
        extension_platform.reschedule(store, key)  # part 2 EX-5: a platform extension run waited for the slot
    return reports


# Registrations and user reimages are imported when an event of theirs fires, not with the table: a module that
# moves the clock compiles what it imports at every call (issue 14), and a rolling upgrade rarely meets either.
# Their import statements are here, so AnsiballZ still packs them for every module that can move the clock.
def on_feature_state(store: Store, event: Event) -> list[dict[str, Any]]:
    from ansible_collections.azsim.vmss.plugins.module_utils._engine import registrations  # pylint: disable=import-outside-toplevel

    return registrations.on_feature_state(store, event)


def on_provider_state(store: Store, event: Event) -> list[dict[str, Any]]:
    from ansible_collections.azsim.vmss.plugins.module_utils._engine import registrations  # pylint: disable=import-outside-toplevel

    return registrations.on_provider_state(store, event)


# reimages.EVENT_KIND, which the table cannot name without importing reimages (tests/unit/test_module_imports.py
# checks they are equal).
REIMAGE_EVENT = "reimage"


def on_reimage(store: Store, event: Event) -> list[dict[str, Any]]:
    from ansible_collections.azsim.vmss.plugins.module_utils._engine import reimages  # pylint: disable=import-outside-toplevel

    return reimages.on_reimage(store, event)


HANDLERS: dict[str, Handler] = {
    # Automatic OS upgrades the platform starts (azure-behaviour §4) and the runs' own timelines (§3).
    platform.EVENT_KIND: platform.on_platform_rollout,
    agenda.EVENT_KIND: on_run_step,
    # Lifecycle-hook events reach waitUntil: the default action decides them (azure-behaviour-2 LH-13).
    hook_gate.EVENT_KIND: hook_gate.on_default,
    # Extension runs the platform starts (part 2 EX-2).
    extension_platform.EVENT_KIND: extension_platform.on_extension_rollout,
    # Automatic instance repairs (part 2 §8): a repair ends or a grace period runs out.
    repairs.EVENT_KIND: repairs.on_repairs,
    # User reimages of instances: new OS disks, then boot (reimages.py).
    REIMAGE_EVENT: on_reimage,
    # Feature and provider registration (§6): a transition completes when its event falls due.
    features.FEATURE_EVENT: on_feature_state,
    features.PROVIDER_EVENT: on_provider_state,
}
