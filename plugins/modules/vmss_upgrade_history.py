#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vmss_upgrade_history
short_description: Read the OS upgrade history and the latest rolling upgrade of a simulated scale set
version_added: 0.1.0
description:
  - Azure's C(GET .../osUpgradeHistory) and C(GET .../rollingUpgrades/latest).
  - The history lists OS image upgrades (manual and platform-started), newest first, the last five within two
    months of the virtual now. Model rollouts are not OS upgrades and appear only in RV(latest).
  - Also returns the batches and each instance's result in the most recent OS upgrade.
  - Changes nothing; the clock does not move.
options:
  all:
    description: Return every OS upgrade the store recorded for the scale set, not only Azure's last five in two months.
    type: bool
    default: false
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss.common.scale_set
  - azsim.vmss.common.instances_output
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.info_module
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Get the OS upgrade history
  azsim.vmss.vmss_upgrade_history:
    resource_group: rg-web
    name: web
  register: hist

- name: One line per run
  ansible.builtin.debug:
    msg: "{{ item.properties.startedBy }} to {{ item.properties.targetImageReference.version | default('?') }}: {{ item.properties.runningStatus.code }}"
  loop: "{{ hist.history }}"
"""

RETURN = r"""
instances_summary:
  description:
    - Present when the scale set has more than 100 instances and O(return_all_instances) is false; RV(instances)
      then holds the first 100.
    - C(total) and C(returned), and counts over every instance C(by_health), C(by_image_version),
      C(by_power_state), C(by_provisioning_state), C(by_zone) (C(by_result) in M(azsim.vmss.vmss_upgrade_history)),
      with C(null) for an empty value; C(latest_model_applied) is how many run the current model.
  returned: when the instances were cut
  type: dict
  sample: {total: 600, returned: 100, by_health: {Healthy: 598, Unhealthy: 2}, by_image_version: {1.1.0: 600}}
history:
  description: The C(value) list of C(osUpgradeHistory), newest first.
  returned: always
  type: list
  elements: dict
  sample:
    - type: Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades
      location: eastus
      properties:
        runningStatus: {code: Completed, startTime: "2025-01-01T03:00:00Z", endTime: "2025-01-01T03:20:00Z"}
        progress: {successfulInstanceCount: 10, failedInstanceCount: 0, inProgressInstanceCount: 0, pendingInstanceCount: 0}
        startedBy: Platform
        targetImageReference: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: 24.04.202502010}
        rollbackInfo: {successfullyRolledbackInstanceCount: 0, failedRolledbackInstanceCount: 0}
latest:
  description: C(rollingUpgrades/latest) for the most recent run (OS upgrade or model rollout); null when none.
  returned: always
  type: dict
batches:
  description:
    - The batches of the most recent OS upgrade, each C({index, instances, zone, update_domain, start, end, result})
      with instance names. Empty when there was none.
  returned: always
  type: list
  elements: dict
instances:
  description:
    - Every instance as M(azsim.vmss.vmss) returns it, with C(result) (C(upgraded), C(rolled_back), C(rollback_failed),
      C(failed), C(rejected_by_hook), C(protected), C(skipped_by_application), C(skipped), C(pending)) and
      C(batch) in the most recent OS upgrade. C(protected) (protected from scale-set actions) and C(skipped_by_application) (its
      application reported C(SkipUpgrade) when the run started) are left alone and not counted as failed.
    - Use it to set facts on the inventory hosts by outcome.
  returned: always
  type: list
  elements: dict
now:
  description: The virtual time.
  returned: always
  type: str
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.history import history_result
from ansible_collections.azsim.vmss.plugins.module_utils._front.module_glue import AzsimModule, scale_set_argument_spec


def main() -> None:
    module = AzsimModule(
        {
            **scale_set_argument_spec(),
            "all": {"type": "bool", "default": False},
            "return_all_instances": {"type": "bool", "default": False},
        },
        read_only=True,
    )
    module.run(history_result, rename={"all": "every_run"})


if __name__ == "__main__":
    main()
