# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failed instances a run going on names in its error (azure-behaviour-2 ER-6), kept batch by batch in one
call (_engine/run_failures.py) rather than found by scanning the run's outcome at every batch end (issue 14).

The random fleets of test__orchestrator_properties.py compare the kept ids with a scan at every decision; this
one scenario holds the case that needs the orchestrator to report each result: a failure in a batch already read
earlier in the same call."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._engine import orchestrator
from ansible_collections.azsim.vmss.plugins.module_utils._engine.run_checks import failed_of
from ansible_collections.azsim.vmss.plugins.module_utils._engine.run_failures import run_failures
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import Sim, fault, sim  # noqa: F401 pylint: disable=unused-import


def test_a_failure_in_a_batch_already_read_is_named_in_the_same_call_azure_behaviour_2_er_6(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w0", "w6"])]})
    sim.publish("1.1.0")
    seen: list[tuple[int, list[str]]] = []
    original = orchestrator._Context.note_failures

    def noted(ctx: Any) -> None:
        original(ctx)
        assert run_failures(ctx.store, ctx.run).ids() == failed_of(ctx.run["outcome"])
        error = ctx.run["error"]
        targets = [d["target"] for d in error["details"]] if error else []
        if not seen or seen[-1][1] != targets:
            seen.append((len(ctx.run["batches"]), targets))

    monkeypatch.setattr(orchestrator._Context, "note_failures", noted)
    result = sim.start()  # one call: every batch in one transaction
    assert result["rolling_upgrade"]["properties"]["runningStatus"]["code"] == "Completed"
    # Batches of 2 (w0 w5, w1 w6, ...): w5 healthy first (the batch is read, nothing failed), then w0 fails at its
    # deadline in that same batch; w6 likewise in the second.
    assert seen == [
        (1, []),
        (1, ["web/virtualMachines/0"]),
        (2, ["web/virtualMachines/0", "web/virtualMachines/6"]),
    ]
