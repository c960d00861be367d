# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rolling upgrade stopped by something other than its health checks: azure-behaviour-2 ER-7 (the optional run
timeout, ``RollingUpgradeTimeoutError``) and ER-8 (``InternalExecutionError``, only by fault injection), driven
through the actions the modules call (``_fleet_helpers.Sim``).
"""

from __future__ import annotations

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import Sim, fault, latest_props, sim  # noqa: F401 pylint: disable=unused-import


def test_a_run_past_its_timeout_starts_no_new_batch_and_faults_azure_behaviour_2_er_7(sim: Sim) -> None:
    """ER-7: ten instances, batches of two taking 4 minutes each; with a 10-minute timeout the third batch (08:00)
    still starts and finishes, the fourth (12:00) does not: the run faults with Azure's code and the time it ran."""
    sim.vmss(10, simulation={"run_timeout": "PT10M"})
    sim.publish("1.1.0")
    result = sim.start()
    props = latest_props(result)
    assert props["runningStatus"]["code"] == "Faulted"
    assert props["error"]["code"] == "RollingUpgradeTimeoutError"
    assert props["error"]["message"] == "Rolling Upgrade timed out after 00:12:00."
    assert len(result["batches"]) == 3
    assert props["progress"]["successfulInstanceCount"] == 6 and props["progress"]["pendingInstanceCount"] == 4
    assert result["batches"][-1]["end"] == "2025-01-01T00:12:00Z"


def test_without_a_timeout_the_same_run_completes_azure_behaviour_2_er_7(sim: Sim) -> None:
    sim.vmss(10)
    sim.publish("1.1.0")
    props = latest_props(sim.start())
    assert props["runningStatus"]["code"] == "Completed" and "error" not in props


def test_an_injected_internal_execution_error_stops_the_run_azure_behaviour_2_er_8(sim: Sim) -> None:
    """ER-8: Azure documents no cause, so only the fault rule raises it; the batch going on at that time ends, then
    the run faults with Azure's code and text, and no details."""
    sim.vmss(10, simulation={"faults": [fault("internal_execution_error", at="PT5M")]})
    sim.publish("1.1.0")
    result = sim.start()
    props = latest_props(result)
    assert props["runningStatus"]["code"] == "Faulted"
    assert props["error"] == {
        "code": "InternalExecutionError",
        "target": None,
        "message": "An internal execution error occurred. Please retry later.",
        "details": [],
    }
    assert len(result["batches"]) == 2
    # The fault is the scale set's, not an instance's: the upgraded instances of both batches are upgraded.
    assert props["progress"]["successfulInstanceCount"] == 4


def test_an_internal_error_limited_to_another_image_version_does_not_stop_the_run_azure_behaviour_2_er_8(
    sim: Sim,
) -> None:
    sim.vmss(10, simulation={"faults": [fault("internal_execution_error", at="PT5M", image_version="9.9.9")]})
    sim.publish("1.1.0")
    assert latest_props(sim.start())["runningStatus"]["code"] == "Completed"


@pytest.mark.parametrize(
    ("simulation", "named"),
    [
        ({"run_timeout": "two hours"}, "simulation.run_timeout"),
        ({"faults": [fault("internal_execution_error")]}, "simulation.faults[0]"),
    ],
)
def test_bad_settings_name_the_option_and_write_nothing_azure_behaviour_2_er_7_er_8(
    sim: Sim, simulation: dict[str, object], named: str
) -> None:
    sim.vmss(2)
    before = sim.dump()
    with pytest.raises(InvalidInput, match=named.replace("[", r"\[").replace("]", r"\]")):
        sim.vmss(simulation=simulation)
    assert sim.dump() == before
