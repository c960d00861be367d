# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade policy filters: the report built from a loop's results, the table read back as rows
(tests/unit/_output.py), and the failure message."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.azsim.vmss.plugins.filter import policy
from ansible_collections.azsim.vmss.plugins.filter.policy import (
    FilterModule,
    upgrade_policy_failure_message,
    upgrade_policy_report,
    upgrade_policy_table,
)
from ansible_collections.azsim.vmss.tests.unit._output import cells, split_row, table

HEALTH = {
    "severity": "error",
    "code": "HealthSourceMissing",
    "path": "properties.virtualMachineProfile.networkProfile.healthProbe",
    "message": "Rolling Upgrade mode is not supported ... a health probe or health extension was not provided.",
}
PINNED = {
    "severity": "error",
    "code": "ImageVersionNotLatest",
    "path": "properties.virtualMachineProfile.storageProfile.imageReference.version",
    "message": "the image version is pinned to 1.0.0; automatic OS image upgrade needs version: latest",
}
STOPS = {
    "severity": "warning",
    "code": "PolicyStopsOnFirstUnhealthyInstance",
    "path": "properties.upgradePolicy.rollingUpgradePolicy.maxUnhealthyInstancePercent",
    "message": "...",
}
MISSING = (
    "scale set missing in resource group rg (subscription 0) does not exist in the store; "
    "create it with azsim.vmss.vmss"
)


def upgrade_policy(
    mode: str = "Rolling",
    auto: bool = True,
    no_rollback: bool = False,
    percents: tuple[int, int, int] = (20, 25, 25),
    pause: str = "PT0S",
) -> dict[str, Any]:
    return {
        "mode": mode,
        "automaticOSUpgradePolicy": {
            "enableAutomaticOSUpgrade": auto,
            "disableAutomaticRollback": no_rollback,
            "useRollingUpgradePolicy": True,
            "osRollingUpgradeDeferral": False,
        },
        "rollingUpgradePolicy": {
            "maxBatchInstancePercent": percents[0],
            "maxUnhealthyInstancePercent": percents[1],
            "maxUnhealthyUpgradedInstancePercent": percents[2],
            "pauseTimeBetweenBatches": pause,
        },
    }


def result(name: str, **module_result: Any) -> dict[str, Any]:
    """One item of a registered loop of vmss_upgrade_policy, as Ansible records it."""
    return {
        "item": {"resource_group": "rg", "name": name},
        "ansible_loop_var": "item",
        "invocation": {},
        **module_result,
    }


# A fleet: legacy refused with findings, web changed, api unchanged, missing not in the store.
RESULTS = [
    result(
        "legacy",
        changed=False,
        failed=True,
        msg="upgrade policy of scale set legacy refused",
        findings=[HEALTH, PINNED, STOPS],
        upgrade_policy=upgrade_policy("Manual", False, percents=(20, 20, 20)),
    ),
    result("web", changed=True, findings=[], upgrade_policy=upgrade_policy()),
    result("api", changed=False, upgrade_policy=upgrade_policy(no_rollback=True, percents=(50, 40, 30), pause="PT2M")),
    result("missing", changed=False, failed=True, msg=MISSING),
]
REPORT = upgrade_policy_report(RESULTS)


def test_the_filters_by_name() -> None:
    assert set(FilterModule().filters()) == {
        "upgrade_policy_report",
        "upgrade_policy_table",
        "upgrade_policy_failure_message",
    }


def test_report_has_one_entry_per_scale_set_in_the_loops_order() -> None:
    assert REPORT == [
        {
            "resource_group": "rg",
            "name": "legacy",
            "changed": False,
            "failed": True,
            "msg": "upgrade policy of scale set legacy refused",
            "findings": [HEALTH, PINNED, STOPS],
            "upgrade_policy": upgrade_policy("Manual", False, percents=(20, 20, 20)),
        },
        {
            "resource_group": "rg",
            "name": "web",
            "changed": True,
            "failed": False,
            "msg": "",
            "findings": [],
            "upgrade_policy": upgrade_policy(),
        },
        {
            "resource_group": "rg",
            "name": "api",
            "changed": False,
            "failed": False,
            "msg": "",
            "findings": [],
            "upgrade_policy": upgrade_policy(no_rollback=True, percents=(50, 40, 30), pause="PT2M"),
        },
        {
            "resource_group": "rg",
            "name": "missing",
            "changed": False,
            "failed": True,
            "msg": MISSING,
            "findings": [],
            "upgrade_policy": None,
        },
    ]


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), (False, False), ("yes", True), ("false", False), (1, True), (0, False)]
)
def test_report_reads_changed_and_failed_as_ansible_booleans(value: Any, expected: bool) -> None:
    entry = upgrade_policy_report([result("web", changed=value, failed=value)])[0]
    assert (entry["changed"], entry["failed"]) == (expected, expected)


def test_report_of_a_result_without_its_item_names_what_it_takes() -> None:
    with pytest.raises(AnsibleFilterError, match=r"upgrade_policy_report takes the results of a loop .* no key 'item'"):
        upgrade_policy_report([{"changed": True}])


def test_policy_rows() -> None:
    assert [policy._policy_row(entry) for entry in REPORT] == [
        ["rg/legacy", "FAILED", "Manual", "off", "on", "20/20/20", "PT0S"],
        ["rg/web", "changed", "Rolling", "on", "on", "20/25/25", "PT0S"],
        ["rg/api", "ok", "Rolling", "on", "off", "50/40/30", "PT2M"],
        ["rg/missing", "FAILED", MISSING],
    ]


def test_table_reads_back_as_the_rows_with_the_findings_below_their_scale_set() -> None:
    lines = upgrade_policy_table(REPORT)
    scale_set_lines = [line for line in lines if not line.startswith(" ")]
    assert table(scale_set_lines) == [
        {
            "SCALE SET": "rg/legacy",
            "RESULT": "FAILED",
            "MODE": "Manual",
            "AUTO-OS": "off",
            "ROLLBACK": "on",
            "BATCH/UNH/UPG": "20/20/20",
            "PAUSE": "PT0S",
        },
        {
            "SCALE SET": "rg/web",
            "RESULT": "changed",
            "MODE": "Rolling",
            "AUTO-OS": "on",
            "ROLLBACK": "on",
            "BATCH/UNH/UPG": "20/25/25",
            "PAUSE": "PT0S",
        },
        {
            "SCALE SET": "rg/api",
            "RESULT": "ok",
            "MODE": "Rolling",
            "AUTO-OS": "on",
            "ROLLBACK": "off",
            "BATCH/UNH/UPG": "50/40/30",
            "PAUSE": "PT2M",
        },
        # No policy: the module's message runs on from the third column.
        {
            "SCALE SET": "rg/missing",
            "RESULT": "FAILED",
            "MODE": MISSING,
            "AUTO-OS": "",
            "ROLLBACK": "",
            "BATCH/UNH/UPG": "",
            "PAUSE": "",
        },
    ]
    # Each finding, indented, right after its scale set's line (then the next scale set's); severities in one column.
    legacy = lines.index(scale_set_lines[1])
    findings = lines[legacy + 1 : legacy + 4]
    assert [split_row(line) for line in findings] == [
        ["error", "HealthSourceMissing at properties.virtualMachineProfile.networkProfile.healthProbe"],
        ["error", "ImageVersionNotLatest at properties.virtualMachineProfile.storageProfile.imageReference.version"],
        [
            "warning",
            "PolicyStopsOnFirstUnhealthyInstance at "
            "properties.upgradePolicy.rollingUpgradePolicy.maxUnhealthyInstancePercent",
        ],
    ]
    assert lines[legacy + 4] == scale_set_lines[2]
    assert {cells(line)[0][0] for line in findings} == {4}
    assert len({cells(line)[1][0] for line in findings}) == 1


def test_table_of_an_empty_report_is_its_header() -> None:
    assert [split_row(line) for line in upgrade_policy_table([])] == [
        ["SCALE SET", "RESULT", "MODE", "AUTO-OS", "ROLLBACK", "BATCH/UNH/UPG", "PAUSE"]
    ]


def test_failure_message_names_each_refused_scale_set_with_its_errors_or_message() -> None:
    assert upgrade_policy_failure_message(REPORT).splitlines() == [
        "2 of 4 scale sets cannot take the upgrade policy; nothing was written to them:",
        "- rg/legacy:",
        f"    HealthSourceMissing at {HEALTH['path']}: {HEALTH['message']}",
        f"    ImageVersionNotLatest at {PINNED['path']}: {PINNED['message']}",
        "- rg/missing:",
        f"    {MISSING}",
    ]


def test_failure_message_is_empty_when_every_scale_set_took_the_policy() -> None:
    assert upgrade_policy_failure_message(REPORT[1:3]) == ""


@given(
    st.lists(
        st.tuples(st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True), st.booleans(), st.booleans()),
        unique_by=lambda t: t[0],
        max_size=20,
    )
)
def test_every_scale_set_is_one_row_and_every_failed_one_is_in_the_message(
    fleet: list[tuple[str, bool, bool]],
) -> None:
    results = [
        result(
            name,
            changed=changed and not failed,
            failed=failed,
            msg=f"{name} refused" if failed else "",
            findings=[PINNED] if failed else [],
            upgrade_policy=upgrade_policy(),
        )
        for name, changed, failed in fleet
    ]
    report = upgrade_policy_report(results)
    rows = table([line for line in upgrade_policy_table(report) if not line.startswith(" ")])
    assert [(row["SCALE SET"], row["RESULT"]) for row in rows] == [
        (f"rg/{name}", "FAILED" if failed else "changed" if changed else "ok") for name, changed, failed in fleet
    ]
    message = upgrade_policy_failure_message(report)
    named = [line[2:-1] for line in message.splitlines() if line.startswith("- ")]
    assert named == [f"rg/{name}" for name, _changed, failed in fleet if failed]
