# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

``render(report)`` is a pure function of the report's data (built by _actions/report.py from
timeline.run_picture): the same data gives the same bytes, so a report rewritten from an unchanged store
is byte-identical and the module stays idempotent. Times are the store's virtual clock, never the wall
clock.

Readable without colour: the palette is Okabe and Ito's (told apart with deuteranopia and protanopia),
and every phase also has its own fill pattern and a text label, every result a glyph and a word. A print
stylesheet keeps the colours and the patterns, and the SVGs carry a title and a description.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import datetime
from html import escape
from typing import Any, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._views.timeline import Row, RunPicture, Segment

GENERATOR = "azsim.vmss.vmss_upgrade_report"
ELLIPSIS = "\u2026"


class ScaleSetReport(TypedDict):
    id: str
    name: str
    resource_group: str
    location: str
    instance_count: int
    # Newest first.
    runs: list[RunPicture]


class Report(TypedDict):
    subscription_id: str
    resource_group: str
    # The virtual now the report was drawn at.
    now: int
    scale_sets: list[ScaleSetReport]


# Okabe-Ito colours; text colour chosen for contrast on each; the pattern tells them apart without colour.
PHASES: dict[str, dict[str, str]] = {
    "approval": {"label": "approval wait", "short": "approval", "fill": "#BBBBBB", "ink": "#000", "pattern": "lines"},
    "reimage": {"label": "reimage", "short": "reimage", "fill": "#0072B2", "ink": "#fff", "pattern": "none"},
    "surge": {"label": "surge: new VM built", "short": "surge", "fill": "#CC79A7", "ink": "#000", "pattern": "grid"},
    "boot": {"label": "boot", "short": "boot", "fill": "#56B4E9", "ink": "#000", "pattern": "diagonal"},
    "health_wait": {"label": "health wait", "short": "wait", "fill": "#F0E442", "ink": "#000", "pattern": "dots"},
    "restore": {
        "label": "restore (rollback)",
        "short": "restore",
        "fill": "#D55E00",
        "ink": "#000",
        "pattern": "cross",
    },
    "reboot": {"label": "boot after restore", "short": "boot", "fill": "#E69F00", "ink": "#000", "pattern": "back"},
}
RESULTS: dict[str, tuple[str, str, str]] = {
    # result: (glyph, words, colour)
    "upgraded": ("\u2713", "upgraded", "#007A5A"),
    "failed": ("\u2717", "failed", "#B34700"),
    "rolled_back": ("\u21ba", "rolled back", "#9A5B00"),
    "rollback_failed": ("\u2717\u21ba", "rollback failed", "#B34700"),
    "in_progress": ("\u25b6", "in progress", "#005A8C"),
    "pending": ("\u2026", "pending (not reached)", "#555"),
    "skipped": ("\u2013", "skipped (already on target)", "#555"),
    "rejected_by_hook": ("\u2298", "rejected by a lifecycle hook (old image kept)", "#555"),
    "protected": ("\u26e8", "protected from scale-set actions (old image kept)", "#555"),
    "skipped_by_application": ("\u2298", "SkipUpgrade reported by the application (old image kept)", "#555"),
}
STATUS: dict[str, str] = {
    "Completed": "\u2713",
    "Faulted": "\u2717",
    "Cancelled": "\u25a0",
    "RollingForward": "\u25b6",
    "RollingBack": "\u21ba",
}

WIDTH = 1000
LABEL_W = 230
RIGHT = 24
TOP = 52
ROW_H = 26
BAR_H = 16
BOTTOM = 14
# Beyond this many instances a run's picture draws the first ones and says how many it left out.
MAX_ROWS = 400
TICK_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _iso(t: int) -> str:
    return datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clock(t: int) -> str:
    moment = datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)
    return moment.strftime("%H:%M" if moment.second == 0 else "%H:%M:%S")


def _when(t: int) -> str:
    moment = datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M" if moment.second == 0 else "%Y-%m-%d %H:%M:%S")


def _span(seconds: int) -> str:
    """A duration for people: ``11 min``, ``1 h 5 min``, ``45 s``."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return " ".join(parts) or "0 s"


def _attr(value: Any) -> str:
    return escape(str(value), quote=True)


# -- the SVG -------------------------------------------------------------------------------------------------


def _defs(prefix: str) -> str:
    """The phases' overlay patterns: dark strokes on transparent, drawn over the phase's colour."""
    ink = "stroke='#000' stroke-opacity='0.45' stroke-width='1.3'"
    shapes = {
        "lines": f"<path d='M0 2H6' {ink}/>",
        "dots": "<circle cx='3' cy='3' r='1.1' fill='#000' fill-opacity='0.5'/>",
        "diagonal": f"<path d='M-1 1L1 -1M0 6L6 0M5 7L7 5' {ink}/>",
        "back": f"<path d='M-1 5L1 7M0 0L6 6M5 -1L7 1' {ink}/>",
        "cross": f"<path d='M0 0L6 6M6 0L0 6' {ink}/>",
        "grid": f"<path d='M0 0.5H6M0.5 0V6' {ink}/>",
        "pause": "<path d='M0 6L6 0' stroke='#666' stroke-width='1'/>",
    }
    patterns = "".join(
        f"<pattern id='{prefix}-{name}' width='6' height='6' patternUnits='userSpaceOnUse'>{shape}</pattern>"
        for name, shape in shapes.items()
    )
    return f"<defs>{patterns}</defs>"


class _Scale:
    def __init__(self, t0: int, t1: int) -> None:
        self.t0 = t0
        self.t1 = max(t1, t0 + 60)

    def x(self, t: int) -> float:
        return LABEL_W + (t - self.t0) * (WIDTH - LABEL_W - RIGHT) / (self.t1 - self.t0)

    def ticks(self) -> list[int]:
        span = self.t1 - self.t0
        step = next((s for s in TICK_STEPS if span / s <= 12), TICK_STEPS[-1] * (span // (TICK_STEPS[-1] * 12) + 1))
        first = -(-self.t0 // step) * step
        return list(range(first, self.t1 + 1, step))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _bounds(picture: RunPicture) -> tuple[int, int]:
    ends = [picture["start"], picture["end"] or picture["now"]]
    ends += [s["end"] for row in picture["rows"] for s in row["segments"]]
    ends += [b["end"] for b in picture["batches"] if b["end"] is not None]
    return picture["start"], max(ends)


def _segment(seg: Segment, scale: _Scale, y: float, prefix: str) -> str:
    phase = PHASES[seg["kind"]]
    x0, x1 = scale.x(seg["start"]), scale.x(seg["end"])
    width = max(x1 - x0, 1.5)
    title = f"{phase['label']}: {_clock(seg['start'])}\u2013{_clock(seg['end'])} ({_span(seg['end'] - seg['start'])})"
    if seg["open"]:
        title += ", still going"
    attrs = (
        f"class='seg seg-{seg['kind']}' data-kind='{seg['kind']}' data-start='{_iso(seg['start'])}' "
        f"data-end='{_iso(seg['end'])}' x='{_num(x0)}' y='{_num(y)}' width='{_num(width)}' height='{BAR_H}'"
    )
    out = f"<g><title>{escape(title)}</title><rect {attrs} fill='{phase['fill']}'/>"
    if phase["pattern"] != "none":
        out += (
            f"<rect x='{_num(x0)}' y='{_num(y)}' width='{_num(width)}' height='{BAR_H}' "
            f"fill='url(#{prefix}-{phase['pattern']})' aria-hidden='true'/>"
        )
    if width >= 7 * len(phase["short"]) + 6:
        out += (
            f"<text class='seg-label' x='{_num(x0 + width / 2)}' y='{_num(y + BAR_H - 4)}' "
            f"fill='{phase['ink']}' text-anchor='middle' aria-hidden='true'>{phase['short']}</text>"
        )
    return out + "</g>"


def _row(row: Row, index: int, scale: _Scale, prefix: str) -> str:
    y = TOP + index * ROW_H
    band = "#f4f4f4" if index % 2 else "none"
    glyph, words, colour = RESULTS[row["result"]]
    batch = f"batch {row['batch']}" if row["batch"] is not None else ""
    name = row["name"] if len(row["name"]) <= 24 else row["name"][:23] + "\u2026"
    phases = "; ".join(
        f"{PHASES[s['kind']]['label']} {_clock(s['start'])}\u2013{_clock(s['end'])}" for s in row["segments"]
    )
    title = f"{row['name']}: {words}" + (f", {batch}" if batch else "") + (f". {phases}" if phases else "")
    if row["kept_old"]:
        title += ". maxSurge kept the old VM"
    out = [
        f"<g class='instance-row' data-instance='{_attr(row['name'])}' data-instance-id='{_attr(row['instance_id'])}' "
        f"data-result='{row['result']}' data-batch='{row['batch'] if row['batch'] is not None else ''}'>",
        f"<title>{escape(title)}</title>",
        f"<rect class='row-band' x='0' y='{y}' width='{WIDTH}' height='{ROW_H}' fill='{band}'/>",
        f"<text class='row-name' x='8' y='{y + 17}'>{escape(name)}</text>",
        f"<text class='row-result' x='{LABEL_W - 8}' y='{y + 17}' text-anchor='end' fill='{colour}'>"
        f"{glyph} {escape(words.split(' (')[0])}</text>",
    ]
    bar_y = y + (ROW_H - BAR_H) / 2
    out += [_segment(seg, scale, bar_y, prefix) for seg in row["segments"]]
    for mark in row["marks"]:
        x = scale.x(mark["time"])
        symbol = {"healthy": "\u2713", "failed": "\u2717", "rollback_failed": "\u2717"}[mark["kind"]]
        fill = "#007A5A" if mark["kind"] == "healthy" else "#B34700"
        out.append(
            f"<text class='mark mark-{mark['kind']}' data-time='{_iso(mark['time'])}' x='{_num(x + 3)}' "
            f"y='{y + 18}' fill='{fill}'>{symbol}</text>"
        )
    if not row["segments"]:
        out.append(f"<text class='row-note' x='{LABEL_W + 6}' y='{y + 17}'>{escape(words)}</text>")
    out.append("</g>")
    return "".join(out)


def _batches(picture: RunPicture, scale: _Scale, height: int, prefix: str) -> str:
    out = []
    for batch in picture["batches"]:
        end = batch["end"] if batch["end"] is not None else picture["now"]
        x0, x1 = scale.x(batch["start"]), scale.x(end)
        shade = "#e8eef5" if batch["index"] % 2 else "#f3f0e6"
        out.append(
            f"<g class='batch' data-batch='{batch['index']}'><title>batch {batch['index']}: "
            f"{_clock(batch['start'])}\u2013{_clock(end)}, {escape(batch['result'])}</title>"
            f"<rect class='batch-band' x='{_num(x0)}' y='{TOP - 22}' width='{_num(max(x1 - x0, 1))}' "
            f"height='{height - TOP + 22}' fill='{shade}'/>"
            + (
                f"<text class='batch-label' x='{_num((x0 + x1) / 2)}' y='{TOP - 8}' text-anchor='middle'>"
                f"B{batch['index']}</text>"
                if x1 - x0 >= 22
                else ""
            )
            + "</g>"
        )
    for start, end in picture["pauses"]:
        x0, x1 = scale.x(start), scale.x(end)
        out.append(
            f"<g class='pause' data-start='{_iso(start)}' data-end='{_iso(end)}'><title>pause between batches: "
            f"{_span(end - start)}</title><rect x='{_num(x0)}' y='{TOP - 22}' width='{_num(x1 - x0)}' "
            f"height='{height - TOP + 22}' fill='url(#{prefix}-pause)'/>"
            + (
                f"<text class='batch-label' x='{_num((x0 + x1) / 2)}' y='{TOP - 8}' text-anchor='middle'>pause</text>"
                if x1 - x0 >= 40
                else ""
            )
            + "</g>"
        )
    breach = picture["breach_rollback_start"]
    if breach is not None:  # rollbackFailedInstancesOnPolicyBreach (azure-behaviour §3.6): RollingBack
        x0, x1 = scale.x(breach), scale.x(picture["end"] or picture["now"])
        out.append(
            f"<g class='rolling-back' data-start='{_iso(breach)}'><title>rolling back the failed instances</title>"
            f"<rect x='{_num(x0)}' y='{TOP - 22}' width='{_num(max(x1 - x0, 1))}' height='{height - TOP + 22}' "
            "fill='#fbe3d2'/>"
            + (
                f"<text class='batch-label' x='{_num((x0 + x1) / 2)}' y='{TOP - 8}' text-anchor='middle'>"
                "rollback</text>"
                if x1 - x0 >= 50
                else ""
            )
            + "</g>"
        )
    return "".join(out)


def _boundaries(picture: RunPicture, scale: _Scale, height: int) -> str:
    out = []
    for batch in picture["batches"]:
        edges = [("start", batch["start"])] + ([("end", batch["end"])] if batch["end"] is not None else [])
        for edge, t in edges:
            x = _num(scale.x(t))
            out.append(
                f"<line class='batch-boundary' data-batch='{batch['index']}' data-edge='{edge}' data-time='{_iso(t)}' "
                f"x1='{x}' x2='{x}' y1='{TOP - 22}' y2='{height}'/>"
            )
    return "".join(out)


def _axis(scale: _Scale, height: int) -> str:
    out = []
    for t in scale.ticks():
        x = _num(scale.x(t))
        out.append(
            f"<line class='tick' x1='{x}' x2='{x}' y1='{TOP}' y2='{height}'/>"
            f"<text class='tick-label' data-time='{_iso(t)}' x='{x}' y='{height + 12}' text-anchor='middle'>"
            f"{_clock(t)}</text>"
        )
    return "".join(out)


def _stop_marker(picture: RunPicture, scale: _Scale, height: int) -> str:
    stop = picture["stop"]
    if stop is None:
        return ""
    x = scale.x(stop["time"])
    label = (
        f"\u25a0 stopped after batch {stop['after_batch']}" if stop["after_batch"] else "\u25a0 stopped before batch 1"
    )
    if stop["status"] == "Cancelled":
        label = f"\u25a0 cancelled after batch {stop['after_batch']}"
    anchor, dx = ("end", -4) if x > WIDTH - 190 else ("start", 4)
    return (
        f"<g class='stop' data-time='{_iso(stop['time'])}' data-code='{_attr(stop['code'] or '')}'>"
        f"<line x1='{_num(x)}' x2='{_num(x)}' y1='{TOP - 30}' y2='{height}'/>"
        f"<text x='{_num(x + dx)}' y='{TOP - 30}' text-anchor='{anchor}'>{escape(label)}</text></g>"
    )


def _now_marker(picture: RunPicture, scale: _Scale, height: int) -> str:
    """A run still going: where the virtual now is, which its open bars end at."""
    if picture["status"] not in ("RollingForward", "RollingBack"):
        return ""
    x = scale.x(picture["now"])
    anchor, dx = ("end", -4) if x > WIDTH - 120 else ("start", 4)
    return (
        f"<g class='now' data-time='{_iso(picture['now'])}'><line x1='{_num(x)}' x2='{_num(x)}' y1='{TOP - 30}' "
        f"y2='{height}'/><text x='{_num(x + dx)}' y='{TOP - 30}' text-anchor='{anchor}'>"
        f"\u25b6 now {_clock(picture['now'])}</text></g>"
    )


def _describe(picture: RunPicture, scale_set: str) -> str:
    batches = picture["batches"]
    text = (
        f"Run {picture['run_id']} of {scale_set}: {picture['status']}, started by {picture['started_by']} at "
        f"{_when(picture['start'])}, {len(batches)} batch{'es' if len(batches) != 1 else ''}, "
        f"{len(picture['rows'])} instances, one row each. "
    )
    counts: dict[str, int] = {}
    for row in picture["rows"]:
        counts[row["result"]] = counts.get(row["result"], 0) + 1
    text += ", ".join(f"{n} {RESULTS[r][1].split(' (')[0]}" for r, n in counts.items()) + "."
    if picture["stop"]:
        text += f" {picture['stop']['message']}"
    return text


def timeline_svg(picture: RunPicture, scale_set: str, prefix: str) -> str:
    """One run's timeline: a row per instance, batch bands and boundaries, pauses, the stop, a virtual-time axis."""
    rows = picture["rows"][:MAX_ROWS]
    scale = _Scale(*_bounds(picture))
    height = TOP + max(len(rows), 1) * ROW_H
    total = height + BOTTOM + 14
    title = f"Timeline of run {picture['run_id']} of {scale_set}"
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='timeline' role='img' viewBox='0 0 {WIDTH} {total}' "
        f"width='{WIDTH}' height='{total}' aria-labelledby='{prefix}-title {prefix}-desc' "
        f"data-start='{_iso(scale.t0)}' data-end='{_iso(scale.t1)}' data-x0='{LABEL_W}' "
        f"data-x1='{WIDTH - RIGHT}' preserveAspectRatio='xMinYMin meet'>",
        f"<title id='{prefix}-title'>{escape(title)}</title>",
        f"<desc id='{prefix}-desc'>{escape(_describe(picture, scale_set))}</desc>",
        _defs(prefix),
        _batches(picture, scale, height, prefix),
        _axis(scale, height),
        f"<text class='axis-caption' x='8' y='{height + 12}'>virtual time (UTC)</text>",
        "".join(_row(row, i, scale, prefix) for i, row in enumerate(rows)),
        _boundaries(picture, scale, height),
        _stop_marker(picture, scale, height),
        _now_marker(picture, scale, height),
        "</svg>",
    ]
    return "".join(parts)


def legend_svg() -> str:
    """The phases' swatches, each with its pattern and its name."""
    prefix = "legend"
    items = []
    x = 8
    for kind, phase in PHASES.items():
        overlay = (
            f"<rect x='{x}' y='6' width='28' height='{BAR_H}' fill='url(#{prefix}-{phase['pattern']})'/>"
            if phase["pattern"] != "none"
            else ""
        )
        items.append(
            f"<g class='legend-item' data-kind='{kind}'><rect x='{x}' y='6' width='28' height='{BAR_H}' "
            f"fill='{phase['fill']}' stroke='#333' stroke-width='0.5'/>{overlay}"
            f"<text x='{x + 34}' y='18'>{escape(phase['label'])}</text></g>"
        )
        x += 54 + 7 * len(phase["label"])
    width = x
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='legend' role='img' aria-labelledby='legend-title' "
        f"viewBox='0 0 {width} 28' width='{width}' height='28'><title id='legend-title'>Legend: "
        + escape(", ".join(p["label"] for p in PHASES.values()))
        + f"</title>{_defs(prefix)}{''.join(items)}</svg>"
    )


# -- the page ------------------------------------------------------------------------------------------------


def _status(status: str) -> str:
    return f"<span class='status status-{status.lower()}'>{STATUS.get(status, '')} {escape(status)}</span>"


def _counters(picture: RunPicture) -> str:
    progress = picture["progress"]
    rollback = picture["rollback_info"]
    items = [
        ("successful", progress["successfulInstanceCount"]),
        ("failed", progress["failedInstanceCount"]),
        ("in progress", progress["inProgressInstanceCount"]),
        ("pending", progress["pendingInstanceCount"]),
        ("rolled back", rollback["successfullyRolledbackInstanceCount"]),
        ("rollback failed", rollback["failedRolledbackInstanceCount"]),
    ]
    cells = "".join(
        f"<div class='counter' data-counter='{_attr(label)}'><dt>{label}</dt><dd>{value}</dd></div>"
        for label, value in items
    )
    return f"<dl class='counters'>{cells}</dl>"


def _stop_text(picture: RunPicture) -> str:
    stop = picture["stop"]
    if stop is None:
        if picture["status"] in ("RollingForward", "RollingBack"):
            return (
                f"<p class='stop-reason running'>Still {escape(picture['status'])} at virtual time "
                f"{_when(picture['now'])}.</p>"
            )
        return ""
    where = f"after batch {stop['after_batch']}" if stop["after_batch"] else "before the first batch"
    verb = "Cancelled" if stop["status"] == "Cancelled" else "Stopped"
    code = f" <code>{escape(stop['code'])}</code>:" if stop["code"] else ""
    names = (
        f" <span class='stop-instances'>Instances named: {escape(', '.join(stop['instances']))}.</span>"
        if stop["instances"]
        else ""
    )
    rollback = ""
    if picture["breach_rollback_start"] is not None:
        rollback = (
            " The failed instances were then rolled back (rollbackFailedInstancesOnPolicyBreach), "
            f"{_clock(picture['breach_rollback_start'])}\u2013{_clock(picture['end'] or picture['now'])}."
        )
    return (
        f"<p class='stop-reason' data-code='{_attr(stop['code'] or '')}' data-after-batch='{stop['after_batch']}'>"
        f"<strong>\u25a0 {verb} {where}, at {_clock(stop['time'])}.</strong>{code} {escape(stop['message'])}"
        f"{names}{escape(rollback)}</p>"
    )


def _policy_text(picture: RunPicture) -> str:
    policy = picture["policy"]
    keys = (
        ("maxBatchInstancePercent", "batch %"),
        ("maxUnhealthyInstancePercent", "unhealthy %"),
        ("maxUnhealthyUpgradedInstancePercent", "unhealthy upgraded %"),
        ("pauseTimeBetweenBatches", "pause"),
        ("maxSurge", "maxSurge"),
        ("rollbackFailedInstancesOnPolicyBreach", "rollback on breach"),
    )
    return ", ".join(f"{label} {escape(str(policy[k]))}" for k, label in keys if k in policy)


def _batch_table(picture: RunPicture) -> str:
    if not picture["batches"]:
        return "<p class='empty'>No batch ran.</p>"
    rows = "".join(
        f"<tr data-batch='{b['index']}'><td>{b['index']}</td><td>{_clock(b['start'])}</td>"
        f"<td>{_clock(b['end']) if b['end'] is not None else ELLIPSIS}</td>"
        f"<td>{_span(b['end'] - b['start']) if b['end'] is not None else ''}</td>"
        f"<td>{escape(b['result'].replace('_', ' '))}</td><td>{escape(', '.join(b['instances']))}</td></tr>"
        for b in picture["batches"]
    )
    return (
        "<table class='batches'><caption>Batches</caption><thead><tr><th scope='col'>batch</th>"
        "<th scope='col'>start</th><th scope='col'>end</th><th scope='col'>took</th><th scope='col'>result</th>"
        f"<th scope='col'>instances</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _instance_table(picture: RunPicture) -> str:
    body = []
    for row in picture["rows"][:MAX_ROWS]:
        glyph, words, _colour = RESULTS[row["result"]]
        phases = "; ".join(
            f"{PHASES[s['kind']]['label']} {_clock(s['start'])}\u2013{_clock(s['end'])}" for s in row["segments"]
        )
        body.append(
            f"<tr data-instance='{_attr(row['name'])}'><th scope='row'>{escape(row['name'])}</th>"
            f"<td>{row['batch'] if row['batch'] is not None else ''}</td>"
            f"<td class='result-{row['result']}'>{glyph} {escape(words)}</td><td>{escape(phases)}</td></tr>"
        )
    return (
        f"<details class='instances' open><summary>Instances ({len(picture['rows'])})</summary>"
        "<table class='instances'><thead><tr><th scope='col'>instance</th><th scope='col'>batch</th>"
        f"<th scope='col'>result</th><th scope='col'>phases</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</details>"
    )


def _run(picture: RunPicture, scale_set: ScaleSetReport, slug: str) -> str:
    prefix = f"{slug}-run{picture['run_id']}"
    end = picture["end"]
    took = f", ended {_when(end)} ({_span(end - picture['start'])})" if end is not None else ", not ended yet"
    more = len(picture["rows"]) - MAX_ROWS
    # A page of 100,000 rows helps nobody: vmss_upgrade_history returns every instance's result.
    note = (
        f"<p class='note'>The picture and the table show the first {MAX_ROWS} instances; {more} more are left out "
        "(azsim.vmss.vmss_upgrade_history returns every instance's result).</p>"
    )
    return (
        f"<article class='run' id='{prefix}' data-run-id='{picture['run_id']}' data-status='{picture['status']}'>"
        f"<h3>Run {picture['run_id']} {_status(picture['status'])}</h3>"
        f"<p class='run-meta'>Started by {escape(picture['started_by'])} at {_when(picture['start'])}{took}; "
        f"target image version <code>{escape(picture['target_version'] or 'unchanged')}</code>. "
        f"Policy: {_policy_text(picture)}. Reimage {_span(picture['durations']['reimage'])}, "
        f"boot {_span(picture['durations']['boot'])}.</p>"
        f"{_stop_text(picture)}{_counters(picture)}"
        f"<figure class='chart'>{timeline_svg(picture, scale_set['name'], prefix)}"
        f"<figcaption>Each row is one instance of {escape(scale_set['name'])} in batch order; shaded bands are "
        "batches (B1, B2, \u2026), hatched bands pauses between them; \u2713 healthy, \u2717 failed its health "
        "check.</figcaption></figure>"
        f"{note if more > 0 else ''}{_batch_table(picture)}{_instance_table(picture)}</article>"
    )


def _history(scale_set: ScaleSetReport, slug: str) -> str:
    if not scale_set["runs"]:
        return "<p class='empty'>No OS image upgrade has run on this scale set.</p>"
    rows = []
    for p in scale_set["runs"]:
        progress = p["progress"]
        code = p["stop"]["code"] if p["stop"] and p["stop"]["code"] else ""
        rows.append(
            f"<tr data-run-id='{p['run_id']}'><td><a href='#{slug}-run{p['run_id']}'>{p['run_id']}</a></td>"
            f"<td>{_when(p['start'])}</td><td>{_when(p['end']) if p['end'] is not None else ELLIPSIS}</td>"
            f"<td>{_status(p['status'])}</td><td>{escape(p['started_by'])}</td>"
            f"<td><code>{escape(p['target_version'] or '')}</code></td>"
            f"<td>{progress['successfulInstanceCount']}</td><td>{progress['failedInstanceCount']}</td>"
            f"<td>{p['rollback_info']['successfullyRolledbackInstanceCount']}</td>"
            f"<td>{progress['pendingInstanceCount']}</td><td><code>{escape(code)}</code></td></tr>"
        )
    head = "".join(
        f"<th scope='col'>{h}</th>"
        for h in ("run", "start", "end", "status", "by", "target", "ok", "failed", "rolled back", "pending", "error")
    )
    return (
        f"<table class='history'><caption>Run history (newest first)</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _scale_set(scale_set: ScaleSetReport) -> str:
    slug = "ss-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in scale_set["name"].lower())
    return (
        f"<section class='scale-set' id='{slug}' data-scale-set='{_attr(scale_set['name'])}'>"
        f"<h2>Scale set {escape(scale_set['name'])}</h2>"
        f"<p class='meta'>{escape(scale_set['location'])}, {scale_set['instance_count']} instances. "
        f"<code class='rid'>{escape(scale_set['id'])}</code></p>"
        f"{_history(scale_set, slug)}{''.join(_run(p, scale_set, slug) for p in scale_set['runs'])}</section>"
    )


STYLE = """
:root{--ink:#1b1b1b;--muted:#555;--line:#c8c8c8;--accent:#0072B2;}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;color:var(--ink);
background:#fafafa}
header,main,footer{max-width:1060px;margin:0 auto;padding:0 24px}
header{padding-top:20px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:19px;margin:28px 0 6px;border-bottom:2px solid var(--accent);padding-bottom:3px}
h3{font-size:16px;margin:22px 0 4px}
p{margin:4px 0}
code{font:12.5px ui-monospace,"DejaVu Sans Mono",monospace}
.meta,.run-meta,.note,.empty,figcaption,footer{color:var(--muted)}
.rid{font-size:11.5px;word-break:break-all}
nav ul{margin:6px 0;padding-left:20px}
.run{background:#fff;border:1px solid var(--line);border-radius:6px;padding:10px 14px 12px;margin:14px 0}
.status{font-weight:600;padding:1px 8px;border-radius:10px;border:1.5px solid;font-size:13px;margin-left:6px}
.status-completed{color:#007A5A}.status-faulted{color:#B34700;border-style:dashed}
.status-cancelled{color:#555;border-style:dotted}.status-rollingforward,.status-rollingback{color:#005A8C}
.stop-reason{border-left:5px solid #D55E00;background:#fdf0e6;padding:6px 10px;margin:8px 0}
.stop-reason.running{border-left-color:#0072B2;background:#e8f1f8}
.counters{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.counter{border:1px solid var(--line);border-radius:5px;padding:2px 10px;min-width:92px;background:#fcfcfc}
.counter dt{font-size:11.5px;color:var(--muted)}.counter dd{margin:0;font-size:18px;font-weight:600}
figure{margin:8px 0;overflow-x:auto}
svg.timeline{display:block;max-width:100%;height:auto;font-size:12px;font-family:inherit}
svg.legend{font-size:12px;max-width:100%;height:auto}
.row-name{font-weight:600;fill:var(--ink)}.row-result{font-size:11.5px;font-weight:600}
.row-note{fill:var(--muted);font-style:italic}
.seg-label{font-size:10.5px;font-weight:600;pointer-events:none}
.batch-label{font-size:11px;font-weight:700;fill:#333}
.batch-boundary{stroke:#333;stroke-width:1;stroke-dasharray:2 2}
.tick{stroke:#000;stroke-opacity:.08}.tick-label,.axis-caption{font-size:10.5px;fill:var(--muted)}
.mark{font-size:12px;font-weight:700}
.now line{stroke:#0072B2;stroke-width:2;stroke-dasharray:1 3}.now text{fill:#005A8C;font-weight:700;font-size:12px}
.stop line{stroke:#D55E00;stroke-width:2.5;stroke-dasharray:6 3}.stop text{fill:#B34700;font-weight:700;font-size:12px}
table{border-collapse:collapse;margin:8px 0;font-size:13px;width:100%}
caption{text-align:left;font-weight:600;padding:2px 0}
th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #888;font-size:12px}
tbody tr:nth-child(even){background:#f6f6f6}
details summary{cursor:pointer;font-weight:600;margin-top:6px}
table.history td{white-space:nowrap}table.history td:last-child{white-space:normal;word-break:break-all}
.status{white-space:nowrap}
.result-upgraded{color:#007A5A}.result-failed,.result-rollback_failed{color:#B34700}
.result-rolled_back{color:#9A5B00}
footer{padding:18px 24px 30px;font-size:12px}
@media print{
  body{background:#fff;font-size:10.5pt}
  header,main,footer{max-width:none;padding:0}
  nav{display:none}
  .run{border:none;padding:0;margin:10pt 0}
  h2,h3,caption{break-after:avoid}thead{display:table-header-group}
  figure{overflow:visible;break-inside:avoid}
  svg.timeline{width:100%}
  table{break-inside:auto}tr{break-inside:avoid}
  details>summary{list-style:none}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  a{color:inherit;text-decoration:none}
}
@page{size:A4 landscape;margin:12mm}
"""


def render(report: Report) -> str:
    """The whole page; deterministic for the same report."""
    scope = escape(report["resource_group"])
    names = [s["name"] for s in report["scale_sets"]]
    nav = "".join(
        f"<li><a href='#ss-{''.join(c if c.isalnum() or c in '-_' else '-' for c in n.lower())}'>{escape(n)}</a></li>"
        for n in names
    )
    body = "".join(_scale_set(s) for s in report["scale_sets"])
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<meta name='generator' content='{GENERATOR}'>"
        f"<title>OS image upgrades: {scope}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>OS image upgrades in resource group {scope}</h1>"
        f"<p class='meta'>Subscription <code>{escape(report['subscription_id'])}</code>; drawn at virtual time "
        f"<time datetime='{_iso(report['now'])}'>{_when(report['now'])}</time> (UTC). All times are the "
        "simulator's virtual clock.</p>"
        f"<nav aria-label='Scale sets'><ul>{nav}</ul></nav>"
        f"<figure class='legend-figure'>{legend_svg()}</figure></header>"
        f"<main>{body}</main>"
        f"<footer>Written by {GENERATOR}. Colours from the Okabe\u2013Ito palette; every phase also has its own "
        "pattern and label, every result a symbol and a word.</footer></body></html>\n"
    )
