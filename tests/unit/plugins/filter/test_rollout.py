# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout filters: the rows they build from sim_clock events and vmss_upgrade_history results, and the lines
they print, read back as rows (tests/unit/_output.py), never compared as column-aligned strings."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.filter import rollout
from ansible_collections.azsim.vmss.plugins.filter.rollout import (
    FilterModule,
    rollout_outcome,
    rollout_table,
    rollout_timeline,
    upgrade_history_table,
)
from ansible_collections.azsim.vmss.tests.unit._output import cells, sections, split_row, table

WEB = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web"
API = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/api"


def at(hhmm: str) -> str:
    return f"2025-01-01T{hhmm}:00Z"


def event(kind: str, hhmm: str, subject: str = WEB, **details: Any) -> dict[str, Any]:
    return {"type": kind, "time": at(hhmm), "subject": subject, "run_id": 1, **details}


# A platform run on web: batch 1 succeeds, batch 2 fails and is rolled back, the run ends Faulted.
EVENTS = [
    event("RollingUpgradeStarted", "03:00", target_version="1.1.0", started_by="Platform"),
    event("BatchStarted", "03:00", batch=1, instances=["web-01", "web-03"]),
    event("FeatureRegistered", "03:02", state="Registered"),
    event("BatchCompleted", "03:04", batch=1, result="succeeded"),
    event("BatchStarted", "03:04", batch=2, instances=["web-02"]),
    event("RollingBackStarted", "03:15", instances=["web-02"]),
    event("BatchCompleted", "03:18", batch=2, result="failed"),
    event("RollingUpgradeFaulted", "03:18", code="MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"),
]


def run(
    status: str = "Completed",
    start: str = "00:00",
    end: str | None = "00:24",
    by: str = "User",
    target: dict[str, Any] | None = None,
    counts: tuple[int, int, int] = (9, 1, 0),
    error: str | None = None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "runningStatus": {"code": status, "startTime": at(start), "endTime": at(end) if end else None},
        "progress": {
            "successfulInstanceCount": counts[0],
            "failedInstanceCount": counts[1],
            "inProgressInstanceCount": 0,
            "pendingInstanceCount": 0,
        },
        "startedBy": by,
        "targetImageReference": (
            {"publisher": "Canonical", "offer": "o", "sku": "s", "version": "1.1.0"} if target is None else target
        ),
        "rollbackInfo": {"successfullyRolledbackInstanceCount": counts[2], "failedRolledbackInstanceCount": 0},
    }
    if error:
        properties["error"] = {"code": error, "message": "...", "details": []}
    return {"properties": properties, "type": "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades"}


def batch(index: int, start: str, end: str | None, result: str, *names: str) -> dict[str, Any]:
    return {
        "index": index,
        "instances": list(names),
        "zone": None,
        "update_domain": index - 1,
        "start": at(start),
        "end": at(end) if end else None,
        "result": result,
    }


def instance(name: str, result: str, batch_index: int | None, version: str, health: str = "Healthy") -> dict[str, Any]:
    return {
        "name": name,
        "result": result,
        "batch": batch_index,
        "health": health,
        "os_disk": {"image_version": version, "name": f"{name}_OsDisk"},
        "power_state": "running",
    }


HISTORY: dict[str, Any] = {
    "history": [run()],
    "batches": [
        batch(1, "00:00", "00:04", "succeeded", "web-01", "web-03"),
        batch(2, "00:04", "00:12", "partially_failed", "web-02", "web-04"),
    ],
    "instances": [
        instance("web-01", "upgraded", 1, "1.1.0"),
        instance("web-02", "failed", 2, "1.1.0", "Unhealthy"),
        instance("web-03", "upgraded", 1, "1.1.0"),
        instance("web-04", "upgraded", 2, "1.1.0"),
        instance("web-05", "skipped", None, "1.0.0"),
    ],
    "now": at("00:30"),
}


def test_the_filters_by_name() -> None:
    assert set(FilterModule().filters()) == {
        "rollout_timeline",
        "rollout_outcome",
        "rollout_table",
        "upgrade_history_table",
    }


# -- rollout_timeline ----------------------------------------------------------------------------------------------


def test_timeline_entries_pair_each_batch_with_its_completion() -> None:
    assert rollout._timeline_entries(EVENTS) == [
        {"kind": "started", "time": at("03:00"), "target_version": "1.1.0"},
        {
            "kind": "batch",
            "batch": 1,
            "start": at("03:00"),
            "end": at("03:04"),
            "instances": ["web-01", "web-03"],
            "result": "succeeded",
        },
        {
            "kind": "batch",
            "batch": 2,
            "start": at("03:04"),
            "end": at("03:18"),
            "instances": ["web-02"],
            "result": "failed",
        },
        {"kind": "rolling_back", "time": at("03:15"), "instances": ["web-02"]},
        {
            "kind": "ended",
            "time": at("03:18"),
            "status": "Faulted",
            "code": "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade",
        },
    ]


def test_timeline_of_a_run_still_going_shows_the_batch_in_progress() -> None:
    events = EVENTS[:2]
    entries = rollout._timeline_entries(events)
    assert entries[-1] == {
        "kind": "batch",
        "batch": 1,
        "start": at("03:00"),
        "end": None,
        "instances": ["web-01", "web-03"],
        "result": None,
    }
    last = split_row(rollout_timeline(events)[-1])
    assert last == ["batch 1", "03:00-..", "web-01, web-03", "in progress"]


def test_timeline_keeps_the_batches_of_two_scale_sets_apart() -> None:
    """Batch 1 of api completes at 03:09; batch 1 of web at 03:04: each batch gets its own scale set's end."""
    events = [
        event("BatchStarted", "03:00", batch=1, instances=["web-01"]),
        event("BatchStarted", "03:01", API, batch=1, instances=["api-01"]),
        event("BatchCompleted", "03:04", batch=1, result="succeeded"),
        event("BatchCompleted", "03:09", API, batch=1, result="failed"),
    ]
    assert [(e["instances"], e["end"], e["result"]) for e in rollout._timeline_entries(events)] == [
        (["web-01"], at("03:04"), "succeeded"),
        (["api-01"], at("03:09"), "failed"),
    ]


def test_timeline_lines() -> None:
    lines = rollout_timeline(EVENTS)
    assert [split_row(line) for line in lines] == [
        ["03:00", "the platform starts the OS upgrade to 1.1.0"],
        ["batch 1", "03:00-03:04", "web-01, web-03", "succeeded"],
        ["batch 2", "03:04-03:18", "web-02", "failed"],
        ["03:15", "rolling back web-02"],
        ["03:18", "the run ends Faulted: MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"],
    ]
    # Batch lines sit under the text of the time lines, their columns in line.
    batch_lines = [line for line in lines if "batch" in line]
    assert {line.index("batch") for line in batch_lines} == {lines[0].index("the platform")}
    assert len({line.index(cell) for line, cell in zip(batch_lines, ["succeeded", "failed"])}) == 1


def test_timeline_of_no_events_is_empty() -> None:
    assert not rollout_timeline([])


def test_timeline_names_what_it_takes_when_given_something_else() -> None:
    with pytest.raises(AnsibleFilterError, match=r"rollout_timeline takes the events list .* no key 'type'"):
        rollout_timeline([{"time": at("03:00")}])


# -- the run summary and rows --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history_run", "expected"),
    [
        pytest.param(
            run(),
            {
                "status": "Completed",
                "error": None,
                "started_by": "User",
                "start": at("00:00"),
                "end": at("00:24"),
                "minutes": 24,
                "target": "1.1.0",
                "upgraded": 9,
                "failed": 1,
                "rolled_back": 0,
            },
            id="completed",
        ),
        pytest.param(
            run("Faulted", "03:00", "04:45", "Platform", counts=(2, 3, 3), error="RollingUpgradeFaulted"),
            {
                "status": "Faulted",
                "error": "RollingUpgradeFaulted",
                "started_by": "Platform",
                "start": at("03:00"),
                "end": at("04:45"),
                "minutes": 105,
                "target": "1.1.0",
                "upgraded": 2,
                "failed": 3,
                "rolled_back": 3,
            },
            id="faulted",
        ),
        pytest.param(
            run("RollingForward", end=None, target={"id": "/sub/galleries/g/images/web/versions/2.0.0"}),
            {
                "status": "RollingForward",
                "error": None,
                "started_by": "User",
                "start": at("00:00"),
                "end": None,
                "minutes": None,
                "target": "/sub/galleries/g/images/web/versions/2.0.0",
                "upgraded": 9,
                "failed": 1,
                "rolled_back": 0,
            },
            id="running-gallery",
        ),
        pytest.param(run(target={}), {"target": "?"}, id="no-target"),
    ],
)
def test_run_summary(history_run: dict[str, Any], expected: dict[str, Any]) -> None:
    summary = rollout._run_summary(history_run)
    assert {key: summary[key] for key in expected} == expected


def test_batch_and_instance_rows() -> None:
    assert rollout._batch_rows(HISTORY["batches"] + [batch(3, "00:12", None, "in_progress", "web-05")]) == [
        ["1", "00:00-00:04", "succeeded", "web-01, web-03"],
        ["2", "00:04-00:12", "partially_failed", "web-02, web-04"],
        ["3", "00:12-..", "in_progress", "web-05"],
    ]
    assert rollout._instance_rows(HISTORY["instances"]) == [
        ["web-01", "upgraded", "1", "1.1.0", "Healthy"],
        ["web-02", "failed", "2", "1.1.0", "Unhealthy"],
        ["web-03", "upgraded", "1", "1.1.0", "Healthy"],
        ["web-04", "upgraded", "2", "1.1.0", "Healthy"],
        ["web-05", "skipped", "-", "1.0.0", "Healthy"],
    ]


def test_instances_by_result_sorts_results_and_keeps_the_instances_order() -> None:
    assert rollout._instances_by_result(HISTORY["instances"]) == [
        ("failed", ["web-02"]),
        ("skipped", ["web-05"]),
        ("upgraded", ["web-01", "web-03", "web-04"]),
    ]


# -- rollout_table -------------------------------------------------------------------------------------------------


def test_rollout_table() -> None:
    summary, batches, instances = sections(rollout_table(HISTORY, "rg/web"))
    assert summary == ["rg/web: Completed, started by User, 00:00-00:24, to 1.1.0: 9 upgraded, 1 failed, 0 rolled back"]
    assert table(batches) == [
        {"BATCH": "1", "TIME": "00:00-00:04", "RESULT": "succeeded", "INSTANCES": "web-01, web-03"},
        {"BATCH": "2", "TIME": "00:04-00:12", "RESULT": "partially_failed", "INSTANCES": "web-02, web-04"},
    ]
    assert [list(row.values()) for row in table(instances)] == rollout._instance_rows(HISTORY["instances"])
    assert list(table(instances)[0]) == ["INSTANCE", "RESULT", "BATCH", "IMAGE VERSION", "HEALTH"]


def test_rollout_table_names_the_error_of_a_faulted_run() -> None:
    history = dict(HISTORY, history=[run("Faulted", error="RollingUpgradeExtensionCredentialExpired"), run()])
    assert rollout_table(history, "rg/web")[0].startswith("rg/web: Faulted (RollingUpgradeExtensionCredentialExpired),")


def test_rollout_table_without_a_run() -> None:
    lines = rollout_table({"history": [], "batches": [], "instances": HISTORY["instances"][:1]}, "rg/web")
    assert sections(lines)[0] == ["rg/web: no OS upgrade run"]
    assert table(sections(lines)[1]) == [
        {"INSTANCE": "web-01", "RESULT": "upgraded", "BATCH": "1", "IMAGE VERSION": "1.1.0", "HEALTH": "Healthy"}
    ]


def test_rollout_table_names_what_it_takes() -> None:
    with pytest.raises(AnsibleFilterError, match=r"rollout_table takes the result registered .* no key 'batches'"):
        rollout_table({"history": []}, "rg/web")


# -- rollout_outcome -----------------------------------------------------------------------------------------------


def test_rollout_outcome() -> None:
    history = dict(
        HISTORY,
        history=[
            run("Completed", "03:00", "03:27", "Platform", counts=(9, 1, 1)),
            run("Faulted", "00:00", None, error="X"),
        ],
    )
    instances, runs = sections(rollout_outcome(history))
    assert split_row(instances[0]) == ["INSTANCES", "result", "image version", "health"]
    assert [split_row(line) for line in instances[1:]] == [
        [row[0], row[1], row[3], row[4]] for row in rollout._instance_rows(HISTORY["instances"])
    ]
    assert runs[0] == "HISTORY (osUpgradeHistory, newest first)"
    assert [split_row(line) for line in runs[1:]] == [
        ["Completed", "03:00-03:27", "startedBy Platform", "to 1.1.0: 9 upgraded, 1 failed, 1 rolled back"],
        ["Faulted", "00:00-..", "startedBy User", "to 1.1.0: 9 upgraded, 1 failed, 0 rolled back"],
    ]


# -- upgrade_history_table -----------------------------------------------------------------------------------------


def loop_result(name: str, **result: Any) -> dict[str, Any]:
    return {"item": name, "history": [], "batches": [], "instances": [], "now": at("00:30"), **result}


def test_upgrade_history_table() -> None:
    gallery = {
        "id": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/web/versions/2.0.0"
    }
    results = [
        loop_result("api"),
        loop_result(
            "web",
            history=[run("Faulted", "01:00", "01:10", "Platform", gallery, (0, 2, 2), "OSRollbackFailed"), run()],
            batches=HISTORY["batches"],
            instances=HISTORY["instances"],
        ),
        loop_result("zzz"),
    ]
    lines = upgrade_history_table(results, "rg")
    assert lines[0] == "rg/api: 0 OS upgrade run(s), virtual now 2025-01-01T00:30:00Z"
    assert lines[1] == "rg/web: 2 OS upgrade run(s), virtual now 2025-01-01T00:30:00Z"
    label = lines.index("  batches of the most recent run:")
    assert table(lines[2:label]) == [
        {
            "STATUS": "Faulted",
            "BY": "Platform",
            "START": "2025-01-01 01:00",
            "MIN": "10",
            "TARGET": "web/versions/2.0.0",
            "UPGRADED": "0",
            "FAILED": "2",
            "ROLLED BACK": "2",
            "ERROR": "OSRollbackFailed",
        },
        {
            "STATUS": "Completed",
            "BY": "User",
            "START": "2025-01-01 00:00",
            "MIN": "24",
            "TARGET": "1.1.0",
            "UPGRADED": "9",
            "FAILED": "1",
            "ROLLED BACK": "0",
            "ERROR": "",
        },
    ]
    assert [split_row(line) for line in lines[label + 1 : label + 3]] == [
        ["1.", "00:00-00:04", "succeeded", "web-01, web-03"],
        ["2.", "00:04-00:12", "partially_failed", "web-02, web-04"],
    ]
    assert lines[label + 3 :] == [
        "  instances: failed 1 (web-02); skipped 1 (web-05); upgraded 3 (web-01, web-03, web-04)",
        "rg/zzz: 0 OS upgrade run(s), virtual now 2025-01-01T00:30:00Z",
    ]


def test_upgrade_history_table_of_a_run_still_going() -> None:
    lines = upgrade_history_table([loop_result("web", history=[run("RollingForward", end=None)])], "rg")
    assert table(lines[1:])[0]["MIN"] == ".."


@pytest.mark.parametrize(
    ("name", "expected"), [("", "rg: no scale set in the store"), ("web", "rg/web: no scale set in the store")]
)
def test_upgrade_history_table_without_scale_sets(name: str, expected: str) -> None:
    assert upgrade_history_table([], "rg", name) == [expected]


# -- properties ----------------------------------------------------------------------------------------------------

NAMES = st.from_regex(r"[a-z]{1,12}-[0-9]{2}", fullmatch=True)
RESULTS = st.sampled_from(["upgraded", "failed", "rolled_back", "rollback_failed", "skipped", "pending"])


@given(
    st.lists(
        st.tuples(NAMES, RESULTS, st.sampled_from(["1.0.0", "1.1.0", "24.04.202502010"])),
        unique_by=lambda t: t[0],
        max_size=30,
    )
)
def test_every_instance_is_one_row_of_the_rollout_table_in_order(fleet: list[tuple[str, str, str]]) -> None:
    """Whatever the names, results and versions: one row per instance, in order, each cell under its header."""
    instances = [instance(name, result, None if result == "skipped" else 1, version) for name, result, version in fleet]
    lines = rollout_table({"history": [run()], "batches": [], "instances": instances}, "rg/web")
    rows = table(sections(lines)[1]) if instances else []
    assert [(r["INSTANCE"], r["RESULT"], r["IMAGE VERSION"]) for r in rows] == fleet
    grouped = rollout._instances_by_result(instances)
    assert sorted(name for _result, names in grouped for name in names) == sorted(member[0] for member in fleet)
    assert [group[0] for group in grouped] == sorted({member[1] for member in fleet})


@given(
    st.lists(
        st.tuples(st.lists(NAMES, min_size=1, max_size=5), st.sampled_from(["succeeded", "failed", None])), max_size=12
    )
)
def test_every_batch_started_is_one_timeline_line_in_order(batches: list[tuple[list[str], str | None]]) -> None:
    events = []
    for index, (names, result) in enumerate(batches, start=1):
        events.append(event("BatchStarted", f"03:{index:02d}", batch=index, instances=names))
        if result:
            events.append(event("BatchCompleted", f"04:{index:02d}", batch=index, result=result))
    rows = [split_row(line) for line in rollout_timeline(events)]
    assert rows == [
        [
            f"batch {index}",
            f"03:{index:02d}-{f'04:{index:02d}' if result else '..'}",
            ", ".join(names),
            result or "in progress",
        ]
        for index, (names, result) in enumerate(batches, start=1)
    ]
    # The result column is in line.
    assert len({cells(line)[-1][0] for line in rollout_timeline(events)}) <= 1
