#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vmss_lifecycle_hook_event_info
short_description: List the lifecycle-hook events of a simulated scale set
version_added: 0.1.0
description:
  - Azure's C(GET .../virtualMachineScaleSets/{name}/lifecycleHookEvents) (api-version 2025-11-01).
  - An event is C(Active) while it waits for decisions, C(Completed) once every target is C(Approved) or
    C(Rejected), and C(Abandoned) when the platform dropped it (a newer image superseded it, or its run ended).
  - Changes nothing; the clock does not move.
options:
  state:
    description: Only events in this state.
    type: str
    choices: [Active, Completed, Abandoned]
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss.common.scale_set
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.info_module
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: List the events waiting for a decision
  azsim.vmss.vmss_lifecycle_hook_event_info:
    resource_group: rg-web
    name: web
    state: Active
  register: waiting

- name: One line per event
  ansible.builtin.debug:
    msg: "{{ item.name }} {{ item.properties.type }} until {{ item.properties.waitUntil }}"
  loop: "{{ waiting.events }}"
"""

RETURN = r"""
events:
  description: The scale set's events in Azure's shape, newest first.
  returned: always
  type: list
  elements: dict
  sample:
    - name: 3f2b7f4e-8f0a-4c55-9a43-5d2f0e1f6a10
      id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-web/providers/Microsoft.Compute/\
        virtualMachineScaleSets/web/lifecycleHookEvents/3f2b7f4e-8f0a-4c55-9a43-5d2f0e1f6a10"
      type: Microsoft.Compute/virtualMachineScaleSets/lifecycleHookEvents
      properties:
        type: UpgradeAutoOSScheduling
        waitUntil: "2025-01-01T04:00:00Z"
        maxWaitUntil: "2025-01-03T03:00:00Z"
        timeCreated: "2025-01-01T03:00:00Z"
        defaultAction: Approve
        targetResources:
          - resource: {id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/web}
            actionState: Waiting
        state: Active
now:
  description: The virtual time.
  returned: always
  type: str
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.lifecycle_hooks import lifecycle_hook_events
from ansible_collections.azsim.vmss.plugins.module_utils._front.module_glue import AzsimModule, scale_set_argument_spec


def main() -> None:
    module = AzsimModule(
        {
            **scale_set_argument_spec(),
            "state": {"type": "str", "choices": ["Active", "Completed", "Abandoned"]},
        },
        read_only=True,
    )
    module.run(lifecycle_hook_events)


if __name__ == "__main__":
    main()
