# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: a scale set's OS upgrade history (Azure's ``osUpgradeHistory``) and its latest run.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, cast

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome, address
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._views import runs
from ansible_collections.azsim.vmss.plugins.module_utils._views.instance_pages import bound_result


class HistoryResult(Outcome):
    history: list[dict[str, Any]]
    latest: dict[str, Any] | None
    batches: list[dict[str, Any]]
    instances: list[dict[str, Any]]
    now: str


def upgrade_history(call: Call, resource_group: str, name: str, *, every_run: bool = False) -> HistoryResult:
    """osUpgradeHistory (Azure's last five within two months, or ``every_run``) and rollingUpgrades/latest.

    Beyond Azure's two calls it returns the batches and per-instance results of the most recent OS
    upgrade, which Azure shows only in the portal, so that playbooks can act on each host's outcome.
    """
    store = call.store
    key, record = address(call, resource_group, name)
    fleet = fleet_of(store)
    os_runs = runs.history_runs(store, key, every_run)  # azure-behaviour §5: five within two months
    latest = fleet.latest_run(key)
    last_os = os_runs[0] if os_runs and every_run else next(iter(fleet.recent_runs(key, "os", None, 1)), None)
    view = runs.run_view(store, key, last_os)
    return {
        "changed": False,
        "history": runs.history(os_runs, record),
        "latest": runs.latest_view(latest, record) if latest else None,
        "batches": view["batches"],
        "instances": view["instances"],
        "now": view["now"],
    }


def latest_upgrade(call: Call, resource_group: str, name: str) -> dict[str, Any] | None:
    """rollingUpgrades/latest alone: ``upgrade_history``'s ``latest``, without the history and the last OS run's
    per-instance view that it builds too (the ARM GET of the latest run, bench/arm_endpoint.py's hot path)."""
    key, record = address(call, resource_group, name)
    latest = fleet_of(call.store).latest_run(key)
    return runs.latest_view(latest, record) if latest else None


def history_result(
    call: Call, resource_group: str, name: str, *, every_run: bool = False, return_all_instances: bool = False
) -> HistoryResult:
    """Module ``vmss_upgrade_history``: ``upgrade_history``, its per-instance results bounded."""
    result = upgrade_history(call, resource_group, name, every_run=every_run)
    bound_result(cast(dict[str, Any], result), return_all_instances)
    return result
