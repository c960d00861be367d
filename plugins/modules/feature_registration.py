#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: feature_registration
short_description: Register a preview feature of a simulated subscription, and re-register its provider
version_added: 0.1.0
description:
  - Registers or unregisters a preview feature (C(Microsoft.Features)) in a simulated subscription, like
    C(az feature register) and C(az feature unregister), and optionally registers the feature's resource provider
    again once the feature is C(Registered), like C(az provider register).
  - "A feature goes C(NotRegistered) -> C(Registering) -> C(Registered), or C(Registered) -> C(Unregistering) ->
    C(Unregistered). Each transition takes O(registration_duration) of virtual time and completes only when the
    virtual clock moves: with O(wait=true), or later with M(azsim.vmss.sim_clock)."
  - "A provider goes C(NotRegistered) -> C(Registering) -> C(Registered); a provider registration takes two
    minutes of virtual time (C(PT2M), a simulator setting: Azure gives no figure)."
  - "Automatic OS image upgrade of scale sets built from Azure Compute Gallery images needs the opt-in of their
    subscription: feature C(Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage) C(Registered), and then the
    C(Microsoft.Compute) provider registered again after that (a registration started before the feature was
    C(Registered) does not count). The defaults of this module, with O(register_provider=true), do exactly that;
    M(azsim.vmss.vmss_upgrade_policy) refuses gallery images until it is complete."
  - Registering a feature that is C(Registered) or C(Registering) changes nothing; so does unregistering one that is
    C(NotRegistered), C(Unregistered) or C(Unregistering).
options:
  namespace:
    description: The resource provider namespace of the feature, for example C(Microsoft.Compute).
    type: str
    default: Microsoft.Compute
  feature:
    description: The feature name.
    type: str
    default: AutomaticOSUpgradeWithGalleryImage
  state:
    description: V(registered) registers the feature, V(unregistered) unregisters it.
    type: str
    choices: [registered, unregistered]
    default: registered
  register_provider:
    description:
      - Register the provider O(namespace) again once the feature is C(Registered), unless its latest registration
        already started after that. While the feature is still C(Registering), the provider registration starts
        when the feature becomes C(Registered).
      - Ignored with O(state=unregistered).
    type: bool
    default: false
  wait:
    description:
      - Advance the virtual clock until the feature reached the target state (and, with O(register_provider=true),
        the provider registration that carries it finished). Everything else due meanwhile happens too (for
        example platform-started OS upgrades); see RV(events).
      - With V(false) the task returns at once with the feature C(Registering) or C(Unregistering).
    type: bool
    default: false
  registration_duration:
    description:
      - Virtual time a registration or unregistration started by this task takes, an ISO 8601 duration.
        Azure says up to 15 minutes. A simulator setting.
    type: str
    default: PT15M
attributes:
  diff_mode:
    details:
      - Returns C(diff) with the feature and its provider before and after the task, also in check mode. With
        O(wait=true), what else the platform did while the clock moved is in RV(events), not in the diff.
  idempotent:
    details:
      - Registering a feature that is C(Registered) or C(Registering), or unregistering one that is not registered,
        changes nothing; so does O(register_provider=true) once the provider was registered after the feature.
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.changes_store
  - azsim.vmss._attributes.idempotent
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Opt the subscription in to automatic OS image upgrades of gallery images, and wait for it
  azsim.vmss.feature_registration:
    register_provider: true
    wait: true
  register: opt_in

- name: Only start the registration; the clock completes it later
  azsim.vmss.feature_registration:
    namespace: Microsoft.Compute
    feature: AutomaticOSUpgradeWithGalleryImage
    subscription_id: 11111111-1111-1111-1111-111111111111

- name: Unregister the feature
  azsim.vmss.feature_registration:
    state: unregistered
    wait: true
"""

RETURN = r"""
feature:
  description: The feature in the REST shape of C(Microsoft.Features/providers/features).
  returned: success
  type: dict
  sample:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Features/providers/Microsoft.Compute/features/AutomaticOSUpgradeWithGalleryImage
    name: Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage
    type: Microsoft.Features/providers/features
    properties:
      state: Registered
provider:
  description: The feature's resource provider and its C(registrationState).
  returned: success
  type: dict
  sample:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Compute
    namespace: Microsoft.Compute
    registrationState: Registered
opt_in_complete:
  description:
    - Whether the feature is C(Registered) and the provider's latest registration started after that and
      finished. For the default feature, whether gallery images may use automatic OS image upgrade.
  returned: success
  type: bool
  sample: true
events:
  description:
    - What happened in the simulation during the task, oldest first, as in M(azsim.vmss.sim_clock)
      (C(FeatureRegistered), C(FeatureUnregistered), C(ProviderRegistrationStarted), C(ProviderRegistered), and
      with O(wait=true) anything else that fell due).
  returned: success
  type: list
  elements: dict
  sample:
    - time: "2025-01-01T00:15:00Z"
      type: FeatureRegistered
      subject: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Features/providers/\
        Microsoft.Compute/features/AutomaticOSUpgradeWithGalleryImage"
      feature: Microsoft.Compute/AutomaticOSUpgradeWithGalleryImage
      state: Registered
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.feature_registration import register_feature
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import AzsimModule


def main() -> None:
    module = AzsimModule(
        {
            "namespace": {"type": "str", "default": "Microsoft.Compute"},
            "feature": {"type": "str", "default": "AutomaticOSUpgradeWithGalleryImage"},
            "state": {"type": "str", "choices": ["registered", "unregistered"], "default": "registered"},
            "register_provider": {"type": "bool", "default": False},
            "wait": {"type": "bool", "default": False},
            "registration_duration": {"type": "str", "default": "PT15M"},
        }
    )
    module.run(register_feature)


if __name__ == "__main__":
    main()
