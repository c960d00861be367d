# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stored shape of a run: one OS upgrade or model rollout, as ``_engine.orchestrator`` keeps it.

A run is one JSON document in the ``runs`` table, written back by the fleet when the call commits.
It lives here, beside the scale set's record, because the fleet (this layer) caches and writes it;
the engine above is what changes it.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._model.faults import InstanceFaults
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import RollingPolicy
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import (
    ExtensionState,
    Health,
    OsDisk,
    ProvisioningState,
)

# azure-behaviour §3, run status (``runningStatus.code``).
RunStatus = Literal["RollingForward", "RollingBack", "Completed", "Faulted", "Cancelled"]
ACTIVE: tuple[RunStatus, ...] = ("RollingForward", "RollingBack")
# An OS image upgrade (§3, §4), a rollout of another model change (§4, model changes), or an extension
# rolling upgrade (part 2 §7: the same rolling slot and policy, never in osUpgradeHistory).
RunKind = Literal["os", "model", "extension"]
# ``startedBy`` in osUpgradeHistory (§5); the simulator never records Unknown.
StartedBy = Literal["User", "Platform"]
LastAction = Literal["Start", "Cancel"]

# Where an instance of the current batch is (design.md, timeline of a batch).
Phase = Literal["awaiting_approval", "reimaging", "booting", "restoring", "restored"]
# What became of an instance the run took on; in_progress until its batch decides.
OutcomeResult = Literal["in_progress", "upgraded", "failed", "rolled_back", "rollback_failed"]
FAILED_RESULTS: tuple[OutcomeResult, ...] = ("failed", "rolled_back", "rollback_failed")
# A batch's result once its last instance is decided; None before.
BatchResult = Literal["succeeded", "failed", "partially_failed"]

# The agenda's actions; the orchestrator's dispatch table (_Context.handlers) has one handler for each.
AgendaAction = Literal[
    "batch_start", "reimage_done", "healthy", "deadline", "restore_done", "breach_restore_done", "unhealthy"
]
# ``[time, seq, action, payload]``: a JSON array, so that heapq orders it by time, then seq. The payload
# is a list of instance ids, or for ``healthy`` of ``[instance id, epoch]`` pairs.
AgendaItem = list[Any]


class ErrorDetail(TypedDict):
    code: str
    target: str
    message: str


class ApiError(TypedDict):
    """Azure's ApiError (azure-behaviour §5): why a run faulted; ``target`` null as Azure sends it (part 2 ER-1)."""

    code: str
    target: str | None
    message: str
    details: list[ErrorDetail]


class SurgeOld(TypedDict):
    """With maxSurge, the old instance that keeps serving while its replacement is built (§3.4)."""

    os_disk: OsDisk
    previous_os_disk: OsDisk | None
    extensions: list[ExtensionState]
    health: Health
    provisioning_state: ProvisioningState
    model_version: int


class Flight(TypedDict):
    """An instance of the current batch (or being restored), until its outcome is decided."""

    phase: Phase
    # Bumped on every restore, so that a boot scheduled before it is recognised as stale.
    epoch: int
    old: SurgeOld | None
    # Its extensions failed because a credential expired (§4, credentials): no automatic rollback.
    credential: NotRequired[bool]


class Outcome(TypedDict):
    result: OutcomeResult
    batch: int
    resolved: NotRequired[int]
    failed_at: NotRequired[int]
    credential: NotRequired[bool]
    # maxSurge kept the old instance: nothing for a breach rollback to restore.
    kept_old: NotRequired[bool]


class Batch(TypedDict):
    index: int
    instances: list[str]
    zone: str | None
    update_domain: int
    start: int
    end: int | None
    result: BatchResult | None
    # Counted once, when the batch ends (failures change category only within their own batch).
    failed: NotRequired[int]


class Run(TypedDict):
    run_id: int
    kind: RunKind
    # In batches with health checks (OS upgrades, model rollouts in mode Rolling), or all at once.
    gated: bool
    started_by: StartedBy
    policy: RollingPolicy
    # Restore the previous OS disk of a failed instance (§3.5: platform runs, unless disabled).
    rollback: bool
    # osRollingUpgradeDeferral: instances wait for approval.
    deferral: bool
    target_version: str | None
    target_reference: dict[str, str]
    model_version: int
    status: RunStatus
    start: int
    end: int | None
    last_action: LastAction
    last_action_time: int
    # N of azure-behaviour §3: the instances when the run started.
    n: int
    pending: list[str]
    skipped: list[str]
    faults: dict[str, InstanceFaults]
    expired_extensions: list[str]
    outcome: dict[str, Outcome]
    flight: dict[str, Flight]
    batches: list[Batch]
    current_batch: int | None
    agenda: list[AgendaItem]
    seq: int
    cancel_requested: bool
    approved: list[str]
    error: ApiError | None
    # The error a breach rollback ends with once its instances are restored (§3.6).
    breach_error: ApiError | None
    rollback_errors: list[str]
    # An extension run started by the platform upgrades only the extensions with enableAutomaticUpgrade (EX-2).
    extensions: NotRequired[list[str]]
