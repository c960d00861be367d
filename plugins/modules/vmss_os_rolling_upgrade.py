#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vmss_os_rolling_upgrade
short_description: Start, cancel or approve a rolling OS image upgrade of a simulated scale set
version_added: 0.1.0
description:
  - V(started) is Azure's C(POST .../osRollingUpgrade) (C(startedBy=User)). It rolls the latest image version
    out in batches by the scale set's rolling upgrade policy, health-gated. Instances already on the latest
    version are not touched, and a manually started upgrade never restores an old OS disk.
  - V(cancelled) is Azure's C(POST .../rollingUpgrades/cancel). Instances already being upgraded finish; no new
    batch starts; the run ends C(Cancelled).
  - V(approved) is Azure's C(POST .../approveRollingUpgrade), for platform-started upgrades waiting for approval
    per instance under C(osRollingUpgradeDeferral).
  - Time is virtual. With O(wait=true) the task advances the store's clock until the run ends; with
    O(wait=false) it returns at once with the run C(RollingForward), and M(azsim.vmss.sim_clock) or any later
    waiting task moves it on. Platform-started runs of other scale sets due meanwhile happen too.
  - In check mode the run is simulated to its end on a throw-away copy of the store, and RV(plan) shows the
    batches and their predicted times.
options:
  state:
    description: What to do.
    type: str
    choices: [started, cancelled, approved]
    default: started
  wait:
    description: Advance virtual time until the run ends (V(started), V(cancelled), V(approved)).
    type: bool
    default: true
  wait_timeout:
    description:
      - The most virtual time (ISO 8601 duration) to advance while waiting. A run still going then fails the task;
        its progress is kept.
    type: str
    default: PT24H
  fail_on_fault:
    description: Fail the task when the run ends C(Faulted), with Azure's error; the run is recorded either way.
    type: bool
    default: true
  fail_if_idle:
    description:
      - With V(cancelled), fail (Azure's 409) when no rolling upgrade is going. Otherwise that is C(changed=false).
    type: bool
    default: false
  instance_ids:
    description:
      - With V(approved), the instance ids (or inventory host names) whose deferred upgrade is approved.
      - Left out, every instance of the scale set is approved (Azure's C(approveRollingUpgrade) without
        C(instanceIds)), but for those protected from scale-set actions, which never wait.
    type: list
    elements: str
attributes:
  diff_mode:
    support: full
    details:
      - Returns C(diff) with the scale set's latest run before and after the task (its C(run_id), C(status),
        C(last_action), whether a cancel was requested, and the instances approved), also in check mode. The full
        run is in RV(rolling_upgrade), RV(batches) and RV(instances), and in check mode what it would do in RV(plan).
  idempotent:
    support: partial
    details:
      - O(state=started) again changes nothing while every instance runs the latest image version or while a run is
        going (it returns that run); O(state=cancelled) with nothing running changes nothing; approving instances
        already approved changes nothing.
      - After a run that ended C(Faulted) or C(Cancelled), instances are left on the old version, so O(state=started)
        again starts a new run for them (C(changed=true)), as Azure does.
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss.common.scale_set
  - azsim.vmss.common.instances_output
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.changes_store
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: See the batches a rolling OS upgrade would run, without running it
  azsim.vmss.vmss_os_rolling_upgrade:
    resource_group: rg-web
    name: web
  check_mode: true
  register: preview

- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ preview.plan.batches | map(attribute='instances') | list }}"

- name: Run it to its end in virtual time
  azsim.vmss.vmss_os_rolling_upgrade:
    resource_group: rg-web
    name: web
    fail_on_fault: false
  register: rollout

- name: Start one and return at once
  azsim.vmss.vmss_os_rolling_upgrade:
    resource_group: rg-web
    name: web
    wait: false

- name: Cancel whatever runs
  azsim.vmss.vmss_os_rolling_upgrade:
    resource_group: rg-web
    name: web
    state: cancelled

- name: Let platform-started upgrades wait for approval, instance by instance
  azsim.vmss.vmss_upgrade_policy:
    resource_group: rg-web
    name: web
    automatic_os_upgrade:
      enabled: true
      os_rolling_upgrade_deferral: true

- name: Publish a newer image, which the platform will roll out
  azsim.vmss.vm_image:
    publisher: Canonical
    offer: ubuntu-24_04-lts
    sku: server
    version: 24.04.202503010

- name: Let the platform's first rollout delay pass; its run now waits for approvals
  azsim.vmss.sim_clock:
    advance: PT3H

- name: Approve the deferred upgrade of two instances
  azsim.vmss.vmss_os_rolling_upgrade:
    resource_group: rg-web
    name: web
    state: approved
    instance_ids: [web-01, web-02]
    wait: false

- name: Approve every instance of the scale set at once (Azure's approveRollingUpgrade without instanceIds)
  azsim.vmss.vmss_os_rolling_upgrade:
    resource_group: rg-web
    name: web
    state: approved
"""

RETURN = r"""
instances_summary:
  description:
    - Present when the scale set has more than 100 instances and O(return_all_instances) is false; RV(instances)
      then holds the first 100.
    - C(total) and C(returned), and counts over every instance C(by_result), C(by_health), C(by_image_version),
      C(by_power_state), C(by_provisioning_state), C(by_zone), with C(null) for an empty value.
  returned: when the instances were cut
  type: dict
  sample: {total: 600, returned: 100, by_result: {upgraded: 600}, by_image_version: {1.1.0: 600}}
rolling_upgrade:
  description: The run in the shape of Azure's C(GET .../rollingUpgrades/latest); null when there is none.
  returned: always
  type: dict
  sample:
    type: Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades
    location: eastus
    properties:
      policy: {maxBatchInstancePercent: 20, maxUnhealthyInstancePercent: 20}
      runningStatus: {code: Completed, startTime: "2025-01-01T00:00:00Z", lastAction: Start}
      progress: {successfulInstanceCount: 10, failedInstanceCount: 0, inProgressInstanceCount: 0, pendingInstanceCount: 0}
batches:
  description:
    - The batches so far, each C({index, instances, zone, update_domain, start, end, result}).
    - On a Flexible scale set C(update_domain) is null and C(fault_domain) names the batch's fault domain.
  returned: always
  type: list
  elements: dict
instances:
  description:
    - Every instance as M(azsim.vmss.vmss) returns it, with C(result) (C(upgraded), C(rolled_back), C(rollback_failed),
      C(failed), C(rejected_by_hook), C(protected), C(skipped_by_application), C(skipped), C(pending)) and
      C(batch) in this run. C(protected) (protected from scale-set actions) and C(skipped_by_application) (its
      application reported C(SkipUpgrade) when the run started) are left alone and not counted as failed.
  returned: always
  type: list
  elements: dict
plan:
  description:
    - Check mode only. C({start, end, status, batches}) of the run simulated to its end; C(batches) holds
      C({index, instances, zone, update_domain, start, end}) with instance names.
  returned: in check mode when a run would start
  type: dict
approved:
  description: With V(approved), the instance ids newly approved (VM names on a Flexible scale set).
  returned: with O(state=approved)
  type: list
  elements: str
now:
  description: The virtual time after the task.
  returned: always
  type: str
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import rolling_upgrade_result
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import (
    AzsimModule,
    scale_set_argument_spec,
)


def main() -> None:
    module = AzsimModule(
        {
            **scale_set_argument_spec(),
            "state": {"type": "str", "choices": ["started", "cancelled", "approved"], "default": "started"},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "str", "default": "PT24H"},
            "fail_on_fault": {"type": "bool", "default": True},
            "fail_if_idle": {"type": "bool", "default": False},
            "instance_ids": {"type": "list", "elements": "str"},
            "return_all_instances": {"type": "bool", "default": False},
        }
    )
    module.run(rolling_upgrade_result)


if __name__ == "__main__":
    main()
