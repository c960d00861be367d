#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vmss_extension_upgrade
short_description: Start an extension rolling upgrade of a simulated scale set
version_added: 0.1.0
description:
  - V(started) is Azure's C(POST .../extensionRollingUpgrade). Every instance that runs an extension older than
    the newest version released for its major (see O(azsim.vmss.vmss#module:simulation.extension_versions)) is
    upgraded; instances already on the latest versions are not affected. With nothing to upgrade no run starts
    and C(changed=false).
  - The run goes by the scale set's rolling upgrade policy (batch size, unhealthy limits, pause, update domains
    and zones) with the health checks of an OS upgrade, and fails with the same error codes. An instance whose
    extension fails to upgrade keeps its old version; a later run tries it again.
  - It shares the scale set's one rolling-upgrade slot. Starting it while an OS upgrade or a model rollout runs
    fails with Azure's 409 C(OperationNotAllowed), and so does starting an OS upgrade while it runs. Starting it
    again while it runs returns that run with C(changed=false). M(azsim.vmss.vmss_os_rolling_upgrade) with
    V(cancelled) cancels it.
  - The run is C(rollingUpgrades/latest) (as M(azsim.vmss.vmss_upgrade_history) shows) but never an entry of
    C(osUpgradeHistory), which lists OS image upgrades only.
  - Time is virtual. With O(wait=true) the task advances the store's clock until the run ends; with
    O(wait=false) it returns at once with the run C(RollingForward).
  - In check mode the run is simulated to its end on a throw-away copy of the store, and RV(plan) shows it.
options:
  state:
    description: What to do; V(started) is the only operation.
    type: str
    choices: [started]
    default: started
  wait:
    description: Advance virtual time until the run ends.
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
attributes:
  diff_mode:
    support: full
    details:
      - Returns C(diff) with the scale set's latest run before and after the task (its C(run_id), C(status),
        C(last_action)), also in check mode.
  idempotent:
    support: partial
    details:
      - Starting again changes nothing while every instance runs the latest released extension versions or while
        the extension run is going (it returns that run).
      - After a run that ended C(Faulted) or C(Cancelled), instances left behind are upgraded by a new run.
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
- name: A scale set whose monitoring agent follows minor versions
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    image: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: latest}
    health_probe: {protocol: http, port: 80, request_path: /health}
    extensions:
      - name: monitor
        publisher: Microsoft.Azure.Monitor
        type: AzureMonitorLinuxAgent
        type_handler_version: "1.0"
    simulation:
      extension_versions:
        Microsoft.Azure.Monitor.AzureMonitorLinuxAgent: ["1.0"]
    instances: [web-00, web-01, web-02, web-03, web-04]

- name: The publisher releases 1.1 in the region
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    simulation:
      extension_versions:
        Microsoft.Azure.Monitor.AzureMonitorLinuxAgent: ["1.0", "1.1"]

- name: See the batches the extension upgrade would run
  azsim.vmss.vmss_extension_upgrade:
    resource_group: rg-web
    name: web
  check_mode: true
  register: preview

- name: Upgrade the extensions, batch by batch, to their end in virtual time
  azsim.vmss.vmss_extension_upgrade:
    resource_group: rg-web
    name: web
  register: upgrade

- name: Every instance now runs 1.1
  ansible.builtin.assert:
    that:
      - upgrade.run_kind == 'extension'
      - upgrade.instances | map(attribute='extension_versions') | map(attribute='monitor') | unique == ['1.1']
"""

RETURN = r"""
rolling_upgrade:
  description: The run in the shape of Azure's C(GET .../rollingUpgrades/latest); null when there is none.
  returned: always
  type: dict
run_kind:
  description:
    - Which kind of run RV(rolling_upgrade) is (C(extension), C(os) or C(model)); Azure's shape does not say
      (simulator only). Null when there is no run.
  returned: always
  type: str
batches:
  description: The batches so far, each C({index, instances, zone, update_domain, start, end, result}).
  returned: always
  type: list
  elements: dict
instances:
  description:
    - Every instance as M(azsim.vmss.vmss) returns it (its C(extension_versions) included), with C(result)
      (C(upgraded), C(failed), C(skipped), C(pending)) and C(batch) in this run.
  returned: always
  type: list
  elements: dict
plan:
  description: Check mode only. C({start, end, status, batches}) of the run simulated to its end.
  returned: in check mode when a run would start
  type: dict
now:
  description: The virtual time after the task.
  returned: always
  type: str
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.extension_upgrade import start_extension_upgrade
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import (
    AzsimModule,
    scale_set_argument_spec,
)


def main() -> None:
    module = AzsimModule(
        {
            **scale_set_argument_spec(),
            "state": {"type": "str", "choices": ["started"], "default": "started"},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "str", "default": "PT24H"},
            "fail_on_fault": {"type": "bool", "default": True},
        }
    )
    module.run(start_extension_upgrade)


if __name__ == "__main__":
    main()
