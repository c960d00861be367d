# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs as Azure shows them: rollingUpgrades/latest, osUpgradeHistory, and per-batch/instance results.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import is_flexible
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import FAILED_RESULTS, Run
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import public_instance, unprotected_policy
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

# An instance's result as the modules return it: an instance still in its batch shows as pending.
InstanceResult = Literal[
    "upgraded",
    "failed",
    "rolled_back",
    "rollback_failed",
    "rejected_by_hook",
    "protected",
    "skipped_by_application",
    "pending",
    "skipped",
]

TYPE = "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades"
# azure-behaviour §5: osUpgradeHistory holds "the last five OS upgrade attempts within the past two months".
HISTORY_WINDOW = 60 * 86400
HISTORY_LIMIT = 5


def _ts(value: int | None) -> str | None:
    return None if value is None else format_timestamp(value)


def progress(run: Run) -> dict[str, int]:
    """``progress`` (azure-behaviour §5); failedInstanceCount counts every failed upgrade, rolled back or not."""
    results = [o["result"] for o in run["outcome"].values()]
    return {
        "successfulInstanceCount": sum(r == "upgraded" for r in results),
        "failedInstanceCount": sum(r in FAILED_RESULTS for r in results),
        "inProgressInstanceCount": sum(r == "in_progress" for r in results),
        "pendingInstanceCount": len(run["pending"]),
    }


def rollback_info(run: Run) -> dict[str, Any]:
    """``rollbackInfo`` (azure-behaviour §5), always present: zeros for manual runs (design.md, precise points)."""
    results = [o["result"] for o in run["outcome"].values()]
    failed = sorted(run["rollback_errors"], key=int)
    return {
        "successfullyRolledbackInstanceCount": sum(r == "rolled_back" for r in results),
        "failedRolledbackInstanceCount": sum(r == "rollback_failed" for r in results),
        "rollbackError": (
            {
                "code": "OSRollbackFailed",
                "message": f"Restoring the previous OS disk failed on {len(failed)} instance(s): {', '.join(failed)}.",
                "details": [],
            }
            if failed
            else None
        ),
    }


def latest_view(run: Run, record: Record) -> dict[str, Any]:
    """``GET .../rollingUpgrades/latest`` (azure-behaviour §5), for the latest run of any kind, however old."""
    properties: dict[str, Any] = {
        "policy": dict(run["policy"]),
        "runningStatus": {
            "code": run["status"],
            "startTime": _ts(run["start"]),
            "lastAction": run["last_action"],
            "lastActionTime": _ts(run["last_action_time"]),
        },
        "progress": progress(run),
    }
    if run["error"]:
        properties["error"] = run["error"]
    return {"properties": properties, "type": TYPE, "location": record["model"]["location"]}


def history_item(run: Run, record: Record) -> dict[str, Any]:
    """One entry of ``GET .../osUpgradeHistory``; ``endTime`` as the API names it (azure-behaviour §5)."""
    properties: dict[str, Any] = {
        "runningStatus": {"code": run["status"], "startTime": _ts(run["start"]), "endTime": _ts(run["end"])},
        "progress": progress(run),
        "startedBy": run["started_by"],
        "targetImageReference": run["target_reference"],
        "rollbackInfo": rollback_info(run),
    }
    if run["error"]:
        properties["error"] = run["error"]
    return {"properties": properties, "type": TYPE, "location": record["model"]["location"]}


def history(runs: list[Run], record: Record) -> list[dict[str, Any]]:
    """``osUpgradeHistory`` items of OS upgrade runs given newest first."""
    return [history_item(r, record) for r in runs]


def history_runs(store: Store, key: str, every_run: bool = False) -> list[Run]:
    """The OS upgrade runs ``osUpgradeHistory`` shows, newest first (azure-behaviour §5).

    Azure's rule, in this one place: the last HISTORY_LIMIT (five) started within HISTORY_WINDOW (two
    months) of the virtual now. ``every_run`` is the simulator's own ``all: true``: every run it kept.
    """
    fleet = fleet_of(store)
    if every_run:
        return fleet.recent_runs(key, "os")
    return fleet.recent_runs(key, "os", store.now() - HISTORY_WINDOW, HISTORY_LIMIT)


def batches_view(run: Run, names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "index": b["index"],
            "instances": [names.get(i, i) for i in b["instances"]],
            "zone": b["zone"],
            "update_domain": b["update_domain"],
            # azure-behaviour-2 FX-5: a Flexible run's batches name their fault domain.
            **({"fault_domain": b["fault_domain"]} if "fault_domain" in b else {}),
            "start": _ts(b["start"]),
            "end": _ts(b["end"]),
            "result": b["result"] or "in_progress",
        }
        for b in run["batches"]
    ]


def instance_results(run: Run | None, record: Record, instances: list[Instance]) -> list[dict[str, Any]]:
    """Each instance with its outcome in ``run``: upgraded, rolled_back, rollback_failed, failed, skipped, pending."""
    out = []
    pending = set(run["pending"]) if run else set()
    protected = set(run.get("protected", [])) if run else set()
    skipped_by_app = set(run.get("skipped_by_application", [])) if run else set()
    batched = batched_ids(run) if run else {}
    flexible = is_flexible(record)
    unprotected = unprotected_policy()
    for instance in instances:
        view = public_instance(instance, record, flexible, unprotected)
        iid = instance["instance_id"]
        outcome = run["outcome"].get(batched.get(iid, iid)) if run else None
        result: InstanceResult
        batch: int | None
        if outcome is not None:
            result = outcome["result"] if outcome["result"] != "in_progress" else "pending"
            batch = outcome["batch"]
        else:
            # azure-behaviour-2 IP-6: protected instances are left alone by the run, and not counted as failed.
            if iid in pending:
                result = "pending"
            elif iid in protected:
                result = "protected"
            else:
                # AH-13: the application reported SkipUpgrade when the run started; left alone, not failed.
                result = "skipped_by_application" if iid in skipped_by_app else "skipped"
            batch = None
        view["result"] = result
        view["batch"] = batch
        out.append(view)
    return out


def plan_view(run: Run, names: dict[str, str]) -> dict[str, Any]:
    """Check mode's ``plan``: the batches the engine ran on a throw-away copy, and when the run ends."""
    return {
        "start": _ts(run["start"]),
        "end": _ts(run["end"]),
        "status": run["status"],
        "batches": [{k: v for k, v in b.items() if k != "result"} for b in batches_view(run, names)],
    }


class RunView(TypedDict):
    """A run with its scale set's instances, as the run-related actions return it."""

    rolling_upgrade: dict[str, Any] | None
    batches: list[dict[str, Any]]
    instances: list[dict[str, Any]]
    now: str


def batched_ids(run: Run) -> dict[str, str]:
    """maxSurge (azure-behaviour-2 MS-3, D10): the id the run batched, for each instance that replaces one
    or is being created to replace one; a run keeps its results under the ids it batched."""
    found = {new: old for old, new in run.get("replaced", {}).items()}
    found.update({f["surge"]: old for old, f in run["flight"].items() if "surge" in f})
    return found


def instance_names(instances: list[Instance], run: Run | None = None) -> dict[str, str]:
    """Host names by instance id, also under the ids a maxSurge run replaced (their successors keep the name)."""
    names = {i["instance_id"]: i["name"] for i in instances}
    if run is not None:
        for new, old in batched_ids(run).items():
            if new in names:
                names.setdefault(old, names[new])
    return names


def run_view(store: Store, key: str, run: Run | None) -> RunView:
    fleet = fleet_of(store)
    record = fleet.record(key)
    if record is None:
        raise AssertionError(f"scale set {key} is not in the store")
    instances = fleet.instances(key)
    return {
        "rolling_upgrade": latest_view(run, record) if run else None,
        "batches": batches_view(run, instance_names(instances, run)) if run else [],
        "instances": instance_results(run, record, instances),
        "now": format_timestamp(store.now()),
    }
