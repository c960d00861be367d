# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet's latest run of a scale set: asked of the store once per call, then kept current by the runs the
call adds and the scale sets it deletes (issue 14: the engine asks it at every step of every run)."""

from __future__ import annotations

import copy

from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import KEY, Sim, sim  # noqa: F401 pylint: disable=unused-import


def test_the_latest_run_is_read_once_and_follows_the_calls_own_runs(sim: Sim) -> None:
    sim.publish("1.0.0")
    sim.vmss(3)
    sim.publish("1.1.0")
    sim.start(wait=False)
    queries: list[str] = []

    def within(store: Store) -> None:
        store.conn.set_trace_callback(queries.append)
        try:
            fleet = fleet_of(store)
            assert fleet.latest_run_id(KEY) == 1
            first = fleet.latest_run(KEY)
            assert first is not None and first["run_id"] == 1
            fleet.add_run(KEY, {**copy.deepcopy(first), "run_id": 2})
            assert fleet.latest_run_id(KEY) == 2
            latest = fleet.latest_run(KEY)
            assert latest is not None and latest["run_id"] == 2
            assert fleet.latest_run_id("nothing/here") is None
            fleet.add_run("nothing/here", {**copy.deepcopy(first), "run_id": 1})
            assert fleet.latest_run_id("nothing/here") == 1
            fleet.delete(KEY)
            assert fleet.latest_run_id(KEY) is None
            assert fleet.latest_run(KEY) is None
        finally:
            store.conn.set_trace_callback(None)

    sim.call(within, commit=False)
    assert sum("max(run_id)" in q for q in queries) == 2  # once per scale set asked
