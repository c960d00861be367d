# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SDK's side of tests/unit/test_arm_shared_store.py: scale sets of its own, while a playbook works on
the same store; run by the SDK venv's python.

``python sdk_shared_client.py PHASE`` with the endpoint's JSON line in ``AZSIM_ARM_INFO`` and the scale sets
of each side in ``AZSIM_SHARED`` (``{"sdk": [...], "playbook": [...], "sdk_rg": ..., "playbook_rg": ...}``).
Every answer is deserialised into the SDK's own models; one JSON line of what it saw is printed.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from sdk_common import client, rolling_body  # type: ignore[import-not-found]


def body(resource_group: str, capacity: int, batch_percent: int) -> dict[str, Any]:
    made: dict[str, Any] = rolling_body(resource_group, capacity, batch_percent)
    return made


def create(info: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """Create each scale set of the SDK's (2 instances), then update it (3 instances, another batch size)."""
    compute, rg = client(info), shared["sdk_rg"]
    seen: dict[str, Any] = {}
    for name in shared["sdk"]:
        made = compute.virtual_machine_scale_sets.begin_create_or_update(rg, name, body(rg, 2, 50)).result()
        assert made.properties.provisioning_state == "Succeeded", made
        updated = compute.virtual_machine_scale_sets.begin_create_or_update(rg, name, body(rg, 3, 34)).result()
        vms = list(compute.virtual_machine_scale_set_vms.list(rg, name))
        seen[name] = {
            "capacity": updated.sku.capacity,
            "batch": updated.properties.upgrade_policy.rolling_upgrade_policy.max_batch_instance_percent,
            "versions": sorted({vm.properties.storage_profile.image_reference.exact_version for vm in vms}),
        }
    return {"scale_sets": seen}


def upgrade(info: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """Start an OS rolling upgrade of each (the instant clock ends it in the request), read latest and history."""
    compute, rg = client(info), shared["sdk_rg"]
    upgrades = compute.virtual_machine_scale_set_rolling_upgrades
    seen: dict[str, Any] = {}
    for name in shared["sdk"]:
        upgrades.begin_start_os_upgrade(rg, name).result()
        latest = upgrades.get_latest(rg, name).properties
        history = list(compute.virtual_machine_scale_sets.get_os_upgrade_history(rg, name))
        vms = list(compute.virtual_machine_scale_set_vms.list(rg, name))
        seen[name] = {
            "latest": [latest.running_status.code, latest.progress.successful_instance_count],
            "history": [
                (h.properties.running_status.code, h.properties.target_image_reference.version) for h in history
            ],
            "versions": sorted({vm.properties.storage_profile.image_reference.exact_version for vm in vms}),
        }
    return {"scale_sets": seen}


def verify(info: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """After both sides are done: every scale set, and the playbook's runs as the SDK reads them."""
    compute, rg = client(info), shared["playbook_rg"]
    listed = sorted(v.name for v in compute.virtual_machine_scale_sets.list_all())
    seen: dict[str, Any] = {}
    for name in shared["playbook"]:
        latest = compute.virtual_machine_scale_set_rolling_upgrades.get_latest(rg, name).properties
        history = list(compute.virtual_machine_scale_sets.get_os_upgrade_history(rg, name))
        vms = list(compute.virtual_machine_scale_set_vms.list(rg, name))
        seen[name] = {
            "latest": [latest.running_status.code, latest.progress.successful_instance_count],
            "history": [
                (h.properties.running_status.code, h.properties.target_image_reference.version) for h in history
            ],
            "versions": sorted({vm.properties.storage_profile.image_reference.exact_version for vm in vms}),
        }
    return {"list_all": listed, "playbook_scale_sets": seen}


def main() -> int:
    info = json.loads(os.environ["AZSIM_ARM_INFO"])
    shared = json.loads(os.environ["AZSIM_SHARED"])
    phase = {"create": create, "upgrade": upgrade, "verify": verify}[sys.argv[1]]
    print(json.dumps(phase(info, shared)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
