# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stored shape of a run: one OS upgrade or model rollout, as ``_engine.orchestrator`` keeps it.

A run is one JSON document in the ``runs`` table, written back by the fleet when the call commits.
It lives here, beside the scale set's record, because the fleet (this layer) caches and writes it;
the engine above is what changes it.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, cast

from ansible_collections.azsim.vmss.plugins.module_utils._model.records import InstanceFaults, RollingPolicy

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
# deleting: maxSurge, the new instance is healthy and the old one waits out its terminate notification (MS-9).
Phase = Literal["awaiting_approval", "reimaging", "booting", "restoring", "restored", "deleting"]
# What became of an instance the run took on; in_progress until its batch decides.
# rejected_by_hook: a lifecycle-hook event rejected it (azure-behaviour-2 LH-16); neither successful nor failed.
OutcomeResult = Literal["in_progress", "upgraded", "failed", "rolled_back", "rollback_failed", "rejected_by_hook"]
FAILED_RESULTS: tuple[OutcomeResult, ...] = ("failed", "rolled_back", "rollback_failed")
# A batch's result once its last instance is decided; None before.
BatchResult = Literal["succeeded", "failed", "partially_failed"]

# The agenda's actions; the orchestrator's dispatch table (orchestrator.HANDLERS) has one handler for each.
AgendaAction = Literal[
    "batch_start",
    "reimage_done",
    "healthy",
    "deadline",
    "restore_done",
    "breach_restore_done",
    "unhealthy",
    "hook_decided",
    "old_deleted",
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


class Flight(TypedDict):
    """An instance of the current batch (or being restored), until its outcome is decided."""

    phase: Phase
    # Bumped on every restore, so that a boot scheduled before it is recognised as stale.
    epoch: int
    # maxSurge: the id of the new instance being created beside this one (azure-behaviour-2 MS-3).
    surge: NotRequired[str]
    # Its extensions failed because a credential expired (§4, credentials): no automatic rollback.
    credential: NotRequired[bool]
    # maxSurge: the new instance's creation failed (an extension did not provision): azure-behaviour-2 MS-8.
    creation_failed: NotRequired[bool]


class Outcome(TypedDict):
    result: OutcomeResult
    batch: int
    resolved: NotRequired[int]
    failed_at: NotRequired[int]
    credential: NotRequired[bool]
    # maxSurge deleted the new instance and kept the old one (MS-8): nothing for a breach rollback to restore.
    kept_old: NotRequired[bool]
    # maxSurge with a terminate notification: when the new instance became healthy; ``resolved`` is when the old
    # one was gone (MS-6, MS-9).
    healthy: NotRequired[int]


class Durations(TypedDict):
    """Seconds of a reimage and of a boot (``simulation.reimage_duration``, ``boot_duration``)."""

    reimage: int
    boot: int


class Batch(TypedDict):
    index: int
    instances: list[str]
    zone: str | None
    # None on Flexible, which has no update domains (azure-behaviour-2 FX-5): ``fault_domain`` instead.
    update_domain: int | None
    fault_domain: NotRequired[int]
    start: int
    end: int | None
    result: BatchResult | None
    # Counted once, when the batch ends (failures change category only within their own batch).
    failed: NotRequired[int]
    # maxSurge: new instances are created for this batch (false: its quota check failed, in place; MS-7).
    surge: NotRequired[bool]
    # The simulation's durations when the batch started: the scale set's may change later, and the report draws the
    # batch with the ones it ran with. Absent from runs stored before they were kept.
    durations: NotRequired[Durations]


class HeldBatch(TypedDict):
    """A batch chosen but held back by its lifecycle-hook event (azure-behaviour-2 LH-16); its instances stay
    pending meanwhile."""

    event: str
    instances: list[str]


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
    # azure-behaviour-2 IP-6/D5: instances the run leaves alone because they are protected from scale-set
    # actions (not candidates, in no progress counter, counted in ``n``). Absent in runs stored before.
    protected: NotRequired[list[str]]
    # AH-12, AH-13: the custom metrics read at run start: instances whose application reported SkipUpgrade (treated
    # like protected ones), and each candidate's phase (AH-11).
    skipped_by_application: NotRequired[list[str]]
    phases: NotRequired[dict[str, int]]
    # AH-5: seconds an upgraded instance has to become healthy (max(PT5M, gracePeriod) with rich health states).
    health_wait: NotRequired[int]
    # maxSurge: batched id -> id of the instance that replaced it (azure-behaviour-2 D10).
    replaced: NotRequired[dict[str, str]]
    hook_batch: NotRequired[HeldBatch | None]
    # An extension run started by the platform upgrades only the extensions with enableAutomaticUpgrade (EX-2).
    extensions: NotRequired[list[str]]
    # azure-behaviour-2 ER-7: seconds after its start when no new batch starts any more (simulation.run_timeout).
    timeout: NotRequired[int]
    # azure-behaviour-2 ER-8: seconds after its start an injected InternalExecutionError stops the run (fault rule).
    internal_error_at: NotRequired[int]


def is_active(run: Run | None) -> bool:
    """A run still going (azure-behaviour §3 ``runningStatus.code``). Kept here rather than in the engine so that
    what only asks this (conflicts, repairs, the platforms) need not import the orchestrator: a module runs from an
    AnsiballZ zip, where every file imported is compiled from source on each call."""
    return run is not None and run["status"] in ACTIVE


class _OutcomeKeys:
    """Its objects' ``__dict__`` is what ``new_outcome`` hands out (see there)."""


# CPython's key-sharing dictionaries (PEP 412, as _model/loaded_instances.compact does for instances): the outcomes
# share one table of their usual keys and hold only their values, about 110 bytes an outcome against 190 for a dict
# of its own; a run of the 1,000 x 1,000 fleet keeps a million of them until its call commits (issue 14, 1.5 GB).
_OUTCOME_TEMPLATE = _OutcomeKeys()
for _key in ("result", "batch", "resolved"):
    setattr(_OUTCOME_TEMPLATE, _key, None)


def new_outcome(result: OutcomeResult, batch: int) -> Outcome:
    """A new outcome ``{"result": result, "batch": batch}``: an ordinary dict, smaller (see _OUTCOME_TEMPLATE). A key
    outside the table (``failed_at``, ``credential``...) makes it a dict of its own: memory, not correctness."""
    outcome: dict[str, Any] = _OutcomeKeys().__dict__
    outcome["result"] = result
    outcome["batch"] = batch
    return cast(Outcome, outcome)
