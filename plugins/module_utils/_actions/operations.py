# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions a REST front door needs beside the modules' own: one run by id, the run in progress, a run's end.

Azure's long-running operations report on one run (the one a POST started) even after later runs
began, and a second ``osRollingUpgrade`` during a run is a 409 at the REST level (azure-behaviour-2
CF-1), where the module returns the running run instead.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, address
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._engine import orchestrator, rollouts
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run

# What an instant clock allows one request to move the clock by, at most (a year of virtual time).
FINISH_HORIZON = 366 * 86400


class RunStatus(TypedDict):
    """A run as an operation status needs it: ids, Azure's running status, times and error."""

    run_id: int
    kind: str
    code: str
    active: bool
    start: str | None
    end: str | None
    error: dict[str, Any] | None


def _status(run: Run) -> RunStatus:
    return {
        "run_id": int(run["run_id"]),
        "kind": str(run["kind"]),
        "code": str(run["status"]),
        "active": orchestrator.is_active(run),
        "start": format_timestamp(run["start"]),
        "end": format_timestamp(run["end"]) if run["end"] is not None else None,
        "error": dict(run["error"]) if run["error"] else None,
    }


def run_status(call: Call, resource_group: str, name: str, run_id: int) -> RunStatus | None:
    """One run of a scale set by its id, or None when there is no such run."""
    key, _record = address(call, resource_group, name)
    run = fleet_of(call.store).run(key, run_id)
    return None if run is None else _status(run)


def active_run(call: Call, resource_group: str, name: str) -> RunStatus | None:
    """The run in progress on a scale set (OS, extension or model rollout), or None."""
    key, _record = address(call, resource_group, name)
    run = fleet_of(call.store).latest_run(key)
    return _status(run) if orchestrator.is_active(run) and run is not None else None


def finish_active_run(call: Call, resource_group: str, name: str, horizon: int = FINISH_HORIZON) -> RunStatus | None:
    """Move the clock until the run in progress ends (an instant clock's rule); the run, or None if none ran."""
    key, _record = address(call, resource_group, name)
    run = fleet_of(call.store).latest_run(key)
    if run is None or not orchestrator.is_active(run):
        return None
    rollouts.drive(call.store, run, horizon)
    return _status(run)
