#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vmss_info
short_description: Read simulated scale sets and their instances
version_added: 0.1.0
description:
  - Returns one scale set (O(name) given) or every scale set of a resource group, as M(azsim.vmss.vmss) returns them.
  - Changes nothing; the clock does not move.
options:
  resource_group:
    description: The resource group.
    type: str
    required: true
  name:
    description: The scale set; when not given, every scale set of O(resource_group) is returned in RV(scale_sets).
    type: str
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss.common.instances_output
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.info_module
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Read one scale set
  azsim.vmss.vmss_info:
    resource_group: rg-web
    name: web
  register: web

- name: Which image version does each host run?
  ansible.builtin.debug:
    msg: "{{ web.instances | items2dict(key_name='name', value_name='os_disk') }}"

- name: Every scale set of a resource group
  azsim.vmss.vmss_info:
    resource_group: rg-web
  register: all_sets
"""

RETURN = r"""
instances_summary:
  description:
    - Present when the scale set has more than 100 instances and O(return_all_instances) is false; RV(instances)
      then holds the first 100.
    - C(total) and C(returned), and counts over every instance C(by_health), C(by_image_version),
      C(by_power_state), C(by_provisioning_state), C(by_zone) (C(by_result) in M(azsim.vmss.vmss_upgrade_history)),
      with C(null) for an empty value; C(latest_model_applied) is how many run the current model.
  returned: when O(name) is given and the instances were cut; each item of RV(scale_sets) has its own
  type: dict
  sample: {total: 600, returned: 100, by_health: {Healthy: 598, Unhealthy: 2}, by_image_version: {1.1.0: 600}}
exists:
  description: Whether the named scale set exists.
  returned: when O(name) is given
  type: bool
vmss:
  description: The scale set in Azure's REST shape, as M(azsim.vmss.vmss) returns it; null when it does not exist.
  returned: when O(name) is given
  type: dict
instances:
  description: Its instances, as M(azsim.vmss.vmss) returns them.
  returned: when O(name) is given
  type: list
  elements: dict
simulator:
  description: Its simulator settings, as M(azsim.vmss.vmss) returns them.
  returned: when O(name) is given and the scale set exists
  type: dict
orchestration_services:
  description:
    - Azure's instance-view C(orchestrationServices), C([{serviceName, serviceState}]), as M(azsim.vmss.vmss)
      returns it; C(serviceState) is C(Running), C(Suspended) or C(NotRunning). Empty without an automatic repairs
      policy.
  returned: when O(name) is given and the scale set exists
  type: list
  elements: dict
  sample: [{serviceName: AutomaticRepairs, serviceState: Suspended}]
scale_sets:
  description:
    - Every scale set of O(resource_group), each a dict with C(vmss), C(instances) and C(simulator).
    - Not returned when O(name) is given, so that the scale set is not returned twice (RV(vmss), RV(instances)).
  returned: when O(name) is not given
  type: list
  elements: dict
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set_info import vmss_info_result
from ansible_collections.azsim.vmss.plugins.module_utils._front.module_glue import AzsimModule, scale_set_argument_spec


def main() -> None:
    module = AzsimModule(
        {**scale_set_argument_spec(name_required=False), "return_all_instances": {"type": "bool", "default": False}},
        read_only=True,
    )
    module.run(vmss_info_result)


if __name__ == "__main__":
    main()
