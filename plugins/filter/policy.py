# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that report what enforcing an upgrade policy on a fleet did (the upgrade_policy role).

- ``upgrade_policy_report``: one entry per scale set from the results of a loop of azsim.vmss.vmss_upgrade_policy;
- ``upgrade_policy_table``: that report as a table, the policy of each scale set and its findings;
- ``upgrade_policy_failure_message``: the message naming every scale set that could not take the policy.

The documentation of each filter is in the ``<filter>.yml`` file beside this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.azsim.vmss.plugins.plugin_utils._filter_input import expects
from ansible_collections.azsim.vmss.plugins.plugin_utils._tables import column_widths, format_row

_COLUMNS = ["SCALE SET", "RESULT", "MODE", "AUTO-OS", "ROLLBACK", "BATCH/UNH/UPG", "PAUSE"]
_REPORT = (
    "the list upgrade_policy_report returns (resource_group, name, changed, failed, msg, findings, upgrade_policy)"
)


@expects("the results of a loop of azsim.vmss.vmss_upgrade_policy whose items are {resource_group, name}")
def upgrade_policy_report(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per scale set, in the loop's order: {resource_group, name, changed, failed, msg, findings,
    upgrade_policy}; upgrade_policy is None when the module returned none (the scale set does not exist)."""
    return [
        {
            "resource_group": result["item"]["resource_group"],
            "name": result["item"]["name"],
            "changed": boolean(result.get("changed", False), strict=False),
            "failed": boolean(result.get("failed", False), strict=False),
            "msg": result.get("msg", ""),
            "findings": list(result.get("findings") or []),
            "upgrade_policy": result.get("upgrade_policy"),
        }
        for result in results
    ]


def _result(entry: Mapping[str, Any]) -> str:
    return "FAILED" if entry["failed"] else ("changed" if entry["changed"] else "ok")


def _on_off(value: Any) -> str:
    return "on" if value else "off"


def _policy_row(entry: Mapping[str, Any]) -> list[str]:
    """The scale set's row: name, result, then its policy after the task (mode, automatic OS upgrade on/off,
    automatic rollback on/off, batch/unhealthy/upgraded-unhealthy percentages, pause), or the module's message
    when it returned no policy."""
    scale_set = f"{entry['resource_group']}/{entry['name']}"
    policy = entry["upgrade_policy"] or {}
    if not policy:
        return [scale_set, _result(entry), str(entry["msg"])]
    automatic = policy.get("automaticOSUpgradePolicy") or {}
    rolling = policy.get("rollingUpgradePolicy") or {}
    percentages = "/".join(
        str(rolling.get(key, "-"))
        for key in ("maxBatchInstancePercent", "maxUnhealthyInstancePercent", "maxUnhealthyUpgradedInstancePercent")
    )
    return [
        scale_set,
        _result(entry),
        str(policy.get("mode", "-")),
        _on_off(automatic.get("enableAutomaticOSUpgrade")),
        _on_off(not automatic.get("disableAutomaticRollback")),
        percentages,
        str(rolling.get("pauseTimeBetweenBatches", "-")),
    ]


def _finding_rows(entry: Mapping[str, Any]) -> list[list[str]]:
    """One row per finding of the scale set: severity, 'code at path'."""
    return [[str(f["severity"]), f"{f['code']} at {f['path']}"] for f in entry["findings"]]


@expects(_REPORT)
def upgrade_policy_table(report: Sequence[Mapping[str, Any]]) -> list[str]:
    """A header, then one line per scale set with its findings indented below it."""
    rows = [_policy_row(entry) for entry in report]
    widths = column_widths([_COLUMNS, *rows])
    finding_widths = column_widths([row for entry in report for row in _finding_rows(entry)])
    lines = [format_row(_COLUMNS, widths)]
    for entry, row in zip(report, rows):
        lines.append(format_row(row, widths))
        lines += [format_row(finding, finding_widths, "    ") for finding in _finding_rows(entry)]
    return lines


@expects(_REPORT)
def upgrade_policy_failure_message(report: Sequence[Mapping[str, Any]]) -> str:
    """Which scale sets could not take the policy, each with its error findings (code at path: message), or the
    module's message when it has none. Empty when every scale set took it."""
    failed = [entry for entry in report if entry["failed"]]
    if not failed:
        return ""
    lines = [f"{len(failed)} of {len(report)} scale sets cannot take the upgrade policy; nothing was written to them:"]
    for entry in failed:
        lines.append(f"- {entry['resource_group']}/{entry['name']}:")
        errors = [f for f in entry["findings"] if f["severity"] == "error"]
        lines += [f"    {f['code']} at {f['path']}: {f['message']}" for f in errors] or [f"    {entry['msg']}"]
    return "\n".join(lines)


class FilterModule:
    """Upgrade policy reports."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "upgrade_policy_report": upgrade_policy_report,
            "upgrade_policy_table": upgrade_policy_table,
            "upgrade_policy_failure_message": upgrade_policy_failure_message,
        }
