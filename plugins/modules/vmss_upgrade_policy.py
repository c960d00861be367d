#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vmss_upgrade_policy
short_description: Set the upgrade policy of a simulated scale set, checking Azure's requirements
version_added: 0.1.0
description:
  - Manages only C(properties.upgradePolicy) of a simulated scale set (see M(azsim.vmss.vmss)), that is the
    upgrade mode, the automatic OS image upgrade policy and the rolling upgrade policy.
  - Options not given keep their current value. A new scale set has Azure's defaults (C(mode=Manual), automatic
    OS upgrade off, rolling policy 20/20/20/PT0S, every flag false).
  - Values are validated against Azure's ranges (percentages, ISO 8601 durations); a bad value fails the task
    naming the option and what it allows.
  - A field set to a value other than its default on a scale set whose C(api_version) predates the field is
    refused (finding C(PolicyFieldRequiresNewerApiVersion)). The API version of each field is given with the option.
  - When the resulting policy has automatic OS image upgrade enabled, every requirement Azure has for it is
    checked against the scale set. They are image version C(latest) (or a gallery image without version),
    a supported platform image or an Azure Compute Gallery image, for a gallery image the subscription's opt-in
    (see M(azsim.vmss.feature_registration)), exactly one health source unless Service Fabric, a Standard load
    balancer for the probe of a scale set with several placement groups, Compute API version 2018-10-01 or later,
    on Windows (from API 2019-03-01) Windows Update off and patch mode not C(AutomaticByPlatform), and the Service
    Fabric rules (durability Silver or Gold, or Bronze only for stateless-only node types with a health probe;
    extension version 1.1 or later; cluster and extension durability equal; no Application Health extension).
  - O(mode=Rolling) needs a health source, as Azure answers with HTTP 400 otherwise.
  - On a scale set with Flexible orchestration (M(azsim.vmss.vmss) O(azsim.vmss.vmss#module:orchestration_mode))
    the health source must be the Application Health extension, enabling automatic OS image upgrade needs the
    feature C(Microsoft.Compute/VmssFlexAutoOSUpgrade) registered and cannot be combined with C(max_surge), and
    C(rollback_failed_instances_on_policy_breach) is refused (HTTP 400 each).
  - Any unmet requirement fails the task with every finding listed in RV(findings), and nothing is written.
    The checks run whenever the resulting policy has automatic OS image upgrade enabled, also when nothing would
    change, so a scale set whose model no longer meets them (changed since with M(azsim.vmss.vmss)) is reported.
    Warnings (for example thresholds that stop a run at the first unhealthy instance on a small scale set) are
    returned in RV(findings) and shown as warnings without failing.
  - On Windows scale sets, enabling automatic OS image upgrade sets C(enableAutomaticUpdates) to false when it is
    not set; set to true explicitly it is a finding (C(WindowsAutomaticUpdatesEnabled)).
  - Enabling automatic OS image upgrade starts the platform's clock for the first automatic rollout
    (C(simulation.first_rollout_delay) of the scale set, 3 hours by default); see M(azsim.vmss.sim_clock).
options:
  mode:
    description:
      - How changes of the scale set model (other than the OS image) reach the instances.
      - Independent of automatic OS image upgrade, which ignores it.
    type: str
    choices: [Automatic, Manual, Rolling]
  automatic_os_upgrade:
    description: The automatic OS image upgrade policy (C(automaticOSUpgradePolicy)).
    type: dict
    suboptions:
      enabled:
        description:
          - C(enableAutomaticOSUpgrade). Whether the platform upgrades the OS disks when a newer image version
            becomes latest. Enabling runs every requirement check. API 2018-10-01.
        type: bool
      disable_automatic_rollback:
        description:
          - C(disableAutomaticRollback). Keep failed instances on the new image instead of restoring their previous
            OS disk in platform-started upgrades. API 2018-10-01.
        type: bool
      use_rolling_upgrade_policy:
        description:
          - C(useRollingUpgradePolicy). Use O(rolling_upgrade_policy) for automatic OS upgrades instead of the
            fixed 20/20/20 thresholds. API 2022-03-01.
        type: bool
      os_rolling_upgrade_deferral:
        description:
          - C(osRollingUpgradeDeferral). Platform-started upgrades wait for approval
            (M(azsim.vmss.vmss_os_rolling_upgrade) with C(state=approved)). API 2023-09-01.
        type: bool
  rolling_upgrade_policy:
    description: The rolling upgrade policy (C(rollingUpgradePolicy)).
    type: dict
    suboptions:
      max_batch_instance_percent:
        description:
          - C(maxBatchInstancePercent), 5 to 100. Largest share of the instances upgraded together. API 2017-03-30.
        type: int
      max_unhealthy_instance_percent:
        description:
          - C(maxUnhealthyInstancePercent), 5 to 100. A run stops before a batch when more than this share of all
            instances is unhealthy. API 2017-03-30.
        type: int
      max_unhealthy_upgraded_instance_percent:
        description:
          - C(maxUnhealthyUpgradedInstancePercent), 0 to 100. A run stops after a batch when more than this share of
            all instances failed after being upgraded. API 2017-03-30.
        type: int
      pause_time_between_batches:
        description: C(pauseTimeBetweenBatches), an ISO 8601 duration such as C(PT0S) or C(PT5M). API 2017-03-30.
        type: str
      enable_cross_zone_upgrade:
        description:
          - C(enableCrossZoneUpgrade). API 2020-12-01.
          - On a zonal scale set, batches go by update domain and may mix availability zones; without it they go
            zone by zone. Either way a batch never spans two update domains.
        type: bool
      prioritize_unhealthy_instances:
        description: C(prioritizeUnhealthyInstances). Upgrade unhealthy instances first. API 2020-12-01.
        type: bool
      rollback_failed_instances_on_policy_breach:
        description:
          - C(rollbackFailedInstancesOnPolicyBreach). Roll failed instances back to the previous model when a run
            stops on a policy breach. API 2022-11-01.
        type: bool
      max_surge:
        description:
          - C(maxSurge). API 2022-11-01.
          - Rolling upgrades (OS upgrades, automatic ones included, and rolling model updates) create new instances
            for a batch (new instance ids, the same host names) and delete the old ones once the new ones are
            healthy, so the capacity never drops; see C(simulation.surge_quota) of M(azsim.vmss.vmss).
        type: bool
attributes:
  diff_mode:
    details:
      - Returns C(diff) with the upgrade policy before and after the task (and, on Windows, the Windows
        configuration that enabling automatic OS upgrade may change), also in check mode.
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss.common.scale_set
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.changes_store
  - azsim.vmss._attributes.idempotent
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Turn on automatic OS image upgrades, using the rolling policy's numbers
  azsim.vmss.vmss_upgrade_policy:
    resource_group: rg-web
    name: web
    mode: Rolling
    automatic_os_upgrade:
      enabled: true
      use_rolling_upgrade_policy: true
    rolling_upgrade_policy:
      max_batch_instance_percent: 20
      max_unhealthy_instance_percent: 20
      max_unhealthy_upgraded_instance_percent: 20
      pause_time_between_batches: PT2M
  register: policy

- name: Show why a scale set cannot take the policy
  azsim.vmss.vmss_upgrade_policy:
    resource_group: rg-web
    name: legacy
    automatic_os_upgrade:
      enabled: true
  register: attempt
  ignore_errors: true

- name: List the unmet requirements
  ansible.builtin.debug:
    msg: "{{ attempt.findings | selectattr('severity', 'eq', 'error') | map(attribute='code') | list }}"

- name: Turn automatic OS image upgrades off again
  azsim.vmss.vmss_upgrade_policy:
    resource_group: rg-web
    name: web
    automatic_os_upgrade:
      enabled: false
"""

RETURN = r"""
upgrade_policy:
  description:
    - The scale set's C(properties.upgradePolicy) after the task, in Azure's REST shape (C(UpgradePolicy) with
      C(automaticOSUpgradePolicy) and C(rollingUpgradePolicy), every field present).
    - When the task fails on findings, the policy as it still is.
  returned: when the scale set exists and the options are valid, also when the task fails on findings
  type: dict
  sample:
    mode: Rolling
    automaticOSUpgradePolicy:
      enableAutomaticOSUpgrade: true
      disableAutomaticRollback: false
      useRollingUpgradePolicy: true
      osRollingUpgradeDeferral: false
    rollingUpgradePolicy:
      maxBatchInstancePercent: 20
      maxUnhealthyInstancePercent: 20
      maxUnhealthyUpgradedInstancePercent: 20
      pauseTimeBetweenBatches: PT2M
      enableCrossZoneUpgrade: false
      prioritizeUnhealthyInstances: false
      rollbackFailedInstancesOnPolicyBreach: false
      maxSurge: false
findings:
  description:
    - Every unmet requirement (C(severity=error)) and every warning (C(severity=warning)); errors first.
    - "Error codes: C(ImageVersionNotLatest), C(UnsupportedImage), C(GalleryFeatureNotRegistered),
      C(HealthSourceMissing), C(HealthSourceAmbiguous), C(StandardLoadBalancerRequired), C(ApiVersionTooOld),
      C(PolicyFieldRequiresNewerApiVersion), C(WindowsAutomaticUpdatesEnabled), C(WindowsPatchModeAutomaticByPlatform),
      C(ServiceFabricDurabilityTooLow), C(ServiceFabricExtensionVersionTooOld), C(ServiceFabricDurabilityMismatch),
      C(ServiceFabricHealthProbeNotSupported)."
    - "Warning codes: C(PolicyStopsOnFirstUnhealthyInstance) (C(maxUnhealthyInstancePercent) of this many
      instances is 0), C(PolicyStopsOnFirstFailedUpgrade) (the same for C(maxUnhealthyUpgradedInstancePercent)),
      C(UnhealthyInstancesExceedPolicy) (a run started now would stop before its first batch)."
  returned: when the scale set exists and the options are valid, also when the task fails on findings
  type: list
  elements: dict
  contains:
    code:
      description: What is wrong.
      type: str
      returned: always
    path:
      description:
        - JSON path in the scale set's REST model, for example
          C(properties.virtualMachineProfile.storageProfile.imageReference.version); C(apiVersion) for the API version.
      type: str
      returned: always
    message:
      description: What is wrong and how to fix it.
      type: str
      returned: always
    severity:
      description: C(error) (the task fails) or C(warning).
      type: str
      returned: always
  sample:
    - code: HealthSourceMissing
      path: properties.virtualMachineProfile.networkProfile.healthProbe
      message: "automatic OS image upgrade needs a health source: ..."
      severity: error
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.policy import set_upgrade_policy
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import (
    AzsimModule,
    scale_set_argument_spec,
)
from ansible_collections.azsim.vmss.plugins.module_utils._front.policy_options import upgrade_policy_argument_spec


def main() -> None:
    module = AzsimModule({**scale_set_argument_spec(), **upgrade_policy_argument_spec()})
    module.run(set_upgrade_policy)


if __name__ == "__main__":
    main()
