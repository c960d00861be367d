# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application Health rich states and custom metrics: azure-behaviour-2 §3 (AH-3, AH-5, AH-8, AH-11…AH-14) and D5,
driven through the actions the modules call (``_fleet_helpers.Sim``).
"""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import rest_model
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    HEALTH_EXTENSION,
    Sim,
    batch_names,
    by_name,
    fault,
    latest_props,
    sim,
)


def health_extension(**settings: Any) -> dict[str, Any]:
    """The rich-states (2.0) http health extension, with ``settings`` added or replaced."""
    base = cast(dict[str, Any], HEALTH_EXTENSION["settings"])
    return {**HEALTH_EXTENSION, "settings": {**base, **settings}}


def fleet(n: int, metrics: dict[str, dict[str, Any]]) -> list[Any]:
    return [{"name": f"w{i}", "custom_metrics": metrics[f"w{i}"]} if f"w{i}" in metrics else f"w{i}" for i in range(n)]


def phase(number: int) -> dict[str, Any]:
    return {"phase_ordering_number": number}


SKIP = {"skip_upgrade": True}


def build(sim: Sim, n: int, metrics: dict[str, dict[str, Any]], extension: dict[str, Any] | None = None) -> None:
    sim.vmss(names=fleet(n, metrics), extensions=[extension or health_extension()])
    sim.publish("1.1.0")


# == AH-11: phases ===================================================================================================


def test_batches_follow_phases_in_ascending_order_and_never_mix_them_azure_behaviour_2_ah_11(sim: Sim) -> None:
    build(sim, 10, {"w8": phase(0), "w9": phase(0), "w0": phase(1), "w5": phase(1), "w3": phase(7)})
    result = sim.start()
    assert latest_props(result)["runningStatus"]["code"] == "Completed"
    batches = batch_names(result)
    # Phase 0 (w8 in UD 3, w9 in UD 4: two batches), phase 1 (w0 and w5, both UD 0: one batch of 2 = 20% of 10),
    # phase 7, then the last phase: everything without a phase in the §3.3 order.
    assert batches[:4] == [["w8"], ["w9"], ["w0", "w5"], ["w3"]]
    assert batches[4:] == [["w1", "w6"], ["w2", "w7"], ["w4"]]


def test_prioritize_unhealthy_orders_within_a_phase_only_azure_behaviour_2_ah_11(sim: Sim) -> None:
    sim.vmss(
        names=[{"name": "w0", "custom_metrics": phase(0)}, {"name": "w1", "health": "Unhealthy"}, "w2"],
        extensions=[health_extension()],
    )
    sim.rolling(prioritize_unhealthy_instances=True, max_unhealthy_instance_percent=100)
    sim.publish("1.1.0")
    # The unhealthy w1 is in the last phase: it is first there, but after phase 0.
    assert batch_names(sim.start())[:2] == [["w0"], ["w1"]]


# == AH-13, D5: SkipUpgrade ==========================================================================================


def test_skip_upgrade_leaves_the_instance_out_but_in_n_azure_behaviour_2_ah_13_d5(sim: Sim) -> None:
    build(sim, 10, {"w0": SKIP})
    result = sim.start()
    props = latest_props(result)
    assert props["progress"]["successfulInstanceCount"] == 9
    assert props["progress"]["failedInstanceCount"] == 0
    w0 = by_name(result)["w0"]
    assert w0["result"] == "skipped_by_application" and w0["os_disk"]["image_version"] == "1.0.0"
    # N stays 10: w5 alone in UD 0 is still a batch of at most 2, and the UD 1 batch has 2.
    assert batch_names(result)[:2] == [["w5"], ["w1", "w6"]]


# == AH-12, AH-14, AH-8: when and from whom the metrics are read =====================================================


def test_metrics_are_read_once_at_run_start_azure_behaviour_2_ah_12(sim: Sim) -> None:
    build(sim, 10, {"w9": phase(0)})
    sim.start(wait=False)
    # The application of w4 now asks to be skipped, and w1 to go first: the run in progress does not see it.
    sim.vmss(names=fleet(10, {"w9": phase(0), "w4": SKIP, "w1": phase(0)}))
    sim.advance("PT3H")
    result = sim.upgrade("started")  # the finished run, returned (nothing newer is due)
    assert by_name(result)["w4"]["result"] == "upgraded"
    assert batch_names(result)[:2] == [["w9"], ["w0", "w5"]]


def test_metrics_of_an_instance_not_healthy_at_start_are_ignored_azure_behaviour_2_ah_14(sim: Sim) -> None:
    sim.vmss(
        names=[{"name": "w0", "health": "Unhealthy", "custom_metrics": SKIP}, "w1", "w2"],
        extensions=[health_extension()],
    )
    sim.rolling(max_unhealthy_instance_percent=100)
    sim.publish("1.1.0")
    assert by_name(sim.start())["w0"]["result"] != "skipped_by_application"


@pytest.mark.parametrize(
    "extension",
    [
        {**HEALTH_EXTENSION, "type_handler_version": "1.0"},  # binary states
        health_extension(protocol="tcp"),  # TCP
    ],
    ids=["binary", "tcp"],
)
def test_metrics_need_rich_states_over_http_azure_behaviour_2_ah_8(sim: Sim, extension: dict[str, Any]) -> None:
    build(sim, 3, {"w0": SKIP, "w2": phase(0)}, extension)
    result = sim.start()
    assert by_name(result)["w0"]["result"] == "upgraded"
    assert batch_names(result)[0] == ["w0"]


def test_bad_custom_metrics_name_the_option_azure_behaviour_2_ah_9(sim: Sim) -> None:
    with pytest.raises(InvalidInput) as caught:
        sim.vmss(names=[{"name": "w0", "custom_metrics": {"phase_ordering_number": -1}}])
    assert caught.value.message.startswith("instances[0].custom_metrics.phase_ordering_number: -1 is not allowed")


# == AH-3, AH-5: Initializing after every upgrade, and the wait for health ===========================================


def test_initializing_after_the_upgrade_until_the_application_answers_azure_behaviour_2_ah_3(sim: Sim) -> None:
    simulation = {"faults": [fault("app_initializing", delay="PT3M", instances=["w0"])]}
    sim.vmss(names=["w0"], extensions=[health_extension()], simulation=simulation)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT5M")  # reimage and boot are over; the application has not answered yet
    assert sim.instances()["w0"]["health"] == "Initializing"
    sim.advance("PT10M")
    assert sim.instances()["w0"]["health"] == "Healthy"
    assert sim.run()["outcome"][sim.instances()["w0"]["instance_id"]]["result"] == "upgraded"


@pytest.mark.parametrize(("grace", "result"), [(None, "failed"), (1200, "upgraded")])
def test_health_wait_is_the_longer_of_five_minutes_and_the_grace_period_azure_behaviour_2_ah_5(
    sim: Sim, grace: int | None, result: str
) -> None:
    settings = {} if grace is None else {"gracePeriod": grace}
    simulation = {"faults": [fault("app_initializing", delay="PT10M", instances=["w0"])]}
    sim.vmss(names=["w0", "w1"], extensions=[health_extension(**settings)], simulation=simulation)
    sim.rolling(max_unhealthy_upgraded_instance_percent=100)
    sim.publish("1.1.0")
    assert by_name(sim.start())["w0"]["result"] == result


@pytest.mark.parametrize(("protocol", "health"), [("http", "Unknown"), ("https", "Unknown"), ("tcp", "Unhealthy")])
def test_initializing_past_the_deadline_is_unknown_and_failed_azure_behaviour_2_ah_3_ah_5(
    sim: Sim, protocol: str, health: str
) -> None:
    """AH-3: when the grace period expires still Initializing, http(s) says Unknown and tcp Unhealthy; AH-4, AH-5:
    either is unhealthy at the deadline ``max(PT5M, gracePeriod)``, so the instance failed its batch."""
    simulation = {"faults": [fault("app_initializing", delay="PT30M", instances=["w0"])]}
    settings = {"protocol": protocol, "gracePeriod": 600}
    if protocol == "tcp":
        settings["requestPath"] = None
    sim.vmss(names=["w0", "w1"], extensions=[health_extension(**settings)], simulation=simulation)
    sim.rolling(max_unhealthy_upgraded_instance_percent=100)
    sim.publish("1.1.0")
    sim.start(wait=False)
    sim.advance("PT11M")  # reimage and boot are over, the deadline (10 minutes after the reimage) is not
    assert sim.instances()["w0"]["health"] == "Initializing"
    sim.advance("PT2M")  # past the deadline: the health extension's grace period has expired
    assert sim.instances()["w0"]["health"] == health
    iid = sim.instances()["w0"]["instance_id"]
    assert sim.run()["outcome"][iid]["result"] in ("failed", "rolled_back")
    assert sim.run()["batches"][0]["failed"] == 1


def test_worked_timeline_protection_and_phases_docs_how_a_run_proceeds(sim: Sim) -> None:
    """docs/how-a-run-proceeds.md, "Protected and skipped instances, phases": IP-4, IP-6, AH-11, AH-13, D5."""
    hosts: list[Any] = [f"web-{i:02d}" for i in range(1, 11)]
    hosts[1] = {"name": "web-02", "protection": {"from_scale_set_actions": True}}
    hosts[2] = {"name": "web-03", "custom_metrics": SKIP}
    hosts[4] = {"name": "web-05", "custom_metrics": phase(0)}
    hosts[9] = {"name": "web-10", "custom_metrics": phase(0)}
    sim.vmss(names=hosts, extensions=[health_extension()])
    sim.publish("1.1.0")
    result = sim.start()
    assert [(b["instances"], b["start"][11:16], b["end"][11:16]) for b in result["batches"]] == [
        (["web-05", "web-10"], "00:00", "00:04"),
        (["web-01", "web-06"], "00:04", "00:08"),
        (["web-07"], "00:08", "00:12"),
        (["web-08"], "00:12", "00:16"),
        (["web-04", "web-09"], "00:16", "00:20"),
    ]
    props = latest_props(result)
    assert props["runningStatus"]["code"] == "Completed"
    assert props["progress"]["successfulInstanceCount"] == 8
    results = {i["name"]: i["result"] for i in result["instances"]}
    assert results["web-02"] == "protected" and results["web-03"] == "skipped_by_application"


def test_instance_view_shows_the_metrics_under_the_health_extension_azure_behaviour_2_ah_10(sim: Sim) -> None:
    result = sim.vmss(names=fleet(2, {"w0": {"phase_ordering_number": 2}}), extensions=[health_extension()])
    views = {
        i["name"]: rest_model.vm_instance_view(result["vmss"], i, "2025-01-01T00:00:00Z") for i in result["instances"]
    }
    health = next(e for e in views["w0"]["extensions"] if e["name"] == "health")
    assert health["type"] == "Microsoft.ManagedServices.ApplicationHealthLinux"
    substatus = health["substatuses"][0]
    assert substatus["code"] == "ComponentStatus/CustomMetrics/succeeded"
    # AH-9: a JSON string (double-serialized), not an object.
    assert json.loads(substatus["message"]) == {"rollingUpgrade": {"PhaseOrderingNumber": 2, "SkipUpgrade": False}}
    assert "substatuses" not in next(e for e in views["w1"]["extensions"] if e["name"] == "health")
