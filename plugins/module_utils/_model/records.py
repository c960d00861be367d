# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stored shapes of a scale set: its record and its instances.

A scale set is stored as one record (``scale_sets`` table) and one row per instance (``instances``).
``model`` is the VirtualMachineScaleSet resource in Azure's REST shape (camelCase); everything else
is the simulator's own. Secrets are never kept: ``extension_secrets`` holds only a fingerprint.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

OsType = Literal["linux", "windows"]
Health = Literal["Healthy", "Unhealthy", "Unknown", "Initializing"]
PowerState = Literal["running", "stopped", "deallocated"]
# Creating: a maxSurge instance being built beside the one it replaces (azure-behaviour-2 MS-6).
# Deleting: a maxSurge run's old instance waiting out its terminate notification (azure-behaviour-2 MS-6, MS-9).
ProvisioningState = Literal["Succeeded", "Failed", "Updating", "Creating", "Deleting"]


class RollingPolicy(TypedDict):
    """``rollingUpgradePolicy`` with every field present: the numbers a run goes by (azure-behaviour §1, §3)."""

    maxBatchInstancePercent: int
    maxUnhealthyInstancePercent: int
    maxUnhealthyUpgradedInstancePercent: int
    pauseTimeBetweenBatches: str
    enableCrossZoneUpgrade: bool
    prioritizeUnhealthyInstances: bool
    rollbackFailedInstancesOnPolicyBreach: bool
    maxSurge: bool


class InstanceFaults(TypedDict, total=False):
    """How one instance misbehaves in a run; what no rule picked it for is absent."""

    boot_unhealthy: bool
    slow_boot: int
    extension_failure: list[str]
    rollback_failure: bool
    unhealthy_at: int
    app_initializing: int


class HealthProbe(TypedDict):
    id: str
    protocol: str | None
    port: int | None
    request_path: str | None
    load_balancer_sku: str


class ServiceFabric(TypedDict):
    durability: str
    extension_durability: str
    stateless_only: bool


class ExtensionSecret(TypedDict, total=False):
    credential_expiry: int | None
    # _common.fingerprint's text, or UNKNOWN in a store migrated from schema 3 until the settings are given again.
    protected_settings_fingerprint: str | None


class Simulation(TypedDict):
    seed: int
    reimage_duration: str
    boot_duration: str
    first_rollout_delay: str
    rollout_delay: str
    faults: list[dict[str, Any]]
    # How many instances beyond N the subscription's quota has room for; none set: no limit (azure-behaviour-2
    # MS-7, the simulated quota a maxSurge batch is checked against).
    surge_quota: NotRequired[int]
    # What extension publishers released in the region, by "<publisher>.<type>" (azure-behaviour-2 EX-1).
    extension_versions: NotRequired[dict[str, list[str]]]
    # azure-behaviour-2 ER-7: how long a rolling upgrade may run before it times out; none set: never.
    run_timeout: NotRequired[str]
    # azure-behaviour-2 MS-2: preview features need their registration (maxSurge: MaxSurgeRollingUpgrade).
    strict_preview_features: NotRequired[bool]


class PlatformState(TypedDict):
    """What the platform last did on its own: the version it tried and when (azure-behaviour §4)."""

    last_target: str
    last_run_at: int


RepairAction = Literal["Replace", "Restart", "Reimage"]


class Repair(TypedDict):
    """A repair under way (azure-behaviour-2 AR-6): it ends, well or not, at ``until``."""

    action: RepairAction
    started: int
    until: int


class RepairsState(TypedDict):
    """What the repair engine keeps for a scale set with an automaticRepairsPolicy (azure-behaviour-2 §8)."""

    suspended: bool
    # Instance id -> when its grace period ends (AR-5): after creation, an upgrade, a repair.
    grace_until: dict[str, int]
    repairing: dict[str, Repair]
    # Host name (the slot a repair keeps) -> repairs in a row that ended unhealthy (AR-10).
    failures: dict[str, int]


class Record(TypedDict):
    model: dict[str, Any]
    api_version: str
    os_type: OsType
    health_probe: HealthProbe | None
    service_fabric: ServiceFabric | None
    extension_secrets: dict[str, ExtensionSecret]
    simulation: Simulation
    # Host name -> instance id, kept after scale-in so that a name keeps its id.
    instance_ids: dict[str, int]
    next_instance_id: int
    # Bumped on every change of the model that instances must take.
    model_version: int
    platform: NotRequired[PlatformState | None]
    automatic_os_upgrade_enabled_at: NotRequired[int | None]
    repairs: NotRequired[RepairsState]


class OsDisk(TypedDict):
    name: str
    image_version: str


class DataDisk(TypedDict):
    lun: int
    name: str
    disk_size_gb: int


class ExtensionState(TypedDict):
    name: str
    provisioning_state: str


class ProtectionPolicy(TypedDict):
    """Azure's ``protectionPolicy`` of a VMSS VM (azure-behaviour-2 IP-1)."""

    protectFromScaleIn: bool
    protectFromScaleSetActions: bool


class CustomMetrics(TypedDict):
    """What an instance's application reports through the rich-states health extension (AH-9): its phase
    (None: the last phase, AH-11) and whether to skip it (AH-13)."""

    phase_ordering_number: int | None
    skip_upgrade: bool


class Instance(TypedDict):
    """An instance with the public keys of design.md, plus what it runs and its disk generation."""

    instance_id: str
    name: str
    zone: str | None
    update_domain: int
    os_disk: OsDisk
    previous_os_disk: OsDisk | None
    data_disks: list[DataDisk]
    power_state: PowerState
    provisioning_state: ProvisioningState
    extensions: list[ExtensionState]
    health: Health
    model_version: int
    disk_generation: int
    # Present once the user sets it (IP-1: absent means unprotected); read it through _model/protection.py.
    protection_policy: NotRequired[ProtectionPolicy]
    # AH-9: present once the user sets what the application reports; read it through _model/custom_metrics.py.
    custom_metrics: NotRequired[CustomMetrics]
    # Extension name -> version installed, where it is not the model's typeHandlerVersion (EX-1).
    extension_versions: NotRequired[dict[str, str]]
