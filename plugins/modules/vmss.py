#!/usr/bin/python
# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vmss
short_description: Create, update or delete a simulated virtual machine scale set and its instances
version_added: 0.1.0
description:
  - Manages a simulated Azure virtual machine scale set, its model (image, OS, extensions, health source,
    Service Fabric settings, zones, API version) and its instances, which are the hosts of your inventory
    (O(instances)).
  - On creation, options not given take their defaults. On update, options not given keep their current value.
  - Adding names to O(instances) scales out with instances on the model's current image (C(latest) is resolved
    through the image catalogue, see M(azsim.vmss.vm_image)); removing names scales in. An instance keeps its
    instance id for its host name across runs, also after it was removed and added again.
  - The upgrade policy is not set here; use M(azsim.vmss.vmss_upgrade_policy). A new scale set has Azure's
    defaults (C(mode=Manual), automatic OS upgrade off, rolling policy 20/20/20/PT0S).
  - A change of the model is recorded (instances show C(latest_model_applied=false)); how it reaches the
    instances follows the upgrade policy's mode.
  - While a rolling upgrade runs, in mode C(Rolling) or C(Automatic) a change of the model fails with Azure's 409
    C(OperationNotAllowed) and writes nothing (cancel the upgrade or wait for it); in mode C(Manual) it is accepted
    and touches no instance. Scaling is allowed, but not removing an instance of the batch being upgraded.
  - In mode C(Rolling) the model must keep a health source (O(health_probe) or the Application Health extension);
    removing the last one fails with Azure's 400 C(BadRequest).
options:
  state:
    description:
      - V(present) creates or updates the scale set.
      - V(absent) deletes it with everything of it (instances, runs and their history, pending events), so a scale
        set created again under the same name starts empty. Refused (409 C(OperationNotAllowed)) while a rolling
        upgrade runs; cancel it first with M(azsim.vmss.vmss_os_rolling_upgrade).
    type: str
    choices: [present, absent]
    default: present
  location:
    description:
      - Azure location. Defaults to C(eastus) on creation. A scale set cannot move; a different value on update
        is an error.
    type: str
  api_version:
    description:
      - The Compute API version the model is written against, C(YYYY-MM-DD). Defaults to C(2024-11-01) on creation.
      - One of the versions Azure's REST API specification publishes for scale sets, from C(2015-06-15) to
        C(2026-09-01) (a version that does not exist, such as C(2024-11-02), is refused, as Azure refuses it).
      - Decides which upgrade policy fields may be set (see M(azsim.vmss.vmss_upgrade_policy)).
    type: str
  os_type:
    description: The operating system of the image. Defaults to V(linux) on creation.
    type: str
    choices: [linux, windows]
  image:
    description:
      - The image reference. Required on creation.
      - Either O(image.publisher), O(image.offer), O(image.sku) and O(image.version), or O(image.id).
      - The image must be in the catalogue for the scale set's location (M(azsim.vmss.vm_image)).
    type: dict
    suboptions:
      publisher:
        description: Platform image publisher.
        type: str
      offer:
        description: Platform image offer.
        type: str
      sku:
        description: Platform image SKU.
        type: str
      version:
        description: Platform image version, C(Major.Minor.Build), or C(latest) (the default).
        type: str
      id:
        description:
          - Gallery image id, or gallery image version id (C(.../images/<image>/versions/<version>)).
          - Without a version the scale set follows the gallery's latest version in its location.
        type: str
  windows_configuration:
    description: Windows settings of the OS profile; only with O(os_type=windows).
    type: dict
    suboptions:
      enable_automatic_updates:
        description:
          - Windows Update inside the VM. When not set it stays unset in the model (Azure then defaults to true);
            enabling automatic OS image upgrade sets it to false.
        type: bool
      patch_mode:
        description: Guest patching mode.
        type: str
        choices: [Manual, AutomaticByOS, AutomaticByPlatform]
  extensions:
    description:
      - The extensions of the model, replacing the current list when given. Order of the list is the order they
        run in, except where O(extensions[].provision_after_extensions) says otherwise.
      - The Application Health extension (publisher C(Microsoft.ManagedServices), type C(ApplicationHealthLinux) or
        C(ApplicationHealthWindows)) is a health source.
    type: list
    elements: dict
    suboptions:
      name:
        description: Extension name, unique in the scale set.
        type: str
        required: true
      publisher:
        description: Extension publisher.
        type: str
        required: true
      type:
        description: Extension type.
        type: str
        required: true
      type_handler_version:
        description: Extension version, C(Major.Minor), for example C(1.0).
        type: str
        required: true
      provision_after_extensions:
        description: Names of extensions of this scale set that must be provisioned before this one. Cycles are errors.
        type: list
        elements: str
      settings:
        description: Public settings, returned as given.
        type: dict
      protected_settings:
        description:
          - Protected settings. Never stored, never returned; only a fingerprint is kept so that a change is seen.
        type: dict
      credential_expiry:
        description:
          - Virtual time (ISO 8601 UTC) at which a credential this extension uses (a SAS token, a certificate)
            expires. From then on the extension fails to provision on the instances it runs on.
        type: str
      enable_automatic_upgrade:
        description:
          - Azure's C(enableAutomaticUpgrade). In mode C(Rolling) or C(Automatic) the platform starts an extension
            rolling upgrade by itself when a newer version of this extension is released (see
            O(simulation.extension_versions)), once no other rolling upgrade runs; it upgrades only such extensions.
            In mode C(Manual) the new version reaches an instance only when the instance is updated.
        type: bool
  health_probe:
    description:
      - A load balancer health probe, the other health source. Either O(health_probe.id), or
        O(health_probe.protocol) and O(health_probe.port) (and O(health_probe.request_path) for HTTP(S)).
      - An empty dict removes the probe.
    type: dict
    suboptions:
      id:
        description: Resource id of the probe.
        type: str
      protocol:
        description: Probe protocol.
        type: str
        choices: [tcp, http, https]
      port:
        description: Probe port.
        type: int
      request_path:
        description: Path probed over HTTP(S), for example C(/health).
        type: str
      load_balancer_sku:
        description: SKU of the probe's load balancer; scale sets with several placement groups need Standard.
        type: str
        choices: [Standard, Basic]
        default: Standard
  service_fabric:
    description:
      - Makes the scale set a Service Fabric node type. Adds the Service Fabric node extension
        (C(ServiceFabricNode) or C(ServiceFabricLinuxNode), version 1.1) unless O(extensions) has one.
      - An empty dict removes the settings.
    type: dict
    suboptions:
      durability:
        description: Durability tier of the node type in the cluster. Defaults to V(Silver).
        type: str
        choices: [Bronze, Silver, Gold]
      extension_durability:
        description: Durability level in the extension's settings; defaults to O(service_fabric.durability).
        type: str
        choices: [Bronze, Silver, Gold]
      stateless_only:
        description: Whether the node type hosts only stateless services.
        type: bool
  single_placement_group:
    description: Whether the scale set is limited to one placement group. Defaults to true on creation.
    type: bool
  zones:
    description: Availability zones of the scale set. Instances not given a zone are spread over them by id.
    type: list
    elements: str
  instances:
    description:
      - The instances, each an inventory host name, for example C("{{ groups['web'] }}"), or a dict.
      - "A dict has C(name) (required), C(zone), C(update_domain) (0-19; default instance id modulo 5; not with
        O(orchestration_mode=Flexible)),
        C(health) (Healthy, Unhealthy, Unknown, Initializing), C(power_state) (running, stopped, deallocated),
        C(data_disks) (a list of C({lun, name, disk_size_gb})), C(protection) and C(custom_metrics). Other keys are
        errors."
      - "C(protection) is Azure's instance protection, C({from_scale_set_actions, from_scale_in}) (booleans, default
        false). Protected from scale-set actions, the instance is left alone by OS and model upgrades, maxSurge,
        reimage and C(update_instances) (naming it there is refused), and it cannot be removed from this list
        until that protection is cleared; it implies C(from_scale_in), which cannot then be false. Protected from
        scale-in only, it is upgraded as usual."
      - "C(custom_metrics) is what the instance's application reports through the rich-states (2.0) Application
        Health extension over http or https, C({phase_ordering_number, skip_upgrade}): rolling upgrades go phase by
        phase in ascending order (instances without a phase last, batches never mix phases), and C(skip_upgrade)
        leaves the instance out (result C(skipped_by_application)). A run reads them once, when it starts, and
        only from instances that are C(Healthy) then; without such an extension they are ignored."
      - A name is 1 to 255 printable characters without spaces, C(/), or control, zero-width or bidirectional
        characters (so that two hosts never print alike).
      - "A data disk C(name) follows Azure's rule for disks: 1 to 80 letters, digits, C(_), C(-) or C(.), starting
        with a letter or digit and not ending in C(-) or C(.); unique in the instance. Left out, it is
        C(<scale set>_<host>_disk<lun>)."
      - Zone and update domain are fixed once an instance exists; health, power state and data disks can be changed.
      - When not given, the instances stay as they are.
    type: list
    elements: raw
  update_instances:
    description:
      - Bring these instances (host names, or V(all)) to the scale set's current model, Azure's C(manualUpgrade),
        as needed in C(Manual) upgrade mode. Instances already on the current model are left alone.
      - The update takes C(reimage_duration) of virtual time, and the instances are healthy C(boot_duration) later;
        move the clock (M(azsim.vmss.sim_clock)) by both before relying on them.
      - In C(Automatic) mode a model change reaches every instance at once, in C(Rolling) mode in batches by the
        rolling upgrade policy, without this option.
    type: list
    elements: str
  lifecycle_hooks:
    description:
      - Azure's C(properties.lifecycleHooksProfile.lifecycleHooks), which needs O(api_version) 2025-11-01 or later.
        Platform-started automatic OS image upgrades wait for decisions on the events these hooks raise (see
        M(azsim.vmss.vmss_lifecycle_hook_event)). At most one hook per type. An empty list removes them all.
      - Changing hooks is not a model change; events already raised keep their own times and default action.
    type: list
    elements: dict
    suboptions:
      type:
        description:
          - V(UpgradeAutoOSScheduling) holds the start of each automatic OS upgrade; V(UpgradeAutoOSRollingBatchStarting)
            holds each of its batches.
        type: str
        required: true
        choices: [UpgradeAutoOSScheduling, UpgradeAutoOSRollingBatchStarting]
      wait_duration:
        description:
          - How long an event waits for decisions (ISO 8601) before O(lifecycle_hooks[].default_action) applies.
          - Defaults to V(PT1H) for Scheduling (at most V(P2D)) and V(PT30M) for batches (at most V(PT4H)).
        type: str
      default_action:
        description: What targets still waiting at the end of O(lifecycle_hooks[].wait_duration) get.
        type: str
        choices: [Approve, Reject]
        default: Approve
  automatic_repairs:
    description:
      - Azure's C(properties.automaticRepairsPolicy). Keys not given keep their current value; a new policy starts
        disabled with C(PT10M) and C(Replace).
      - Enabled, the platform repairs instances that are C(Unhealthy) or C(Unknown) (not C(Initializing)) once the
        grace period after their last state change (creation, upgrade, repair) has passed, at most 5% of the
        instances at a time (one at a time below 20), never a protected instance, nor one that a rolling upgrade
        is upgrading or waiting on; repairs go on for the others during a run.
      - Needs exactly one health source and no Service Fabric (Azure's 400 C(BadRequest)). To change
        C(repair_action) while enabled, disable first (Azure's 400 C(BadRequest)).
    type: dict
    suboptions:
      enabled:
        description: Whether automatic repairs run.
        type: bool
      grace_period:
        description: ISO 8601 duration from C(PT10M) to C(PT90M).
        type: str
      repair_action:
        description:
          - V(Replace) deletes the instance and creates a new one from the current model (new instance id, same
            host name); V(Reimage) gives it a new OS disk of its image version; V(Restart) restarts it.
          - Needs O(api_version) 2021-11-01 or later.
        type: str
        choices: [Replace, Reimage, Restart]
  terminate_notification:
    description:
      - Azure's C(virtualMachineProfile.scheduledEventsProfile.terminateNotificationProfile). Keys not given keep
        their current value; an empty dict removes the profile.
      - Enabled, an instance that a maxSurge rolling upgrade replaces is deleted only
        O(terminate_notification.not_before_timeout) after its replacement is healthy, and lists as C(Deleting)
        meanwhile (the scale set lists N + batch instances until then).
    type: dict
    suboptions:
      enable:
        description: Whether deletions wait for the terminate notification. Defaults to V(true) in a new profile.
        type: bool
      not_before_timeout:
        description: ISO 8601 duration from C(PT5M) to C(PT15M). Defaults to C(PT5M).
        type: str
  orchestration_service:
    description:
      - Azure's C(setOrchestrationServiceState) for C(AutomaticRepairs). V(suspended) stops new repairs (those under
        way finish); V(running) resumes them. Returned as RV(orchestration_services).
      - Suspending a service that is C(NotRunning) (policy disabled) is Azure's 409 C(OperationNotAllowed).
      - The platform suspends the service by itself after three repairs in a row of one instance that ended
        unhealthy.
    type: str
    choices: [running, suspended]
  orchestration_mode:
    description:
      - Azure's C(properties.orchestrationMode), chosen when the scale set is created and fixed after; a different
        value for an existing scale set is Azure's 409 C(PropertyChangeNotAllowed). Left out, a new scale set is
        V(Uniform) and an existing one keeps its mode.
      - V(Flexible) needs O(api_version) C(2021-03-01) or later and no O(service_fabric). Its instances are VMs
        named C({name}_{8 hex}) (from O(simulation.seed)), and that name is the instance id in every result and
        every C(instance_ids) option. Batches follow fault domains instead of update domains; C(mode=Rolling) and
        automatic OS upgrade need the Application Health extension (a load balancer probe is not enough);
        automatic OS upgrade needs the feature C(Microsoft.Compute/VmssFlexAutoOSUpgrade) registered and cannot
        be combined with C(maxSurge); instance protection needs O(api_version) C(2023-09-01) or later.
    type: str
    choices: [Uniform, Flexible]
  simulation:
    description:
      - Settings of the simulation. Keys not given keep their current value.
    type: dict
    suboptions:
      seed:
        description: Seed of every random choice for this scale set (fault selection, disk names). Defaults to 0.
        type: int
      reimage_duration:
        description: Time to reimage a batch (ISO 8601). Defaults to C(PT3M).
        type: str
      boot_duration:
        description: Time from the end of a reimage until the instance is healthy. Defaults to C(PT1M).
        type: str
      first_rollout_delay:
        description: Delay before the first platform-started OS upgrade after enablement. Defaults to C(PT3H).
        type: str
      rollout_delay:
        description: Delay before later platform-started OS upgrades. Defaults to C(PT30M).
        type: str
      surge_quota:
        description:
          - How many instances beyond the scale set's capacity the subscription's quota has room for (0 to 1000000).
          - Before each batch of a rolling upgrade with C(max_surge), Azure checks the quota for the batch's new
            instances; when it has no room the batch is upgraded in place instead, and later batches try again.
          - Not set (the default) means no limit; once set, give a large number to lift it.
        type: int
      strict_preview_features:
        description:
          - Whether features that were in preview need their subscription feature registered, as the preview did.
          - V(true) refuses turning C(max_surge) on (M(azsim.vmss.vmss_upgrade_policy)) until
            C(Microsoft.Compute/MaxSurgeRollingUpgrade) is C(Registered) (M(azsim.vmss.feature_registration)), with
            Azure's 400 C(BadRequest) "The subscription is not registered for feature ...".
          - Defaults to V(false), where no registration is needed, as Azure documents today.
        type: bool
      run_timeout:
        description:
          - How long a rolling upgrade (OS, rolling model update or extension run) may run, as an ISO 8601 duration
            such as C(PT2H). Azure does not document its own limit.
          - Once this much virtual time has passed since the run started, no new batch starts and the run ends
            C(Faulted) with C(RollingUpgradeTimeoutError) ("Rolling Upgrade timed out after hh:mm:ss.").
          - Not set (the default) means runs never time out.
        type: str
      faults:
        description:
          - Fault rules, each C({type, instances | probability, image_version, delay, extension, at}).
          - C(type) is C(boot_unhealthy), C(slow_boot) (with C(delay)), C(app_initializing) (with C(delay); the
            rich-states health extension reports C(Initializing) that long after boot, so the instance may miss
            the health wait of the larger of 5 minutes and the extension's C(gracePeriod)), C(extension_failure)
            (with C(extension)), C(rollback_failure), C(unhealthy_at) (with C(at), a duration from the run's start),
            C(repair_failure) (an automatic repair of the instance leaves it C(Unhealthy); it is retried after
            the grace period), or C(internal_execution_error) (with C(at); a rolling upgrade still going that long
            after its start starts no new batch and ends C(Faulted) with Azure's C(InternalExecutionError); it
            takes no C(instances)).
          - C(probability) (0.0 to 1.0) picks instances with the seed; C(image_version) limits the rule to runs
            towards that version.
        type: list
        elements: dict
      extension_versions:
        description:
          - The extension versions their publishers released in the scale set's region, a dict from
            C(<publisher>.<type>) to a list of versions such as C(1.2) or C(1.2.3). An extension gets the newest
            released version of its C(type_handler_version)'s major when an instance is created, reimaged or updated.
          - Releasing a newer version here leaves the instances on the one they have, until
            M(azsim.vmss.vmss_extension_upgrade) moves them (Azure's C(extensionRollingUpgrade)). Each instance's
            installed versions, where they differ from C(type_handler_version), are in its C(extension_versions).
        type: dict
attributes:
  diff_mode:
    details:
      - Returns C(diff) with the scale set, its instances and its simulation settings before and after the task (an
        empty dict where it does not exist), also in check mode; a model rollout it starts shows as
        C(rolling_upgrade_started) (the run's id) in the after state.
  idempotent:
    details:
      - O(update_instances) changes only instances not on the current model, so repeating it changes nothing.
extends_documentation_fragment:
  - azsim.vmss.common
  - azsim.vmss.common.scale_set
  - azsim.vmss.common.instances_output
  - azsim.vmss._attributes
  - azsim.vmss._attributes.action_group
  - azsim.vmss._attributes.in_worker
  - azsim.vmss._attributes.changes_store
  - azsim.vmss._attributes.idempotent
author:
  - azsim.vmss developers (@azsim)
"""

EXAMPLES = r"""
- name: Publish the image the scale set starts from
  azsim.vmss.vm_image:
    publisher: Canonical
    offer: ubuntu-24_04-lts
    sku: server
    version: 24.04.202501010

- name: A scale set whose instances are the hosts of the web group
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    image:
      publisher: Canonical
      offer: ubuntu-24_04-lts
      sku: server
      version: latest
    extensions:
      - name: health
        publisher: Microsoft.ManagedServices
        type: ApplicationHealthLinux
        type_handler_version: "2.0"
        settings: {protocol: http, port: 80, requestPath: /health}
    zones: ["1", "2", "3"]
    instances: "{{ groups['web'] | default(['web-01', 'web-02', 'web-03']) }}"
    simulation:
      seed: 42
      faults:
        - type: boot_unhealthy
          instances: [web-03]

- name: One instance described in full
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    instances:
      - web-01
      - web-02
      - name: web-03
        zone: "3"
        health: Unhealthy
        data_disks:
          - {lun: 0, disk_size_gb: 256}

- name: Keep web-03 out of upgrades, reimage and scale-in (instance protection)
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    instances:
      - web-01
      - web-02
      - name: web-03
        protection: {from_scale_set_actions: true}

- name: Renew an expired credential and deploy the model to every instance (Manual mode)
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    extensions:
      - name: health
        publisher: Microsoft.ManagedServices
        type: ApplicationHealthLinux
        type_handler_version: "2.0"
        settings: {protocol: http, port: 80, requestPath: /health}
      - name: config
        publisher: Microsoft.Azure.Extensions
        type: CustomScript
        type_handler_version: "2.1"
        protected_settings: {fileUris: ["https://example.blob.core.windows.net/c/setup.sh?sig=renewed"]}
        credential_expiry: "2026-01-01T00:00:00Z"
    update_instances: [all]

- name: Repair unhealthy instances by reimaging them, 15 minutes after their last change
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    automatic_repairs:
      enabled: true
      grace_period: PT15M
      repair_action: Reimage
  register: repairs

- name: The service runs
  ansible.builtin.assert:
    that: repairs.orchestration_services[0].serviceState == 'Running'

- name: Hold repairs during maintenance (Azure's setOrchestrationServiceState Suspend)
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    orchestration_service: suspended

- name: Resume them
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    orchestration_service: running

- name: Let that rollout finish (a scale set cannot be deleted while a rolling upgrade runs)
  azsim.vmss.sim_clock:
    advance: PT10M

- name: Delete it, with its runs and history
  azsim.vmss.vmss:
    resource_group: rg-web
    name: web
    state: absent
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
orchestration_services:
  description:
    - Azure's instance-view C(orchestrationServices), C([{serviceName, serviceState}]); C(serviceState) is
      C(Running), C(Suspended) or C(NotRunning). Empty without O(automatic_repairs).
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{serviceName: AutomaticRepairs, serviceState: Running}]
vmss:
  description:
    - The scale set in Azure's REST shape (C(Microsoft.Compute/virtualMachineScaleSets)), with
      C(properties.virtualMachineProfile) and C(properties.upgradePolicy). Protected settings are never included.
    - Null after O(state=absent).
  returned: always
  type: dict
  sample:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/web
    name: web
    location: eastus
    sku: {name: Standard_D2s_v3, tier: Standard, capacity: 3}
    properties:
      upgradePolicy: {mode: Manual}
instances:
  description: The instances, by instance id.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description:
        - Instance id, stable for a host name. With O(orchestration_mode=Flexible), the VM's name C({name}_{8 hex}),
          which every C(instance_ids) option takes.
      type: str
      returned: always
    name:
      description: Host name of the instance.
      type: str
      returned: always
    zone:
      description: Availability zone, or null.
      type: str
      returned: always
    update_domain:
      description: Update domain; null with O(orchestration_mode=Flexible), which has none.
      type: int
      returned: always
    fault_domain:
      description: Fault domain (instance slot modulo 3), which batches follow instead of update domains.
      type: int
      returned: with O(orchestration_mode=Flexible)
    os_disk:
      description: C({name, image_version}) of the current OS disk.
      type: dict
      returned: always
    previous_os_disk:
      description: The OS disk before the last upgrade, kept for a rollback; null when none.
      type: dict
      returned: always
    data_disks:
      description: Data disks, C({lun, name, disk_size_gb}); never touched by an OS upgrade.
      type: list
      elements: dict
      returned: always
    power_state:
      description: C(running), C(stopped) or C(deallocated).
      type: str
      returned: always
    health:
      description: C(Healthy), C(Unhealthy), C(Unknown) or C(Initializing).
      type: str
      returned: always
    provisioning_state:
      description:
        - Provisioning state of the instance; C(Creating) for an instance a maxSurge batch is creating beside the
          one it replaces (both have the same host name until the old one is deleted); C(Deleting) for that old one
          while it waits out O(terminate_notification).
      type: str
      returned: always
    extensions:
      description: C({name, provisioning_state}) of each extension, in the order they last ran.
      type: list
      elements: dict
      returned: always
    latest_model_applied:
      description: Whether the instance runs the scale set's current model.
      type: bool
      returned: always
    protection_policy:
      description: Azure's C({protectFromScaleSetActions, protectFromScaleIn}) of the instance; both false unless set.
      type: dict
      returned: always
    custom_metrics:
      description: C({phase_ordering_number, skip_upgrade}) the instance's application reports (O(instances)).
      type: dict
      returned: when set
    extension_versions:
      description:
        - Extension name to the version the instance runs, for the extensions whose version is not their
          C(type_handler_version) (see O(simulation.extension_versions)).
      type: dict
      returned: when an extension runs another version than its type_handler_version
rolling_upgrade:
  description:
    - When the task started a rollout of a model change (O(update_instances), or C(Automatic) or C(Rolling) mode),
      its status in the shape of C(rollingUpgrades/latest). Model rollouts are not OS upgrades and do not appear
      in the OS upgrade history.
  returned: when a model rollout started
  type: dict
simulator:
  description:
    - Settings that have no place in Azure's REST shape. C(api_version), C(os_type), C(health_probe),
      C(service_fabric), C(simulation), C(credential_expiry) per extension, C(model_version).
  returned: when O(state=present)
  type: dict
"""

from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import vmss_result
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import (
    AzsimModule,
    scale_set_argument_spec,
)


def main() -> None:
    dict_of = {"type": "dict"}
    module = AzsimModule(
        {
            **scale_set_argument_spec(),
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "return_all_instances": {"type": "bool", "default": False},
            "location": {"type": "str"},
            "api_version": {"type": "str"},
            "os_type": {"type": "str", "choices": ["linux", "windows"]},
            "image": {
                "type": "dict",
                "options": {
                    "publisher": {"type": "str"},
                    "offer": {"type": "str"},
                    "sku": {"type": "str"},
                    "version": {"type": "str"},
                    "id": {"type": "str"},
                },
            },
            "windows_configuration": {
                "type": "dict",
                "options": {
                    "enable_automatic_updates": {"type": "bool"},
                    "patch_mode": {"type": "str", "choices": ["Manual", "AutomaticByOS", "AutomaticByPlatform"]},
                },
            },
            "extensions": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "name": {"type": "str", "required": True},
                    "publisher": {"type": "str", "required": True},
                    "type": {"type": "str", "required": True},
                    "type_handler_version": {"type": "str", "required": True},
                    "provision_after_extensions": {"type": "list", "elements": "str"},
                    "settings": dict_of,
                    "protected_settings": {"type": "dict", "no_log": True},
                    "credential_expiry": {"type": "str"},
                    "enable_automatic_upgrade": {"type": "bool"},
                },
            },
            "health_probe": {
                "type": "dict",
                "options": {
                    "id": {"type": "str"},
                    "protocol": {"type": "str", "choices": ["tcp", "http", "https"]},
                    "port": {"type": "int"},
                    "request_path": {"type": "str"},
                    "load_balancer_sku": {"type": "str", "choices": ["Standard", "Basic"], "default": "Standard"},
                },
            },
            "service_fabric": {
                "type": "dict",
                "options": {
                    "durability": {"type": "str", "choices": ["Bronze", "Silver", "Gold"]},
                    "extension_durability": {"type": "str", "choices": ["Bronze", "Silver", "Gold"]},
                    "stateless_only": {"type": "bool"},
                },
            },
            "single_placement_group": {"type": "bool"},
            "zones": {"type": "list", "elements": "str"},
            "instances": {"type": "list", "elements": "raw"},
            "update_instances": {"type": "list", "elements": "str"},
            "lifecycle_hooks": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "type": {
                        "type": "str",
                        "required": True,
                        "choices": ["UpgradeAutoOSScheduling", "UpgradeAutoOSRollingBatchStarting"],
                    },
                    "wait_duration": {"type": "str"},
                    "default_action": {"type": "str", "choices": ["Approve", "Reject"], "default": "Approve"},
                },
            },
            "terminate_notification": {
                "type": "dict",
                "options": {"enable": {"type": "bool"}, "not_before_timeout": {"type": "str"}},
            },
            "automatic_repairs": {
                "type": "dict",
                "options": {
                    "enabled": {"type": "bool"},
                    "grace_period": {"type": "str"},
                    "repair_action": {"type": "str", "choices": ["Replace", "Reimage", "Restart"]},
                },
            },
            "orchestration_service": {"type": "str", "choices": ["running", "suspended"]},
            "orchestration_mode": {"type": "str", "choices": ["Uniform", "Flexible"]},
            "simulation": {
                "type": "dict",
                "options": {
                    "seed": {"type": "int"},
                    "reimage_duration": {"type": "str"},
                    "boot_duration": {"type": "str"},
                    "first_rollout_delay": {"type": "str"},
                    "rollout_delay": {"type": "str"},
                    "faults": {"type": "list", "elements": "dict"},
                    "surge_quota": {"type": "int"},
                    "run_timeout": {"type": "str"},
                    "strict_preview_features": {"type": "bool"},
                    "extension_versions": {"type": "dict"},
                },
            },
        }
    )
    module.run(vmss_result)


if __name__ == "__main__":
    main()
