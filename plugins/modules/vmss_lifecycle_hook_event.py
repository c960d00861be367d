#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vmss_lifecycle_hook_event
short_description: Approve, reject or delay lifecycle-hook events of a simulated scale set
version_added: 0.1.0
description:
  - Azure's C(PATCH .../virtualMachineScaleSets/{name}/lifecycleHookEvents/{event}) (api-version 2025-11-01).
  - The platform raises these events for the hooks of M(azsim.vmss.vmss)'s O(azsim.vmss.vmss#module:lifecycle_hooks)
    when it starts an automatic OS image upgrade (C(UpgradeAutoOSScheduling), target the scale set) and before
    each batch of it (C(UpgradeAutoOSRollingBatchStarting), one target per instance of the batch). What an event
    holds back goes on when every target is decided; at the event's C(waitUntil) the hook's default action decides
    the targets still C(Waiting).
  - O(state=approved) lets the run (or the instances of the batch) go on; O(state=rejected) means no run for that
    image version, or leaves the instances on their old image (their result is C(rejected_by_hook), neither
    upgraded nor failed). O(wait_until) delays the default action instead, up to the event's C(maxWaitUntil).
  - A decided event resumes what it held at once (the virtual clock runs up to now); later batches need
    M(azsim.vmss.sim_clock) or any waiting task.
options:
  event:
    description: The event's name (a GUID, as M(azsim.vmss.vmss_lifecycle_hook_event_info) lists it).
    type: str
  type:
    description: Every C(Active) event of this hook type instead of one named event.
    type: str
    choices: [UpgradeAutoOSScheduling, UpgradeAutoOSRollingBatchStarting]
  state:
    description: The action state to give the targets.
    type: str
    choices: [approved, rejected]
  instance_ids:
    description:
      - The targets to decide, by instance id or inventory host name (C(UpgradeAutoOSRollingBatchStarting) only).
      - Default every target still C(Waiting).
    type: list
    elements: str
  wait_until:
    description:
      - Delay the default action to this ISO 8601 UTC timestamp (later than now, not later than C(maxWaitUntil))
        instead of deciding.
    type: str
attributes:
  diff_mode:
    support: full
    details:
      - Returns C(diff) with the events addressed before and after the task, also in check mode.
  idempotent:
    support: full
    details:
      - Targets already in the state asked for, or a C(waitUntil) already at the time asked for, change nothing.
        Deciding a target that is already terminal the other way fails (Azure's 409 C(Conflict)).
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss.common.scale_set
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.changes_store
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Hold every automatic OS upgrade for approval, and each of its batches too
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    api_version: "2025-11-01"
    lifecycle_hooks:
      - type: UpgradeAutoOSScheduling
        wait_duration: PT8H
      - type: UpgradeAutoOSRollingBatchStarting
        wait_duration: PT1H
        default_action: Approve

- name: Enable automatic OS image upgrades
  azsim.vmss.vmss_upgrade_policy:
    resource_group: rg-web
    name: web
    automatic_os_upgrade:
      enabled: true

- name: Publish a newer image, which the platform will want to roll out
  azsim.vmss.vm_image:
    publisher: Canonical
    offer: ubuntu-24_04-lts
    sku: server
    version: 24.04.202503010

- name: Let the platform's first rollout delay pass; it raises a Scheduling event
  azsim.vmss.sim_clock:
    advance: PT3H

- name: Delay the upgrade by two more hours
  azsim.vmss.vmss_lifecycle_hook_event:
    resource_group: rg-web
    name: web
    type: UpgradeAutoOSScheduling
    wait_until: "2025-01-01T15:00:00Z"

- name: Approve it now; the run starts and its first batch waits for its own event
  azsim.vmss.vmss_lifecycle_hook_event:
    resource_group: rg-web
    name: web
    type: UpgradeAutoOSScheduling
    state: approved

- name: Keep web-01 on its old image, let the rest of the batch go
  azsim.vmss.vmss_lifecycle_hook_event:
    resource_group: rg-web
    name: web
    type: UpgradeAutoOSRollingBatchStarting
    state: rejected
    instance_ids: [web-01]
"""

RETURN = r"""
events:
  description: The events addressed, in Azure's shape (C(GET .../lifecycleHookEvents/{event})).
  returned: always
  type: list
  elements: dict
  sample:
    - name: 3f2b7f4e-8f0a-4c55-9a43-5d2f0e1f6a10
      id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-web/providers/Microsoft.Compute/\
        virtualMachineScaleSets/web/lifecycleHookEvents/3f2b7f4e-8f0a-4c55-9a43-5d2f0e1f6a10"
      type: Microsoft.Compute/virtualMachineScaleSets/lifecycleHookEvents
      properties:
        type: UpgradeAutoOSRollingBatchStarting
        waitUntil: "2025-01-01T03:30:00Z"
        maxWaitUntil: "2025-01-01T07:00:00Z"
        timeCreated: "2025-01-01T03:00:00Z"
        defaultAction: Approve
        targetResources:
          - resource: {id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-web/providers/\
              Microsoft.Compute/virtualMachineScaleSets/web/virtualMachines/0"}
            actionState: Rejected
        state: Completed
now:
  description: The virtual time after the task.
  returned: always
  type: str
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.lifecycle_hooks import lifecycle_hook_event
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import (
    AzsimModule,
    scale_set_argument_spec,
)


def main() -> None:
    module = AzsimModule(
        {
            **scale_set_argument_spec(),
            "event": {"type": "str"},
            "type": {"type": "str", "choices": ["UpgradeAutoOSScheduling", "UpgradeAutoOSRollingBatchStarting"]},
            "state": {"type": "str", "choices": ["approved", "rejected"]},
            "instance_ids": {"type": "list", "elements": "str"},
            "wait_until": {"type": "str"},
        },
        required_one_of=[("event", "type"), ("state", "wait_until")],
        mutually_exclusive=[("event", "type"), ("state", "wait_until"), ("instance_ids", "wait_until")],
    )
    module.run(lifecycle_hook_event, rename={"type": "hook_type"})


if __name__ == "__main__":
    main()
