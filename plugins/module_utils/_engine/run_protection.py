# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Protection from scale-set actions set while a run is under way (azure-behaviour-2 IP-4, IP-6).

IP-4: a run does not touch an instance protected from scale-set actions. The run's start leaves out the instances
protected then (run_start.py); one protected later, while it still waits for its batch, leaves the run the
moment the protection is set, as if it had been protected at the start: it is no longer pending, it is listed
with the run's protected instances (result ``protected``, in no progress counter), and it still counts in N
(IP-6). SIMULATOR CHOICE: an instance whose batch is already cut (being upgraded, awaiting approval, or held
for a lifecycle hook's event) stays in it: the operation on it has begun, and Azure documents no cancellation.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import Fleet
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import is_protected_from_scale_set_actions
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import is_active


def leave_run_when_protected(fleet: Fleet, key: str) -> list[str]:
    """Take the scale set's newly protected instances out of its active run's pending ones; their ids."""
    run = fleet.latest_run(key)
    if run is None or not is_active(run) or not run["pending"]:
        return []
    by_id = fleet.by_id(key)
    held_batch = run.get("hook_batch")
    held = set(held_batch["instances"]) if held_batch else set()
    leaving = [
        iid
        for iid in run["pending"]
        if iid in by_id and iid not in held and is_protected_from_scale_set_actions(by_id[iid])
    ]
    if leaving:
        gone = set(leaving)
        run["pending"] = [iid for iid in run["pending"] if iid not in gone]
        run["protected"] = [*run.get("protected", []), *leaving]
        fleet.touch_run(key, run["run_id"])
    return leaving
