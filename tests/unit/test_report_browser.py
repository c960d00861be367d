# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade report in a real browser: Debian's Chromium, headless, loads the file the module wrote.

The scenario is the one docs/upgrade-report.md shows: a platform run that rolls one instance back, then a manual
run with pauses between batches that three failed instances stop after batch 3, and that rolls them back
(how-a-run-proceeds rules 5-7, azure-behaviour §3.6). Chromium's DOM (``--dump-dom``) must have one row per
instance, the batch boundaries at their virtual times and the stop reason; a copy of the page with a measuring
script added shows where Chromium laid the boundaries out; and a screenshot goes to build/report-screenshot.png.
``make test`` installs Chromium (the Makefile's ``browser`` step); without it this test fails and says so.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.report import upgrade_report
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp, parse_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.tests.unit import _playbook_runner
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import Sim, fault

# A browser process: the system tier (pyproject.toml), left out of `make units-fast`.
pytestmark = [pytest.mark.system, pytest.mark.clients]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = _playbook_runner.ROOT / "build" / "report-screenshot.png"
WINDOW = (1100, 1500)
NAMES = [f"web-{i:02d}" for i in range(1, 11)]
UPGRADED_CODE = "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"


def chromium(tmp_path: Path, *args: str) -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` (as root) or `apt-get install -y chromium` installs it")
    profile = tmp_path / "chromium-profile"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


class Elements(HTMLParser):
    """Every element's tag, attributes and text, from the DOM Chromium dumped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.found.append(element)
        if tag not in ("line", "rect", "path", "circle", "meta", "br", "pattern"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index]["tag"] == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"] += data

    def having(self, css_class: str) -> list[dict[str, Any]]:
        return [e for e in self.found if css_class in (e["attrs"].get("class") or "").split()]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("report")
    store = Store.open(str(folder / "vmss.sqlite"))
    try:
        sim = Sim(store)
        sim.publish("1.0.0")
        faults = [
            fault("boot_unhealthy", instances=["web-04"], image_version="1.1.0"),
            fault("slow_boot", instances=["web-07"], delay="PT2M", image_version="1.1.0"),
            fault("boot_unhealthy", instances=["web-01", "web-02", "web-03"], image_version="1.2.0"),
        ]
        sim.vmss(names=NAMES, simulation={"faults": faults})
        sim.enable_automatic()
        sim.publish("1.1.0")
        sim.advance("PT4H")  # the platform's run at 03:00: web-04 rolled back
        sim.rolling(pause_time_between_batches="PT2M", rollback_failed_instances_on_policy_breach=True)
        sim.publish("1.2.0")
        sim.start()  # 04:00: stopped after batch 3, the three failed instances rolled back
        dest = folder / "upgrade-report.html"
        result = sim.act(upgrade_report, {"resource_group": "rg", "name": "web", "dest": str(dest), "runs": 5})
        assert result["changed"] is True
        yield dest
    finally:
        store.close()


@pytest.fixture(scope="module")
def dom(page: Path, tmp_path_factory: pytest.TempPathFactory) -> Elements:
    parsed = Elements()
    parsed.feed(chromium(tmp_path_factory.mktemp("dom"), "--dump-dom", page.as_uri()))
    return parsed


def at(minutes: int) -> str:
    return format_timestamp(EPOCH + minutes * 60)


def runs(dom: Elements) -> list[dict[str, Any]]:
    return dom.having("run")


def test_one_row_per_instance_in_each_run(dom: Elements) -> None:
    rows = dom.having("instance-row")
    assert len(runs(dom)) == 2
    assert len(rows) == 20
    newest = [r["attrs"]["data-instance"] for r in rows[:10]]
    assert newest == [
        "web-01",
        "web-06",
        "web-02",
        "web-07",
        "web-03",
        "web-08",
        "web-04",
        "web-09",
        "web-05",
        "web-10",
    ]
    assert [r["attrs"]["data-result"] for r in rows[:6:2]] == ["rolled_back"] * 3
    assert {r["attrs"]["data-result"] for r in rows[6:10]} == {"pending"}
    assert (
        next(r for r in rows[10:] if r["attrs"]["data-instance"] == "web-04")["attrs"]["data-result"] == "rolled_back"
    )


def test_batch_boundaries_at_their_virtual_times(dom: Elements) -> None:
    lines = [e["attrs"] for e in dom.having("batch-boundary")]
    newest = [(a["data-batch"], a["data-edge"], a["data-time"]) for a in lines[:6]]
    assert newest == [
        ("1", "start", at(240)),
        ("1", "end", at(248)),
        ("2", "start", at(250)),
        ("2", "end", at(258)),
        ("3", "start", at(260)),
        ("3", "end", at(268)),
    ]
    # The platform's run: batches of 4 minutes, batch 4 takes 11 (restore), batch 2 5 (web-07's slow boot).
    older = [a["data-time"] for a in lines[6:] if a["data-edge"] == "start"]
    assert older == [at(180), at(184), at(189), at(193), at(204)]
    pauses = [(e["attrs"]["data-start"], e["attrs"]["data-end"]) for e in dom.having("pause")]
    assert pauses == [(at(248), at(250)), (at(258), at(260))]


def test_the_stop_reason_is_shown(dom: Elements) -> None:
    reasons = dom.having("stop-reason")
    assert len(reasons) == 1
    text = " ".join(reasons[0]["text"].split())
    assert text.startswith("\u25a0 Stopped after batch 3, at 04:28.")
    assert UPGRADED_CODE in text
    assert "web-01, web-02, web-03" in text
    marker = dom.having("stop")
    assert [m["attrs"]["data-time"] for m in marker] == [at(268)]
    assert "stopped after batch 3" in marker[0]["text"]


def test_chromium_lays_the_boundaries_out_on_the_time_axis(page: Path, tmp_path: Path) -> None:
    """A copy with a measuring script: each boundary's x on screen is proportional to its virtual time."""
    measure = """<script>
    const svg = document.querySelector('svg.timeline');
    const box = svg.getBoundingClientRect();
    const out = [...svg.querySelectorAll('line.batch-boundary')].map(l => {
      const r = l.getBoundingClientRect();
      return {time: l.dataset.time, x: r.left + r.width / 2 - box.left};
    });
    const rows = [...svg.querySelectorAll('g.instance-row')].map(g => g.getBoundingClientRect().height);
    document.body.insertAdjacentHTML('beforeend',
      '<pre id="measured">' + JSON.stringify({width: box.width, boundaries: out, rows: rows}) + '</pre>');
    </script>"""
    copy = tmp_path / "measured.html"
    copy.write_text(page.read_text().replace("</body>", measure + "</body>"))
    parsed = Elements()
    parsed.feed(chromium(tmp_path, "--dump-dom", f"--window-size={WINDOW[0]},{WINDOW[1]}", copy.as_uri()))
    measured = json.loads(next(e["text"] for e in parsed.found if e["attrs"].get("id") == "measured"))
    assert measured["width"] > 600, "the timeline is drawn at a readable width"
    assert all(h > 10 for h in measured["rows"]), "every row has a height on screen"
    points: list[tuple[int, float]] = []
    for boundary in measured["boundaries"][:6]:
        points.append(((parse_timestamp(boundary["time"], "data-time") - EPOCH) // 60 - 240, boundary["x"]))
    (m0, x0), (m1, x1) = points[0], points[-1]
    for minute, x in points:
        expected = x0 + (x1 - x0) * (minute - m0) / (m1 - m0)
        assert abs(x - expected) < 1.5, f"boundary at minute {minute}: x {x:.1f}, expected {expected:.1f}"
    assert x1 - x0 > 300


def test_screenshot_into_build(page: Path, tmp_path: Path) -> None:
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    chromium(
        tmp_path,
        "--hide-scrollbars",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--screenshot={SCREENSHOT}",
        page.as_uri(),
    )
    data = SCREENSHOT.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == WINDOW
    assert len(data) > 50_000, "a blank page compresses to far less"
    shutil.copyfile(page, SCREENSHOT.with_suffix(".html"))
