# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sim_clock through main(): the JSON a playbook would get, and what the store holds afterwards."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import EPOCH, Store
from ansible_collections.azsim.vmss.plugins.modules import sim_clock
from ansible_collections.azsim.vmss.tests.unit._harness import run as harness_run

START = "2025-01-01T00:00:00Z"


def run(args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Run the module as Ansible would; (exit code, parsed result)."""
    return harness_run(sim_clock, args)


def now_in(path: Path) -> str:
    store = Store.open(str(path))
    try:
        with store.transaction(commit=False):
            return format_timestamp(store.now())
    finally:
        store.close()


def test_advance_moves_the_clock_and_reports_changed(store_path: Path) -> None:
    rc, result = run({"store": str(store_path), "advance": "PT1H"})
    assert rc == 0
    assert result["changed"] is True
    assert result["now"] == "2025-01-01T01:00:00Z"
    assert result["previous"] == START
    assert result["events"] == []
    assert "diff" not in result
    assert "before" not in result and "after" not in result  # consumed by the glue
    assert now_in(store_path) == "2025-01-01T01:00:00Z"


def test_advances_add_up(store_path: Path) -> None:
    run({"store": str(store_path), "advance": "PT1H"})
    rc, result = run({"store": str(store_path), "advance": "PT30M"})
    assert (rc, result["previous"], result["now"]) == (0, "2025-01-01T01:00:00Z", "2025-01-01T01:30:00Z")


def test_to_moves_the_clock(store_path: Path) -> None:
    rc, result = run({"store": str(store_path), "to": "2025-01-02T00:00:00Z"})
    assert (rc, result["changed"], result["now"]) == (0, True, "2025-01-02T00:00:00Z")
    assert now_in(store_path) == "2025-01-02T00:00:00Z"


def test_check_mode_returns_the_would_be_now_and_writes_nothing(store_path: Path) -> None:
    Store.open(str(store_path)).close()
    rc, result = run({"store": str(store_path), "advance": "PT1H", "_ansible_check_mode": True})
    assert rc == 0
    assert result["changed"] is True
    assert result["now"] == "2025-01-01T01:00:00Z"
    assert now_in(store_path) == START
    rc, again = run({"store": str(store_path), "advance": "PT1H", "_ansible_check_mode": True})
    assert again["previous"] == START and again["now"] == "2025-01-01T01:00:00Z"


@pytest.mark.parametrize("check_mode", [False, True])
def test_diff_mode_returns_before_and_after(store_path: Path, check_mode: bool) -> None:
    Store.open(str(store_path)).close()
    rc, result = run(
        {"store": str(store_path), "advance": "PT1H", "_ansible_diff": True, "_ansible_check_mode": check_mode}
    )
    assert rc == 0
    assert result["diff"] == {"before": {"now": START}, "after": {"now": "2025-01-01T01:00:00Z"}}


@pytest.mark.parametrize(
    "args",
    [{}, {"advance": "PT0S"}, {"to": START}, {"advance": None}],
    ids=["no-options", "advance-PT0S", "to-now", "explicit-null"],
)
def test_reading_or_standing_still_is_not_a_change(store_path: Path, args: dict[str, Any]) -> None:
    run({"store": str(store_path), "advance": "PT2H"})
    if args.get("to") == START:
        args = {"to": "2025-01-01T02:00:00Z"}
    rc, result = run({"store": str(store_path), "_ansible_diff": True, **args})
    assert rc == 0
    assert result["changed"] is False
    assert result["now"] == result["previous"] == "2025-01-01T02:00:00Z"
    assert result["diff"]["before"] == result["diff"]["after"]
    assert now_in(store_path) == "2025-01-01T02:00:00Z"


@pytest.mark.parametrize(
    ("args", "msg_start"),
    [
        ({"advance": "5 minutes"}, "advance: '5 minutes' is not an ISO 8601 duration"),
        ({"advance": "P1M"}, "advance: 'P1M' is not an ISO 8601 duration"),
        ({"advance": "-PT5M"}, "advance: '-PT5M'"),
        ({"advance": "P36601D"}, "advance: 'P36601D' is longer than 100 years"),
        ({"to": "tomorrow"}, "to: 'tomorrow' is not an ISO 8601 UTC timestamp"),
        ({"to": "2024-12-31T23:00:00Z"}, "to: 2024-12-31T23:00:00Z is before the virtual clock's now"),
        ({"advance": "PT1H", "to": "2025-01-02T00:00:00Z"}, "parameters are mutually exclusive: advance|to"),
        ({"advance": "PT1H", "bogus": 1}, "Unsupported parameters"),
    ],
)
def test_bad_options_fail_naming_the_option_and_change_nothing(
    store_path: Path, args: dict[str, Any], msg_start: str
) -> None:
    Store.open(str(store_path)).close()
    before = store_path.read_bytes()
    rc, result = run({"store": str(store_path), **args})
    assert rc == 1
    assert result["failed"] is True
    assert result["msg"].startswith(msg_start), result["msg"]
    assert "Traceback" not in json.dumps(result)
    assert now_in(store_path) == START
    assert store_path.read_bytes() == before


def test_a_store_that_is_not_ours_fails_clearly_and_stays_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(random.Random(4).randbytes(4096))
    before = (path.read_bytes(), os.stat(path).st_mtime_ns, sorted(os.listdir(tmp_path)))
    rc, result = run({"store": str(path), "advance": "PT1H"})
    assert rc == 1
    assert result["failed"] is True
    assert result["msg"].startswith(f"store {path}: is not an azsim.vmss store")
    assert "exception" not in result  # an expected refusal, not an internal error
    assert (path.read_bytes(), os.stat(path).st_mtime_ns, sorted(os.listdir(tmp_path))) == before


def test_store_path_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    rc, result = run({"store": "~/sims/vmss.sqlite", "advance": "PT1M"})
    assert (rc, result["now"]) == (0, "2025-01-01T00:01:00Z")
    assert now_in(tmp_path / "home" / "sims" / "vmss.sqlite") == "2025-01-01T00:01:00Z"


def test_the_clock_starts_at_the_epoch(store_path: Path) -> None:
    rc, result = run({"store": str(store_path)})
    assert (rc, result["changed"], result["now"]) == (0, False, START)
    assert format_timestamp(EPOCH) == START
