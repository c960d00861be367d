# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small fleet on a fixed seed gives the same runs, event for event, as the recorded reference.

The engine is rewritten for speed (issue 14: fleet scale) without changing what it simulates. This test
holds that: six scale sets on automatic OS upgrade (two with boot faults, so some instances roll back
and one run stops on its unhealthy limit), a new image, twelve hours of platform rollout stepped an
hour at a time. Everything a user can observe goes into one JSON document (every event ``sim_clock``
reported, every instance's final state, every scale set's history) and must equal
``data/fleet_reference.json``.

When a *rule* changes on purpose (a new Azure behaviour, not a refactor), the reference changes with
it: regenerate it with ``AZSIM_REGENERATE_FLEET_REFERENCE=1`` and say in the commit which rule moved
which events. A speed change must never need that.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.clock import move_clock
from ansible_collections.azsim.vmss.plugins.module_utils._actions.history import upgrade_history
from ansible_collections.azsim.vmss.plugins.module_utils._actions.image import publish_image
from ansible_collections.azsim.vmss.plugins.module_utils._actions.policy import set_upgrade_policy
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set_info import scale_set_info
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import group_keys
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit._call import act

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-fleet"
REFERENCE = Path(__file__).parent / "data" / "fleet_reference.json"
IMAGE = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-LTS"}
PROBE = {"id": None, "protocol": "http", "port": 80, "request_path": "/health", "load_balancer_sku": "Standard"}
# (name, instances, fault probability, rolling policy): sizes and faults chosen so that the fleet has
# clean runs, runs with rollbacks, and a run that stops on maxUnhealthyInstancePercent.
FLEET = (
    ("api", 12, 0.0, None),
    ("web", 10, 0.2, None),
    ("jobs", 7, 0.0, {"max_batch_instance_percent": 50}),
    ("edge", 15, 0.6, {"max_unhealthy_instance_percent": 20, "max_unhealthy_upgraded_instance_percent": 20}),
    ("cache", 3, 0.0, None),
    ("batch", 20, 0.1, {"pause_time_between_batches": "PT5M"}),
)


def _call(store: Store, action: Any, params: dict[str, Any], commit: bool = True) -> dict[str, Any]:
    with store.transaction(commit=commit):
        return act(action, store, SUB, params, False)


def _image(version: str) -> dict[str, Any]:
    return {
        **IMAGE,
        "location": "eastus",
        "gallery_image_id": None,
        "version": version,
        "target_regions": None,
        "exclude_from_latest": None,
        "state": "present",
    }


def _scale_set(name: str, size: int, probability: float) -> dict[str, Any]:
    keys = (
        "location api_version os_type windows_configuration extensions service_fabric single_placement_group"
        " zones update_instances"
    ).split()
    return {
        **dict.fromkeys(keys),
        "resource_group": RG,
        "name": name,
        "state": "present",
        "image": {**IMAGE, "version": "latest", "id": None},
        "health_probe": dict(PROBE),
        "instances": [f"{name}-{i:02d}" for i in range(size)],
        "simulation": {
            "seed": 11,
            "reimage_duration": None,
            "boot_duration": None,
            "first_rollout_delay": None,
            "rollout_delay": None,
            "faults": [{"type": "boot_unhealthy", "probability": probability}] if probability else [],
        },
    }


def _policy(name: str, rolling: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "resource_group": RG,
        "name": name,
        "mode": "Rolling",
        "automatic_os_upgrade": {k: (True if k == "enabled" else None) for k in group_keys("automatic_os_upgrade")},
        "rolling_upgrade_policy": (
            {k: rolling.get(k) for k in group_keys("rolling_upgrade_policy")} if rolling is not None else None
        ),
    }


def observe_fleet(store: Store) -> dict[str, Any]:
    """Build the fleet, publish a new image, step twelve hours; return everything a user could see."""
    _call(store, publish_image, _image("22.04.202501010"))
    for name, size, probability, rolling in FLEET:
        _call(store, ensure_scale_set, _scale_set(name, size, probability))
        _call(store, set_upgrade_policy, _policy(name, rolling))
    # Past the platform's first-rollout delay, so that the new image is what starts the runs.
    events: list[dict[str, Any]] = _call(store, move_clock, {"advance": "PT4H", "to": None})["events"]
    _call(store, publish_image, _image("22.04.202502010"))
    for dummy in range(12):
        events += _call(store, move_clock, {"advance": "PT1H", "to": None})["events"]
    instances = _call(store, scale_set_info, {"resource_group": RG, "name": None}, commit=False)
    history = {
        name: _call(store, upgrade_history, {"resource_group": RG, "name": name, "all": True}, commit=False)
        for name, *dummy in FLEET
    }
    return {"events": events, "scale_sets": instances, "history": history}


def test_fleet_runs_match_the_reference_event_for_event(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "fleet.sqlite"))
    try:
        observed = json.loads(json.dumps(observe_fleet(store), sort_keys=True))
    finally:
        store.close()
    if os.environ.get("AZSIM_REGENERATE_FLEET_REFERENCE") == "1":
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        REFERENCE.write_text(json.dumps(observed, indent=1, sort_keys=True) + "\n")
    expected = json.loads(REFERENCE.read_text())
    # The fleet must exercise what a refactor could break: rollbacks, a stopped run, finished runs.
    kinds = {e["type"] for e in expected["events"]}
    assert {"RollingUpgradeStarted", "BatchCompleted", "RollingUpgradeCompleted"} <= kinds, kinds
    assert "RollingUpgradeFaulted" in kinds or "RollingUpgradeStopped" in kinds, kinds
    assert len(observed["events"]) == len(expected["events"])
    for index, (got, want) in enumerate(zip(observed["events"], expected["events"])):
        assert got == want, f"event {index} differs"
    assert observed == expected
