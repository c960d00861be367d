# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run as a picture's data: each instance's phases on virtual time, the batches, pauses and the stop.

The run document keeps what Azure reports (batch start and end, each instance's result and when it was
decided) rather than every phase of every instance, so the phases are derived here from the engine's
timeline (docs/how-a-run-proceeds.md, rules 4-7; _engine/orchestrator.py):

    reimage (R) ── boot (B) ── healthy                                   upgraded
    reimage (R) ── boot (B) ── health wait ── deadline (5 min after R)   failed
                                                 └── restore (R) ── boot (B)    rolled back

An instance's reimage starts with its batch unless the run waits for approval (osRollingUpgradeDeferral):
then the wait is what is left between the batch start and the reimage, which is found back from when the
instance's outcome was decided. Pure functions: plain data in, plain data out.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import (
    FAILED_RESULTS,
    ApiError,
    Batch,
    Durations,
    Outcome,
    Run,
)
from ansible_collections.azsim.vmss.plugins.module_utils._views.runs import batched_ids, progress, rollback_info

# azure-behaviour §3.5: an instance not healthy 5 minutes after its reimage ends has failed (the engine's
# HEALTH_DEADLINE; repeated here because _views may not import _engine).
HEALTH_DEADLINE = 300

SegmentKind = Literal["approval", "reimage", "surge", "boot", "health_wait", "restore", "reboot"]
RowResult = Literal[
    "upgraded",
    "failed",
    "rolled_back",
    "rollback_failed",
    "in_progress",
    "pending",
    "skipped",
    "rejected_by_hook",
    "protected",
    "skipped_by_application",
]


class Segment(TypedDict):
    kind: SegmentKind
    start: int
    end: int
    # Still going at the virtual now: the bar ends at now.
    open: bool


class Mark(TypedDict):
    kind: Literal["healthy", "failed", "rollback_failed"]
    time: int


class Row(TypedDict):
    instance_id: str
    name: str
    batch: int | None
    result: RowResult
    zone: str | None
    update_domain: int | None
    segments: list[Segment]
    marks: list[Mark]
    # maxSurge discarded the new instance and kept the old one (azure-behaviour §3.4).
    kept_old: bool


class BatchSpan(TypedDict):
    index: int
    start: int
    end: int | None
    result: str
    instances: list[str]


class Stop(TypedDict):
    status: str
    time: int
    # The last batch that ran before the stop; 0 when the run stopped before its first batch.
    after_batch: int
    code: str | None
    message: str
    instances: list[str]


class RunPicture(TypedDict):
    run_id: int
    status: str
    started_by: str
    target_version: str | None
    start: int
    end: int | None
    now: int
    policy: dict[str, Any]
    progress: dict[str, int]
    rollback_info: dict[str, Any]
    batches: list[BatchSpan]
    pauses: list[tuple[int, int]]
    rows: list[Row]
    stop: Stop | None
    # Rolled back after a breach (rollbackFailedInstancesOnPolicyBreach, azure-behaviour §3.6): when it began.
    breach_rollback_start: int | None
    durations: Durations


def _due(run: Run, action: str, iid: str) -> int | None:
    """When the run's agenda has ``action`` due for ``iid`` (an instance still in flight)."""
    for when, _seq, item_action, payload in run["agenda"]:
        if item_action != action:
            continue
        ids = [p[0] if isinstance(p, list) else p for p in payload]
        if iid in ids:
            return int(when)
    return None


def _reimage_end(run: Run, iid: str, outcome: Outcome, durations: Durations) -> int | None:
    """When the instance's reimage ended (or will), from when its outcome was decided; None if not begun."""
    result = outcome["result"]
    resolved = outcome.get("healthy", outcome.get("resolved"))  # MS-9: healthy before the old one was gone
    if result == "upgraded" and resolved is not None:
        fault = run["faults"].get(iid, {})
        boot = max(durations["boot"], fault.get("slow_boot", 0)) + fault.get("app_initializing", 0)
        return resolved - boot
    failed_at = outcome.get("failed_at")
    wait = run.get("health_wait", HEALTH_DEADLINE)  # AH-5
    if result in FAILED_RESULTS and (failed_at is not None or resolved is not None):
        return (failed_at if failed_at is not None else int(resolved or 0)) - wait
    # Still in flight: the agenda knows what comes next.
    done = _due(run, "reimage_done", iid)
    if done is not None:
        return done
    deadline = _due(run, "deadline", iid)
    if deadline is not None:
        return deadline - wait
    if failed_at is not None:
        return failed_at - wait
    return None


def _clip(kind: SegmentKind, start: int, end: int, now: int, active: bool) -> list[Segment]:
    """One segment, cut at the virtual now while the run goes on; nothing if it has not begun."""
    if active and start >= now:
        return []
    if active and end > now:
        return [{"kind": kind, "start": start, "end": now, "open": True}]
    return [{"kind": kind, "start": start, "end": end, "open": False}] if end > start else []


def _restore(kind_end: int, start: int, result: str, durations: Durations, now: int, active: bool) -> list[Segment]:
    segments = _clip("restore", start, kind_end, now, active)
    if result == "rolled_back":  # the previous disk boots again (rule 5)
        segments += _clip("reboot", kind_end, kind_end + durations["boot"], now, active)
    return segments


def _row_segments(
    run: Run, iid: str, outcome: Outcome, batch: Batch, ctx: _RunContext
) -> tuple[list[Segment], list[Mark]]:
    # The durations the batch ran with: the scale set's simulation may have changed since (then only a run stored
    # before batches kept theirs is drawn with today's).
    durations, now, active = batch.get("durations", ctx.durations), ctx.now, ctx.active
    batch_start = batch["start"]
    reimage_end = _reimage_end(run, iid, outcome, durations)
    if reimage_end is None:  # waiting for approval since its batch began
        return _clip("approval", batch_start, now, now, active), []
    # An extension run updates an instance one extension at a time from its batch's start (part 2 EX-3).
    reimage_start = batch_start if run["kind"] == "extension" else max(batch_start, reimage_end - durations["reimage"])
    segments: list[Segment] = []
    if reimage_start > batch_start:  # osRollingUpgradeDeferral: the instance waited for approval
        segments += _clip("approval", batch_start, reimage_start, now, active)
    segments += _clip("surge" if run["policy"].get("maxSurge") else "reimage", reimage_start, reimage_end, now, active)
    result = outcome["result"]
    resolved = outcome.get("healthy", outcome.get("resolved"))  # MS-9: the old instance's deletion is not drawn
    boot_end = reimage_end + durations["boot"]
    marks: list[Mark] = []
    if result == "upgraded" and resolved is not None:
        segments += _clip("boot", reimage_end, min(boot_end, resolved), now, active)
        segments += _clip("health_wait", boot_end, resolved, now, active)  # a slow boot
        marks.append({"kind": "healthy", "time": resolved})
        return segments, marks
    deadline = reimage_end + run.get("health_wait", HEALTH_DEADLINE)  # AH-5
    segments += _clip("boot", reimage_end, min(boot_end, deadline), now, active)
    segments += _clip("health_wait", boot_end, deadline, now, active)
    if result not in FAILED_RESULTS:
        return segments, marks
    marks.append({"kind": "failed", "time": deadline})
    failed_at = outcome.get("failed_at")
    if failed_at is not None:  # restored within its batch (platform run, rule 5)
        restore_end = resolved if resolved is not None and result != "in_progress" else failed_at + durations["reimage"]
        segments += _restore(restore_end, failed_at, result, durations, now, active)
    elif result in ("rolled_back", "rollback_failed") and ctx.breach_start is not None:
        # Rolled back after the breach (§3.6): restored together once the last batch ended.
        end = run["end"] if run["end"] is not None else ctx.breach_start + durations["reimage"]
        segments += _restore(end, ctx.breach_start, result, durations, now, active)
    if result == "rollback_failed":
        marks.append({"kind": "rollback_failed", "time": segments[-1]["end"]})
    return segments, marks


class _RunContext:
    def __init__(self, run: Run, durations: Durations, now: int) -> None:
        self.durations = durations
        self.now = now
        self.active = run["status"] in ("RollingForward", "RollingBack")
        self.breach_start = _breach_start(run)


def _breach_start(run: Run) -> int | None:
    """A breach rollback (§3.6) starts when the last batch ends, as the post-batch check that breached."""
    if run["breach_error"] is None or not run["batches"]:
        return None
    return run["batches"][-1]["end"]


def _stop(run: Run, by_id: dict[str, Instance]) -> Stop | None:
    """Where the run stopped and why (how-a-run-proceeds, "How a run ends"); None unless Faulted or Cancelled."""
    status = run["status"]
    if status not in ("Faulted", "Cancelled") or run["end"] is None:
        return None
    ran = [b for b in run["batches"] if b["end"] is not None]
    error: ApiError | None = run["error"]
    if status == "Cancelled":
        message = "Cancelled: the batch in flight finished and no new batch started."
        return {
            "status": status,
            "time": run["end"],
            "after_batch": len(ran),
            "code": None,
            "message": message,
            "instances": [],
        }
    names: list[str] = []
    for detail in error["details"] if error else []:
        iid = detail["target"].rsplit("/", 1)[-1]
        names.append(by_id[iid]["name"] if iid in by_id else iid)
    last_end = ran[-1]["end"] if ran else None
    return {
        "status": status,
        # A breach rollback happens after the stop decision: the stop is where the last batch ended.
        "time": last_end if last_end is not None and run["breach_error"] is not None else run["end"],
        "after_batch": len(ran),
        "code": error["code"] if error else None,
        "message": error["message"] if error else "",
        "instances": names,
    }


def run_picture(run: Run, instances: list[Instance], durations: Durations, now: int) -> RunPicture:
    """What the report draws of one OS upgrade run: rows in batch order, then pending, then skipped. ``durations``
    are the scale set's now, for a run with no batch yet or one stored before batches kept theirs."""
    by_id = {i["instance_id"]: i for i in instances}
    # maxSurge (azure-behaviour-2 D10): the run keeps its rows under the ids it batched, and the instance
    # that replaced one carries its host name and zone.
    for new, old in batched_ids(run).items():
        if new in by_id:
            by_id.setdefault(old, by_id[new])
    ctx = _RunContext(run, durations, now)
    rows: list[Row] = []
    for batch in run["batches"]:
        for iid in batch["instances"]:
            outcome = run["outcome"].get(iid)
            if outcome is None:
                continue
            segments, marks = _row_segments(run, iid, outcome, batch, ctx)
            rows.append(_row(iid, by_id, batch["index"], outcome["result"], segments, marks, outcome))
    for iid in run["pending"]:
        rows.append(_row(iid, by_id, None, "pending", [], [], None))
    # azure-behaviour-2 LH-16: instances a lifecycle-hook event rejected left the run before their batch.
    for iid in sorted((i for i, o in run["outcome"].items() if o["result"] == "rejected_by_hook"), key=int):
        rows.append(_row(iid, by_id, None, "rejected_by_hook", [], [], None))
    # azure-behaviour-2 IP-6: protected instances were never candidates.
    for iid in run.get("protected", []):
        rows.append(_row(iid, by_id, None, "protected", [], [], None))
    for iid in run.get("skipped_by_application", []):  # AH-13
        rows.append(_row(iid, by_id, None, "skipped_by_application", [], [], None))
    for iid in sorted(run["skipped"], key=int):
        rows.append(_row(iid, by_id, None, "skipped", [], [], None))
    batches: list[BatchSpan] = [
        {
            "index": b["index"],
            "start": b["start"],
            "end": b["end"],
            "result": b["result"] or "in_progress",
            "instances": [by_id[i]["name"] if i in by_id else i for i in b["instances"]],
        }
        for b in run["batches"]
    ]
    pauses = [
        (prev["end"], nxt["start"])
        for prev, nxt in zip(run["batches"], run["batches"][1:])
        if prev["end"] is not None and nxt["start"] > prev["end"]
    ]
    return {
        "run_id": run["run_id"],
        "status": run["status"],
        "started_by": run["started_by"],
        "target_version": run["target_version"],
        "start": run["start"],
        "end": run["end"],
        "now": now,
        "policy": dict(run["policy"]),
        "progress": progress(run),
        "rollback_info": rollback_info(run),
        "batches": batches,
        "pauses": pauses,
        "rows": rows,
        "stop": _stop(run, by_id),
        "breach_rollback_start": ctx.breach_start,
        "durations": run["batches"][0].get("durations", durations) if run["batches"] else durations,
    }


def _row(
    iid: str,
    by_id: dict[str, Instance],
    batch: int | None,
    result: RowResult,
    segments: list[Segment],
    marks: list[Mark],
    outcome: Outcome | None,
) -> Row:
    instance = by_id.get(iid)
    return {
        "instance_id": iid,
        # An instance scaled in since the run keeps its row, under its id.
        "name": instance["name"] if instance else f"instance {iid} (removed)",
        "batch": batch,
        "result": result,
        "zone": instance["zone"] if instance else None,
        "update_domain": instance["update_domain"] if instance else None,
        "segments": segments,
        "marks": marks,
        "kept_old": bool(outcome and outcome.get("kept_old")),
    }
