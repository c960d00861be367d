# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn what the rollout modules return into lines a person reads.

- ``rollout_timeline``: M(azsim.vmss.sim_clock)'s events as a timeline of the run (start, batches, rollback, end);
- ``rollout_outcome``: each instance's result and the run history, from M(azsim.vmss.vmss_upgrade_history);
- ``rollout_table``: the most recent run, its batches and each instance, from M(azsim.vmss.vmss_upgrade_history);
- ``upgrade_history_table``: the OS upgrade history of several scale sets, from a loop of
  M(azsim.vmss.vmss_upgrade_history).

Each builds rows of plain values first (the ``_..._rows`` and ``_run_summary`` functions), then aligns them with
plugin_utils._tables; the documentation of each filter is in the ``<filter>.yml`` file beside this one.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible_collections.azsim.vmss.plugins.plugin_utils._filter_input import expects
from ansible_collections.azsim.vmss.plugins.plugin_utils._tables import align, column_widths, format_row

RUN_ENDS = ("RollingUpgradeCompleted", "RollingUpgradeFaulted", "RollingUpgradeCancelled")
# Timeline lines start with HH:MM and two spaces; batch lines are indented as far, under the text.
_TIMELINE_INDENT = " " * len("00:00  ")


def _clock(timestamp: str | None) -> str:
    """HH:MM of an ISO 8601 timestamp (2025-01-01T03:00:00Z), '..' when there is none (still running)."""
    return timestamp[11:16] if timestamp else ".."


def _span(start: str | None, end: str | None) -> str:
    return f"{_clock(start)}-{_clock(end)}"


def _parse_time(timestamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


# -- sim_clock events ----------------------------------------------------------------------------------------------


def _timeline_entries(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The events that tell how a run goes, oldest first: ``started``, one ``batch`` per batch (with its end and
    result when the events include its completion), ``rolling_back`` and ``ended``. Other events are left out."""
    ends = {
        (event.get("subject"), event.get("run_id"), event["batch"]): event
        for event in events
        if event["type"] == "BatchCompleted"
    }
    entries: list[dict[str, Any]] = []
    for event in events:
        kind = event["type"]
        if kind == "RollingUpgradeStarted":
            entries.append({"kind": "started", "time": event["time"], "target_version": event.get("target_version")})
        elif kind == "BatchStarted":
            end = ends.get((event.get("subject"), event.get("run_id"), event["batch"]), {})
            entries.append(
                {
                    "kind": "batch",
                    "batch": event["batch"],
                    "start": event["time"],
                    "end": end.get("time"),
                    "instances": list(event["instances"]),
                    "result": end.get("result"),
                }
            )
        elif kind == "RollingBackStarted":
            entries.append({"kind": "rolling_back", "time": event["time"], "instances": list(event["instances"])})
        elif kind in RUN_ENDS:
            entries.append(
                {
                    "kind": "ended",
                    "time": event["time"],
                    "status": kind[len("RollingUpgrade") :],
                    "code": event.get("code"),
                }
            )
    return entries


def _batch_entry_cells(entry: Mapping[str, Any]) -> list[str]:
    return [
        f"batch {entry['batch']}",
        _span(entry["start"], entry["end"]),
        ", ".join(entry["instances"]),
        entry["result"] or "in progress",
    ]


@expects("the events list of azsim.vmss.sim_clock (each with time and type)")
def rollout_timeline(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """sim_clock events as lines: when the run starts, each batch with its times, instances and result, when the
    platform rolls instances back, and when the run ends."""
    entries = _timeline_entries(events)
    widths = column_widths([_batch_entry_cells(e) for e in entries if e["kind"] == "batch"])
    lines = []
    for entry in entries:
        kind = entry["kind"]
        if kind == "started":
            lines.append(f"{_clock(entry['time'])}  the platform starts the OS upgrade to {entry['target_version']}")
        elif kind == "batch":
            lines.append(format_row(_batch_entry_cells(entry), widths, _TIMELINE_INDENT))
        elif kind == "rolling_back":
            lines.append(f"{_clock(entry['time'])}  rolling back {', '.join(entry['instances'])}")
        else:
            code = f": {entry['code']}" if entry["code"] else ""
            lines.append(f"{_clock(entry['time'])}  the run ends {entry['status']}{code}")
    return lines


# -- vmss_upgrade_history ------------------------------------------------------------------------------------------


def _target(properties: Mapping[str, Any]) -> str:
    """The run's target: the platform image version, else the gallery image version's id, else '?'."""
    reference = properties.get("targetImageReference") or {}
    return str(reference.get("version") or reference.get("id") or "?")


def _run_summary(run: Mapping[str, Any]) -> dict[str, Any]:
    """The plain facts of one osUpgradeHistory entry (``{properties: ...}``): status, error code, who started it,
    start and end timestamps, whole minutes it took (None while it runs), target, and the instance counts."""
    properties = run["properties"]
    status = properties["runningStatus"]
    error = properties.get("error") or {}
    start, end = status["startTime"], status.get("endTime")
    return {
        "status": status["code"],
        "error": error.get("code"),
        "started_by": properties["startedBy"],
        "start": start,
        "end": end,
        "minutes": int((_parse_time(end) - _parse_time(start)).total_seconds() // 60) if end else None,
        "target": _target(properties),
        "upgraded": properties["progress"]["successfulInstanceCount"],
        "failed": properties["progress"]["failedInstanceCount"],
        "rolled_back": properties["rollbackInfo"]["successfullyRolledbackInstanceCount"],
    }


def _counts(run: Mapping[str, Any]) -> str:
    return f"{run['upgraded']} upgraded, {run['failed']} failed, {run['rolled_back']} rolled back"


def _batch_rows(batches: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """One row per batch of the most recent run: index, HH:MM-HH:MM, result, instances."""
    return [
        [str(b["index"]), _span(b["start"], b.get("end")), str(b["result"]), ", ".join(b["instances"])] for b in batches
    ]


def _instance_rows(instances: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """One row per instance: name, result, batch ('-' when none), image version, health."""
    return [
        [
            str(i["name"]),
            str(i["result"]),
            "-" if i.get("batch") is None else str(i["batch"]),
            str(i["os_disk"]["image_version"]),
            str(i["health"]),
        ]
        for i in instances
    ]


def _instances_by_result(instances: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """(result, names) for each result, results in alphabetical order, names in the instances' order."""
    ordered = sorted(instances, key=lambda i: str(i["result"]))
    return [
        (result, [str(i["name"]) for i in group])
        for result, group in itertools.groupby(ordered, key=lambda i: str(i["result"]))
    ]


_HISTORY = "the result registered from azsim.vmss.vmss_upgrade_history (history, batches, instances)"


@expects(_HISTORY)
def rollout_outcome(history: Mapping[str, Any]) -> list[str]:
    """Each instance's result, image version and health, then one line per run of the history, newest first."""
    # The heading doubles as the first column's header; the instances are indented under it.
    instance_rows = [[f"  {row[0]}", row[1], row[3], row[4]] for row in _instance_rows(history["instances"])]
    runs = [_run_summary(run) for run in history["history"]]
    run_rows = [
        [r["status"], _span(r["start"], r["end"]), f"startedBy {r['started_by']}", f"to {r['target']}: {_counts(r)}"]
        for r in runs
    ]
    return (
        align([["INSTANCES", "result", "image version", "health"], *instance_rows])
        + ["", "HISTORY (osUpgradeHistory, newest first)"]
        + align(run_rows, indent="  ")
    )


def _run_sentence(scale_set: str, run: Mapping[str, Any]) -> str:
    error = f" ({run['error']})" if run["error"] else ""
    return (
        f"{scale_set}: {run['status']}{error}, started by {run['started_by']}, {_span(run['start'], run['end'])}, "
        f"to {run['target']}: {_counts(run)}"
    )


@expects(_HISTORY)
def rollout_table(history: Mapping[str, Any], scale_set: str) -> list[str]:
    """The most recent run of SCALE_SET as one line, then a table of its batches and one of every instance."""
    runs = history["history"]
    lines = [_run_sentence(scale_set, _run_summary(runs[0])) if runs else f"{scale_set}: no OS upgrade run"]
    batch_rows = _batch_rows(history["batches"])
    if batch_rows:
        lines += ["", *align([["BATCH", "TIME", "RESULT", "INSTANCES"], *batch_rows])]
    instance_rows = _instance_rows(history["instances"])
    if instance_rows:
        lines += ["", *align([["INSTANCE", "RESULT", "BATCH", "IMAGE VERSION", "HEALTH"], *instance_rows])]
    return lines


_HISTORY_COLUMNS = ["STATUS", "BY", "START", "MIN", "TARGET", "UPGRADED", "FAILED", "ROLLED BACK", "ERROR"]


def _history_rows(runs: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """One row per run (newest first): status, who started it, start (date and HH:MM), minutes ('..' while it runs),
    target (a gallery image version's id shortened to what follows /images/), counts, error code."""
    rows = []
    for run in runs:
        r = _run_summary(run)
        target = r["target"].split("/images/", 1)[-1]
        rows.append(
            [
                r["status"],
                r["started_by"],
                r["start"][:16].replace("T", " "),
                ".." if r["minutes"] is None else str(r["minutes"]),
                target,
                str(r["upgraded"]),
                str(r["failed"]),
                str(r["rolled_back"]),
                r["error"] or "",
            ]
        )
    return rows


@expects(
    "the results of a loop of azsim.vmss.vmss_upgrade_history over scale set names (item, history, batches, "
    "instances, now)"
)
def upgrade_history_table(results: Sequence[Mapping[str, Any]], resource_group: str, name: str = "") -> list[str]:
    """For each scale set of RESULTS (NAME of RESOURCE_GROUP, or all of it): how many runs, then a table of the runs,
    the batches of the most recent one and its instances grouped by result."""
    if not results:
        return [f"{resource_group}{'/' + name if name else ''}: no scale set in the store"]
    lines: list[str] = []
    for result in results:
        runs = result["history"]
        lines.append(f"{resource_group}/{result['item']}: {len(runs)} OS upgrade run(s), virtual now {result['now']}")
        if runs:
            lines += align([_HISTORY_COLUMNS, *_history_rows(runs)], indent="  ")
        if result["batches"]:
            lines.append("  batches of the most recent run:")
            lines += align([[f"{index}.", *rest] for index, *rest in _batch_rows(result["batches"])], indent="    ")
            groups = [
                f"{res} {len(names)} ({', '.join(names)})" for res, names in _instances_by_result(result["instances"])
            ]
            lines.append(f"  instances: {'; '.join(groups)}")
    return lines


class FilterModule:
    """Rollout timelines and tables."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "rollout_timeline": rollout_timeline,
            "rollout_outcome": rollout_outcome,
            "rollout_table": rollout_table,
            "upgrade_history_table": upgrade_history_table,
        }
