# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade report: each instance's phases derived from a run (docs/how-a-run-proceeds.md rules 4-7,
azure-behaviour §3), where a run stopped and why, the HTML page, and the action that writes it."""

from __future__ import annotations

import copy
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.report import gather, upgrade_report
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._model import scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.plugins.module_utils._views import report_html
from ansible_collections.azsim.vmss.plugins.module_utils._views.report_html import Report, render
from ansible_collections.azsim.vmss.plugins.module_utils._views.timeline import RunPicture
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import SUB, Sim, fault, make_sim, sim  # noqa: F401 pylint: disable=unused-import

UPGRADED = "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
DURING = "MaxUnhealthyInstancePercentExceededInRollingUpgrade"
BEFORE = "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"


def report_of(sim: Sim, runs: int = 5, name: str | None = "web") -> Report:
    def read(store: Store) -> Report:
        records = scaleset.list_records(store, SUB, "rg")
        chosen = [r for r in records if name is None or r["model"]["name"] == name]
        return gather(Call(store, SUB), chosen, runs)[0]

    return sim.call(read, commit=False)


def latest(sim: Sim) -> RunPicture:
    return report_of(sim)["scale_sets"][0]["runs"][0]


def minutes(t: int) -> float:
    return (t - EPOCH) / 60


def phases(picture: RunPicture, name: str) -> list[tuple[str, float, float]]:
    row = next(r for r in picture["rows"] if r["name"] == name)
    return [(s["kind"], minutes(s["start"]), minutes(s["end"])) for s in row["segments"]]


def result_of(picture: RunPicture, name: str) -> str:
    return next(r["result"] for r in picture["rows"] if r["name"] == name)


# -- scenarios: ten instances w0..w9, batches (w0, w5), (w1, w6), ... of 4 minutes each (how-a-run-proceeds) --


def manual(sim: Sim, faults: list[dict[str, Any]] | None = None, **rolling: Any) -> None:
    sim.vmss(10, simulation={"faults": faults} if faults else None)
    if rolling:
        sim.rolling(**rolling)
    sim.publish("1.1.0")
    sim.start()


def platform(sim: Sim, faults: list[dict[str, Any]] | None = None) -> None:
    """An automatic run: starts at 03:00 (first_rollout_delay), restores failed instances (rule 5)."""
    sim.vmss(10, simulation={"faults": faults} if faults else None)
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT4H")


def deferred(sim: Sim) -> None:
    """osRollingUpgradeDeferral: batch 1 starts at 03:00, its instances are approved at 04:00."""
    sim.vmss(10)
    sim.enable_automatic(os_rolling_upgrade_deferral=True)
    sim.publish("1.1.0")
    sim.advance("PT4H")
    sim.approve(["w0", "w5"])
    sim.advance("PT4M")


def in_flight(sim: Sim) -> None:
    sim.vmss(10)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT1M")


PHASE_CASES: list[tuple[str, Callable[[Sim], None], str, str, list[tuple[str, float, float]]]] = [
    ("clean first batch", manual, "w0", "upgraded", [("reimage", 0, 3), ("boot", 3, 4)]),
    ("clean last batch", manual, "w9", "upgraded", [("reimage", 16, 19), ("boot", 19, 20)]),
    (
        "manual run keeps a failed instance (rule 5)",
        lambda s: manual(s, [fault("boot_unhealthy", instances=["w3"])]),
        "w3",
        "failed",
        [("reimage", 12, 15), ("boot", 15, 16), ("health_wait", 16, 20)],
    ),
    (
        "platform run restores it, then it boots again (rule 5)",
        lambda s: platform(s, [fault("boot_unhealthy", instances=["w3"])]),
        "w3",
        "rolled_back",
        [
            ("reimage", 192, 195),
            ("boot", 195, 196),
            ("health_wait", 196, 200),
            ("restore", 200, 203),
            ("reboot", 203, 204),
        ],
    ),
    (
        "a restore that fails does not boot again",
        lambda s: platform(s, [fault("boot_unhealthy", instances=["w3"]), fault("rollback_failure", instances=["w3"])]),
        "w3",
        "rollback_failed",
        [("reimage", 192, 195), ("boot", 195, 196), ("health_wait", 196, 200), ("restore", 200, 203)],
    ),
    (
        "a slow boot waits for health beyond the boot time",
        lambda s: manual(s, [fault("slow_boot", instances=["w0"], delay="PT3M")]),
        "w0",
        "upgraded",
        [("reimage", 0, 3), ("boot", 3, 4), ("health_wait", 4, 6)],
    ),
    (
        "a breach rolls the failed instances back after the last batch (§3.6)",
        lambda s: manual(
            s,
            [fault("boot_unhealthy", instances=["w0", "w1", "w2"])],
            rollback_failed_instances_on_policy_breach=True,
        ),
        "w0",
        "rolled_back",
        [("reimage", 0, 3), ("boot", 3, 4), ("health_wait", 4, 8), ("restore", 24, 27), ("reboot", 27, 28)],
    ),
    (
        "deferral: the approval wait before the reimage",
        deferred,
        "w0",
        "upgraded",
        [("approval", 180, 240), ("reimage", 240, 243), ("boot", 243, 244)],
    ),
    (
        "maxSurge builds a new VM instead of reimaging (§3.4)",
        lambda s: manual(s, max_surge=True),
        "w0",
        "upgraded",
        [("surge", 0, 3), ("boot", 3, 4)],
    ),
    ("a run in flight is drawn up to the virtual now", in_flight, "w0", "in_progress", [("reimage", 0, 1)]),
    (
        "an instance not reached has no phase",
        lambda s: manual(s, [fault("boot_unhealthy", instances=["w0", "w1", "w2"])]),
        "w4",
        "pending",
        [],
    ),
]


@pytest.mark.parametrize(
    ("scenario", "name", "result", "expected"),
    [(c[1], c[2], c[3], c[4]) for c in PHASE_CASES],
    ids=[c[0] for c in PHASE_CASES],
)
def test_instance_phases_follow_the_runs_rules(
    sim: Sim, scenario: Callable[[Sim], None], name: str, result: str, expected: list[tuple[str, float, float]]
) -> None:
    scenario(sim)
    picture = latest(sim)
    assert result_of(picture, name) == result
    assert phases(picture, name) == expected


def test_a_run_is_drawn_with_the_durations_its_batches_ran_with(sim: Sim) -> None:
    """The simulation's durations may change after a batch (or after the run): the engine uses the new ones from the
    next batch on, and the report draws each batch with the ones it ran with, not the scale set's current ones."""
    sim.vmss(10)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT5M")  # batch 1 (w0, w5) ran 00:00-00:04 with PT3M + PT1M; batch 2's reimage began at 00:04
    sim.vmss(simulation={"reimage_duration": "PT10M", "boot_duration": "PT2M"})
    sim.advance("PT1H")  # batch 2 boots with the new boot time at 00:07; batch 3 starts with both new ones
    sim.vmss(simulation={"reimage_duration": "PT20M", "boot_duration": "PT5M"})  # after the run: changes nothing
    picture = latest(sim)
    assert picture["status"] == "Completed"
    assert phases(picture, "w0") == [("reimage", 0, 3), ("boot", 3, 4)]
    assert phases(picture, "w1") == [("reimage", 4, 7), ("boot", 7, 9)]
    assert phases(picture, "w2") == [("reimage", 9, 19), ("boot", 19, 21)]
    assert picture["durations"] == {"reimage": 180, "boot": 60}  # the run's first batch's, in the page's caption


def test_an_open_segment_is_marked_as_still_going(sim: Sim) -> None:
    in_flight(sim)
    row = next(r for r in latest(sim)["rows"] if r["name"] == "w0")
    assert [s["open"] for s in row["segments"]] == [True]


def test_rows_are_in_batch_order_then_skipped(sim: Sim) -> None:
    """Instances already on the target version are skipped (rule 3): drawn last, without phases."""
    sim.vmss(10)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT1M")
    sim.cancel(wait=False)
    sim.advance("PT1H")  # batch 1 (w0, w5) finished: they run 1.1.0
    sim.start()
    picture = latest(sim)
    names = [r["name"] for r in picture["rows"]]
    assert names == ["w1", "w6", "w2", "w7", "w3", "w8", "w4", "w9", "w0", "w5"]
    assert [r["result"] for r in picture["rows"][-2:]] == ["skipped", "skipped"]
    assert all(not r["segments"] for r in picture["rows"][-2:])


STOP_CASES: list[tuple[str, Callable[[Sim], Any], dict[str, Any] | None]] = [
    ("a clean run has no stop", manual, None),
    (
        "post-batch breach after batch 3 (rule 6)",
        lambda s: manual(s, [fault("boot_unhealthy", instances=["w0", "w1", "w2"])]),
        {"status": "Faulted", "after_batch": 3, "code": UPGRADED, "time": 24, "instances": ["w0", "w1", "w2"]},
    ),
    (
        "pre-check before batch 2 (rule 1)",
        lambda s: manual(s, [fault("unhealthy_at", instances=["w7", "w8", "w9"], at="PT2M")]),
        {"status": "Faulted", "after_batch": 1, "code": DURING, "time": 4, "instances": ["w7", "w8", "w9"]},
    ),
    (
        "pre-check before the first batch (rule 1)",
        lambda s: (
            s.vmss(names=[f"w{i}" for i in range(7)] + [{"name": f"w{i}", "health": "Unhealthy"} for i in (7, 8, 9)]),
            s.publish("1.1.0"),
            s.start(),
        ),
        {"status": "Faulted", "after_batch": 0, "code": BEFORE, "time": 0, "instances": ["w7", "w8", "w9"]},
    ),
    (
        "a breach with rollback: the stop is where the last batch ended (§3.6)",
        lambda s: manual(
            s,
            [fault("boot_unhealthy", instances=["w0", "w1", "w2"])],
            rollback_failed_instances_on_policy_breach=True,
        ),
        {"status": "Faulted", "after_batch": 3, "code": UPGRADED, "time": 24, "instances": ["w0", "w1", "w2"]},
    ),
    (
        "cancelled during batch 2: the batch in flight finishes (azure-behaviour §3, cancel)",
        lambda s: (
            s.vmss(10),
            s.publish("1.1.0"),
            s.start(wait=False),
            s.advance("PT5M"),
            s.cancel(wait=False),
            s.advance("PT1H"),
        ),
        {"status": "Cancelled", "after_batch": 2, "code": None, "time": 8, "instances": []},
    ),
]


@pytest.mark.parametrize(("scenario", "expected"), [(c[1], c[2]) for c in STOP_CASES], ids=[c[0] for c in STOP_CASES])
def test_where_the_run_stopped_and_why(
    sim: Sim, scenario: Callable[[Sim], Any], expected: dict[str, Any] | None
) -> None:
    scenario(sim)
    stop = latest(sim)["stop"]
    if expected is None:
        assert stop is None
        return
    assert stop is not None
    got: dict[str, Any] = {k: stop[k] for k in ("status", "after_batch", "code", "instances")}
    got["time"] = minutes(stop["time"])
    assert got == expected
    assert stop["message"]


def test_pauses_between_batches_rule_7(sim: Sim) -> None:
    manual(sim, pause_time_between_batches="PT2M")
    picture = latest(sim)
    assert [(minutes(a), minutes(b)) for a, b in picture["pauses"]] == [(4, 6), (10, 12), (16, 18), (22, 24)]
    assert [(minutes(b["start"]), minutes(b["end"] or 0)) for b in picture["batches"]][:2] == [(0, 4), (6, 10)]


def test_counters_are_azures_progress_and_rollback_info(sim: Sim) -> None:
    platform(sim, [fault("boot_unhealthy", instances=["w3"])])
    picture = latest(sim)
    assert picture["progress"] == {
        "successfulInstanceCount": 9,
        "failedInstanceCount": 1,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 0,
    }
    assert picture["rollback_info"]["successfullyRolledbackInstanceCount"] == 1


def test_runs_newest_first_and_limited(sim: Sim) -> None:
    sim.vmss(4)
    for version in ("1.1.0", "1.2.0", "1.3.0"):
        sim.publish(version)
        sim.start()
    assert [p["target_version"] for p in report_of(sim, runs=5)["scale_sets"][0]["runs"]] == ["1.3.0", "1.2.0", "1.1.0"]
    assert [p["target_version"] for p in report_of(sim, runs=2)["scale_sets"][0]["runs"]] == ["1.3.0", "1.2.0"]


# -- the page ----------------------------------------------------------------------------------------------


@pytest.fixture
def stopped(sim: Sim) -> Report:
    """A platform run with a rollback, then a manual run stopped by a breach with pauses (the docs' picture)."""
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w3"], image_version="1.1.0")]})
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT4H")
    sim.vmss(simulation={"faults": [fault("boot_unhealthy", instances=["w0", "w1", "w2"], image_version="1.2.0")]})
    sim.rolling(pause_time_between_batches="PT2M", rollback_failed_instances_on_policy_breach=True)
    sim.publish("1.2.0")
    sim.start()
    return report_of(sim)


def test_page_is_deterministic(stopped: Report) -> None:
    assert render(stopped) == render(copy.deepcopy(stopped))


def test_page_is_self_contained(stopped: Report) -> None:
    page = render(stopped)
    assert "<script" not in page.lower()
    assert not re.search(r"\ssrc=", page)
    # Azure's own error texts name a URL (ER-2), shown as text; no attribute may point outside the page.
    attribute_urls = re.findall(r"=\s*['\"](https?://[^'\"]*)", page)
    assert attribute_urls == ["http://www.w3.org/2000/svg"] * page.count("<svg ")
    assert all(href.startswith("#") for href in re.findall(r"href='([^']*)'", page))
    assert "@import" not in page and "url(http" not in page


def test_page_has_one_row_per_instance_per_run(stopped: Report) -> None:
    page = render(stopped)
    runs = page.split("<article class='run'")[1:]
    assert len(runs) == 2
    for run in runs:
        assert run.count("class='instance-row'") == 10


def test_batch_boundaries_carry_their_virtual_times(stopped: Report) -> None:
    page = render(stopped)
    newest = page.split("<article class='run'")[1]
    boundaries = re.findall(r"class='batch-boundary' data-batch='(\d+)' data-edge='(\w+)' data-time='([^']+)'", newest)
    expected = []
    for index, (start, end) in enumerate([(240, 248), (250, 258), (260, 268)], 1):
        expected += [(str(index), "start", format_timestamp(EPOCH + start * 60))]
        expected += [(str(index), "end", format_timestamp(EPOCH + end * 60))]
    assert boundaries == expected


def test_the_stop_reason_is_in_words(stopped: Report) -> None:
    newest = render(stopped).split("<article class='run'")[1]
    reason = re.search(r"<p class='stop-reason'[^>]*>(.*?)</p>", newest)
    assert reason is not None
    assert "Stopped after batch 3, at 04:28." in reason.group(1)
    assert UPGRADED in reason.group(1)
    assert "rolled back" in reason.group(1)


def test_every_svg_has_a_role_title_and_description(stopped: Report) -> None:
    page = render(stopped)
    for svg in re.findall(r"<svg [^>]*>", page):
        assert "role='img'" in svg
        labelled = re.search(r"aria-labelledby='([^']*)'", svg)
        assert labelled is not None
        for ident in labelled.group(1).split():
            assert f"id='{ident}'" in page
    assert page.count("<desc ") == page.count("class='timeline'")


def test_colour_is_never_the_only_cue() -> None:
    """Okabe-Ito colours, and besides the colour every phase has its own pattern and label, every result a glyph."""
    phases_ = report_html.PHASES.values()
    assert len({p["fill"] for p in phases_}) == len(report_html.PHASES)
    assert len({p["pattern"] for p in phases_}) == len(report_html.PHASES)
    assert len({p["label"] for p in phases_}) == len(report_html.PHASES)
    assert len({glyph for glyph, _words, _colour in report_html.RESULTS.values() if glyph}) >= 6
    legend = report_html.legend_svg()
    assert all(p["label"] in legend for p in phases_)


def test_print_stylesheet_keeps_colours(stopped: Report) -> None:
    page = render(stopped)
    assert "@media print" in page and "print-color-adjust:exact" in page


def test_names_are_escaped(stopped: Report) -> None:
    hostile = copy.deepcopy(stopped)
    hostile["scale_sets"][0]["runs"][0]["rows"][0]["name"] = "<img src=x onerror=alert(1)>&"
    page = render(hostile)
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;" in page


def test_no_run_yet_says_so(sim: Sim) -> None:
    sim.vmss(3)
    page = render(report_of(sim))
    assert "No OS image upgrade has run on this scale set." in page


# -- the action --------------------------------------------------------------------------------------------


def report(sim: Sim, target: Path | str, check: bool = False, **params: Any) -> dict[str, Any]:
    """The action as the module calls it; ``params`` override the defaults (``dest`` included)."""
    args = {"resource_group": "rg", "name": "web", "dest": str(target), "runs": 5, **params}
    return sim.act(upgrade_report, args, check=check, commit=False)


def test_check_mode_writes_nothing_but_says_it_would(sim: Sim, tmp_path: Path) -> None:
    manual(sim)
    dest = tmp_path / "out" / "report.html"
    dest.parent.mkdir()
    before = sim.dump()
    result = report(sim, dest, check=True)
    assert result["changed"] is True
    assert not dest.exists() and os.listdir(dest.parent) == []
    assert sim.dump() == before, "the store is only read"


def test_second_run_rewrites_nothing(sim: Sim, tmp_path: Path) -> None:
    manual(sim)
    dest = tmp_path / "report.html"
    first = report(sim, dest)
    assert first["changed"] is True and dest.exists()
    inode, mtime = dest.stat().st_ino, dest.stat().st_mtime_ns
    again = report(sim, dest)
    assert again["changed"] is False
    assert again["before"] == again["after"]
    assert (dest.stat().st_ino, dest.stat().st_mtime_ns) == (inode, mtime), "not rewritten"
    assert report(sim, dest, check=True)["changed"] is False


def test_a_changed_store_rewrites_atomically_and_keeps_the_mode(sim: Sim, tmp_path: Path) -> None:
    manual(sim)
    dest = tmp_path / "report.html"
    report(sim, dest)
    dest.chmod(0o640)
    inode = dest.stat().st_ino
    sim.publish("1.2.0")
    sim.start()
    result = report(sim, dest)
    assert result["changed"] is True
    assert result["before"]["sha256"] != result["after"]["sha256"]
    assert result["after"]["size"] == dest.stat().st_size
    assert dest.stat().st_ino != inode, "replaced by a rename, not written in place"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["report.html", "sim"], "no temporary file left behind"
    assert [r["target_version"] for r in result["runs"]] == ["1.2.0", "1.1.0"]


def test_whole_resource_group_in_name_order(sim: Sim, tmp_path: Path) -> None:
    manual(sim)
    from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set

    other: dict[str, Any] = {k: None for k in ("location", "api_version", "os_type", "windows_configuration")}
    other["extensions"] = None
    other.update(
        resource_group="rg",
        name="api",
        state="present",
        image={"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest", "id": None},
        instances=["a0", "a1"],
        health_probe={"id": None, "protocol": "http", "port": 80, "request_path": "/", "load_balancer_sku": "Standard"},
        **{k: None for k in ("service_fabric", "single_placement_group", "zones", "update_instances", "simulation")},
    )
    sim.act(ensure_scale_set, other)
    dest = tmp_path / "rg.html"
    result = report(sim, dest, name=None)
    page = dest.read_text()
    assert page.index("data-scale-set='api'") < page.index("data-scale-set='web'")
    assert [r["scale_set"] for r in result["runs"]] == ["web"]


ERROR_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("dest folder missing", {"dest": "{tmp}/missing/report.html"}, "dest: the folder {tmp}/missing does not exist"),
    ("dest is a directory", {"dest": "{tmp}"}, "dest: {tmp} is a directory"),
    ("dest is not a regular file", {"dest": "/dev/null"}, "dest: /dev/null exists and is not a regular file"),
    (
        "resource group without scale sets",
        {"resource_group": "rg-empty", "name": None},
        "resource_group: rg-empty has no scale sets",
    ),
    ("unknown scale set", {"name": "nope"}, "name: scale set nope in resource group rg"),
    ("runs below 1", {"runs": 0}, "runs: 0 is not allowed; give a whole number from 1 to 50"),
    ("runs above 50", {"runs": 51}, "runs: 51 is not allowed"),
]


@pytest.mark.parametrize(("params", "message"), [(c[1], c[2]) for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_refusals_name_the_option_and_write_nothing(
    sim: Sim, tmp_path: Path, params: dict[str, Any], message: str
) -> None:
    manual(sim)
    before = sorted(os.listdir(tmp_path))
    filled: dict[str, Any] = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in params.items()}
    with pytest.raises(AzsimError) as caught:
        report(sim, tmp_path / "report.html", **filled)
    assert message.format(tmp=tmp_path) in caught.value.message
    assert sorted(os.listdir(tmp_path)) == before


def test_a_large_scale_set_draws_the_first_rows_and_says_so(stopped: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_html, "MAX_ROWS", 4)
    newest = render(stopped).split("<article class='run'")[1]
    assert newest.count("class='instance-row'") == 4
    assert newest.count("<tr data-instance=") == 4
    assert "the first 4 instances; 6 more are left out" in newest


def test_a_run_in_flight_marks_the_virtual_now(sim: Sim) -> None:
    in_flight(sim)
    page = render(report_of(sim))
    assert f"<g class='now' data-time='{format_timestamp(EPOCH + 60)}'>" in page
    assert "Still RollingForward at virtual time 2025-01-01 00:01." in page


def test_a_finished_run_has_no_now_marker(stopped: Report) -> None:
    assert "class='now'" not in render(stopped)


@pytest.mark.parametrize("scenario", [c[1] for c in PHASE_CASES], ids=[c[0] for c in PHASE_CASES])
def test_every_row_is_a_sequence_of_phases_within_its_batch(sim: Sim, scenario: Callable[[Sim], None]) -> None:
    """Whatever the scenario, each instance's phases follow one another without overlap, from its batch's start;
    an upgraded instance's last phase ends when it became healthy, a failed one's health wait at its deadline."""
    scenario(sim)
    picture = latest(sim)
    starts = {b["index"]: b["start"] for b in picture["batches"]}
    for row in picture["rows"]:
        segments = row["segments"]
        if row["batch"] is None:
            assert segments == [] and row["result"] in ("pending", "skipped")
            continue
        if not segments:  # its batch starts at the virtual now: nothing to draw yet
            assert row["result"] == "in_progress" and starts[row["batch"]] == picture["now"], row
            continue
        assert segments[0]["start"] == starts[row["batch"]], row
        for before, after in zip(segments, segments[1:]):
            assert before["end"] <= after["start"], row
        assert all(s["start"] < s["end"] for s in segments), row
        healthy = [m["time"] for m in row["marks"] if m["kind"] == "healthy"]
        if row["result"] == "upgraded":
            assert healthy == [segments[-1]["end"]], row
        failed = [m["time"] for m in row["marks"] if m["kind"] == "failed"]
        if row["result"] in ("failed", "rolled_back", "rollback_failed"):
            waits = [s for s in segments if s["kind"] == "health_wait"]
            assert [w["end"] for w in waits] == failed, row


def test_two_stores_built_alike_give_byte_identical_pages(make_sim: Callable[[str], Sim], tmp_path: Path) -> None:
    """Nothing random or wall-clock goes into the page: the same history gives the same bytes."""
    pages = []
    for label in ("a", "b"):
        world = make_sim(label)
        platform(world, [fault("boot_unhealthy", instances=["w3"])])
        dest = tmp_path / f"{label}.html"
        report(world, dest)
        pages.append(dest.read_bytes())
    assert pages[0] == pages[1]
