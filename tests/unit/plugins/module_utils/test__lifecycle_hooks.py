# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lifecycle hooks for automatic OS upgrades: azure-behaviour-2 LH-1...LH-20 (and decisions D2, D4, D5)."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.lifecycle_hooks import (
    lifecycle_hook_event,
    lifecycle_hook_events,
    update_event,
)
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._engine import hook_gate
from ansible_collections.azsim.vmss.plugins.module_utils._views.timeline import run_picture
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    KEY,
    NAME,
    RG,
    SUB,
    Sim,
    at,
    sim,
)

API = "2025-11-01"
SCHEDULING = "UpgradeAutoOSScheduling"
BATCH = "UpgradeAutoOSRollingBatchStarting"


def hooked(sim: Sim, n: int, hooks: list[dict[str, Any]]) -> None:
    """A scale set of ``n`` with automatic OS upgrade and ``hooks``; image 1.1.0 published at minute 0."""
    sim.vmss(n, api_version=API, lifecycle_hooks=hooks)
    sim.enable_automatic()
    sim.publish("1.1.0")


def events(sim: Sim, state: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sim.act(lifecycle_hook_events, {"resource_group": RG, "name": NAME, "state": state})[
        "events"
    ]
    return found


def decide(sim: Sim, check: bool = False, **params: Any) -> dict[str, Any]:
    full = {"resource_group": RG, "name": NAME, "event": None, "type": None, "state": None, "instance_ids": None}
    full["wait_until"] = None
    full.update(params)
    return sim.act(lifecycle_hook_event, full, check=check, commit=not check)


def changed(result: dict[str, Any]) -> bool:
    """What the glue reports: ``changed`` as given, else whether before and after differ."""
    return bool(result.get("changed", result["before"] != result["after"]))


def targets(event: dict[str, Any]) -> dict[str, str]:
    return {t["resource"]["id"].rsplit("/", 1)[-1]: t["actionState"] for t in event["properties"]["targetResources"]}


# -- the setting (LH-1...LH-6) ---------------------------------------------------------------------


def test_hooks_are_stored_with_type_defaults_lh_2_lh_4_lh_5(sim: Sim) -> None:
    result = sim.vmss(
        2, api_version=API, lifecycle_hooks=[{"type": SCHEDULING}, {"type": BATCH, "wait_duration": "PT2H"}]
    )
    assert result["vmss"]["properties"]["lifecycleHooksProfile"] == {
        "lifecycleHooks": [
            {"type": SCHEDULING, "waitDuration": "PT1H", "defaultAction": "Approve"},
            {"type": BATCH, "waitDuration": "PT2H", "defaultAction": "Approve"},
        ]
    }


def test_hooks_need_api_version_2025_11_01_lh_1(sim: Sim) -> None:
    with pytest.raises(InvalidInput) as caught:
        sim.vmss(2, lifecycle_hooks=[{"type": SCHEDULING}])
    assert caught.value.azure_error() == {
        "code": "BadRequest",
        "message": "Could not find member 'lifecycleHooksProfile' on object of type 'properties'.",
    }
    assert sim.record() is None, "nothing written"


@pytest.mark.parametrize(
    ("hooks", "words"),
    [
        ([{"type": "VMScaleSetVMDeleteStarting"}], "lifecycle_hooks[0].type"),
        ([{"type": BATCH}, {"type": BATCH}], "given twice"),
        ([{"type": BATCH, "wait_duration": "PT4H1S"}], "at most PT4H"),
        ([{"type": SCHEDULING, "wait_duration": "P2DT1S"}], "at most P2D"),
        ([{"type": SCHEDULING, "wait_duration": "PT0S"}], "more than PT0S"),
        ([{"type": SCHEDULING, "default_action": "Continue"}], "Approve or Reject"),
    ],
)
def test_bad_hooks_are_refused_lh_2_lh_3_lh_4_lh_20(sim: Sim, hooks: list[dict[str, Any]], words: str) -> None:
    sim.vmss(2, api_version=API)
    before = sim.dump()
    with pytest.raises(InvalidInput, match=words.replace("[", r"\[").replace("]", r"\]")) as caught:
        sim.vmss(api_version=API, lifecycle_hooks=hooks)
    assert caught.value.azure_error()["code"] == "InvalidParameter"
    assert sim.dump() == before


def test_changing_hooks_is_not_a_model_change_lh_6(sim: Sim) -> None:
    sim.vmss(2, api_version=API)
    version = sim.record()["model_version"]  # type: ignore[index]
    result = sim.vmss(api_version=API, lifecycle_hooks=[{"type": BATCH}])
    assert changed(result) is True
    assert result["simulator"]["model_version"] == version
    assert "rolling_upgrade" not in result
    assert changed(sim.vmss(api_version=API, lifecycle_hooks=[{"type": BATCH}])) is False


def test_removing_a_hook_keeps_the_events_already_raised_lh_6(sim: Sim) -> None:
    hooked(sim, 4, [{"type": SCHEDULING, "wait_duration": "PT2H"}])
    sim.advance("PT3H")
    sim.vmss(api_version=API, lifecycle_hooks=[])
    assert "lifecycleHooksProfile" not in sim.record()["model"]["properties"]  # type: ignore[index]
    [event] = events(sim)
    assert (event["properties"]["state"], event["properties"]["waitUntil"]) == ("Active", at(300))
    sim.advance("PT2H")
    assert events(sim)[0]["properties"]["state"] == "Completed"
    assert at(0, sim.runs()[0]["start"]) == at(300), "the event still decides the run it held"


def test_hooks_without_automatic_os_upgrade_never_fire_lh_19(sim: Sim) -> None:
    sim.vmss(2, api_version=API, lifecycle_hooks=[{"type": SCHEDULING}, {"type": BATCH}])
    sim.publish("1.1.0")
    sim.advance("P1D")
    assert events(sim) == []
    assert sim.runs() == []


# -- the Scheduling hook (LH-15) -------------------------------------------------------------------


def test_scheduling_event_holds_the_run_until_its_default_lh_15_lh_13(sim: Sim) -> None:
    hooked(sim, 4, [{"type": SCHEDULING, "wait_duration": "PT2H"}])
    reports = sim.advance("PT3H")  # §4: the platform would start the run at minute 180
    assert [r["type"] for r in reports] == ["LifecycleHookEventCreated"]
    assert sim.runs() == [], "LH-15.2: no run, no history entry while the event waits"
    [event] = events(sim)
    props = event["properties"]
    assert props["state"] == "Active"
    assert (props["timeCreated"], props["waitUntil"], props["maxWaitUntil"]) == (at(180), at(300), at(180 + 2 * 1440))
    assert targets(event) == {NAME: "Waiting"}, "D4: the scale set is the target"
    assert event["id"] == f"{sim.record()['model']['id']}/lifecycleHookEvents/{event['name']}"  # type: ignore[index]
    reports = sim.advance("PT2H")
    kinds = [r["type"] for r in reports]
    assert kinds[:3] == ["LifecycleHookEventDefaulted", "LifecycleHookEventCompleted", "RollingUpgradeStarted"]
    [run] = sim.runs()
    assert (run["started_by"], run["start"]) == ("Platform", sim.record()["platform"]["last_run_at"])  # type: ignore[index]
    assert at(0, run["start"]) == at(300)
    assert events(sim, "Completed")[0]["properties"]["targetResources"][0]["actionState"] == "Approved"


def test_scheduling_event_approved_starts_the_run_at_once_lh_15(sim: Sim) -> None:
    hooked(sim, 4, [{"type": SCHEDULING}])
    sim.advance("PT3H10M")
    result = decide(sim, type=SCHEDULING, state="approved")
    assert changed(result) is True
    assert result["events"][0]["properties"]["state"] == "Completed"
    [run] = sim.runs()
    assert at(0, run["start"]) == at(190)
    assert changed(decide(sim, event=result["events"][0]["name"], state="approved")) is False


def test_scheduling_event_rejected_means_no_run_for_that_version_lh_15(sim: Sim) -> None:
    hooked(sim, 4, [{"type": SCHEDULING}])
    sim.advance("PT3H")
    decide(sim, type=SCHEDULING, state="rejected")
    sim.advance("P1D")
    assert sim.runs() == []
    sim.publish("1.2.0")  # the next newer version raises a new event
    sim.advance("PT30M")
    assert [e["properties"]["state"] for e in events(sim)] == ["Active", "Completed"]


def test_a_newer_image_abandons_the_waiting_scheduling_event_lh_9(sim: Sim) -> None:
    hooked(sim, 4, [{"type": SCHEDULING, "wait_duration": "P1D"}])
    sim.advance("PT3H")
    sim.publish("1.2.0")
    sim.advance("PT30M")
    newest, older = events(sim)
    assert (newest["properties"]["state"], older["properties"]["state"]) == ("Active", "Abandoned")
    assert targets(older) == {NAME: "Abandoned"}


def test_delay_moves_the_default_and_is_bounded_by_max_wait_until_lh_12(sim: Sim) -> None:
    hooked(sim, 4, [{"type": SCHEDULING}])
    sim.advance("PT3H")
    name = events(sim)[0]["name"]
    with pytest.raises(InvalidInput, match="maxWaitUntil"):
        decide(sim, event=name, wait_until=at(180 + 2 * 1440 + 1))
    with pytest.raises(InvalidInput, match="later than now"):
        decide(sim, event=name, wait_until=at(180))
    assert changed(decide(sim, event=name, wait_until=at(600), check=True)) is True
    assert events(sim)[0]["properties"]["waitUntil"] == at(240), "check mode wrote nothing"
    assert changed(decide(sim, event=name, wait_until=at(600))) is True
    assert changed(decide(sim, event=name, wait_until=at(600))) is False
    sim.advance("PT6H59M")
    assert sim.runs() == []
    sim.advance("PT1M")
    assert at(0, sim.runs()[0]["start"]) == at(600)


def test_deleting_the_scale_set_removes_its_events_and_their_timers(sim: Sim) -> None:
    hooked(sim, 2, [{"type": SCHEDULING}])
    sim.advance("PT3H")
    assert [e["subject"] for e in sim.events(hook_gate.EVENT_KIND)] == [
        f"{KEY}/lifecyclehookevents/{events(sim)[0]['name']}"
    ]
    sim.vmss(state="absent")
    assert sim.events(hook_gate.EVENT_KIND) == []


# -- the BatchStarting hook (LH-16, D2, D5) --------------------------------------------------------


def test_every_batch_waits_for_its_event_and_defaults_after_30_minutes_lh_16_lh_17(sim: Sim) -> None:
    hooked(sim, 10, [{"type": BATCH}])
    sim.advance("PT3H")
    run = sim.run()
    assert run["status"] == "RollingForward" and run["batches"] == []
    assert sim.view()["rolling_upgrade"]["properties"]["progress"]["pendingInstanceCount"] == 10, "LH-16.3"
    [event] = events(sim)
    assert targets(event) == {"0": "Waiting", "5": "Waiting"}
    assert all(i["os_disk"]["image_version"] == "1.0.0" for i in sim.instances().values()), "nothing touched yet"
    sim.advance("P1D")
    run = sim.run()
    assert run["status"] == "Completed"
    # LH-17: five batches of two, each 30 minutes of waiting plus its 4 minutes of upgrade.
    assert at(0, run["end"] or 0) == at(180 + 5 * 34)
    assert len(events(sim, "Completed")) == 5


def test_rejected_instances_leave_the_run_neither_upgraded_nor_failed_lh_16_d5(sim: Sim) -> None:
    hooked(sim, 10, [{"type": BATCH}])
    sim.advance("PT3H")
    result = decide(sim, type=BATCH, state="rejected", instance_ids=["w0"])
    assert targets(result["events"][0]) == {"0": "Rejected", "5": "Waiting"}
    assert result["events"][0]["properties"]["state"] == "Active"
    result = decide(sim, type=BATCH, state="approved")
    assert result["events"][0]["properties"]["state"] == "Completed"
    run = sim.run()
    assert run["batches"][0]["instances"] == ["5"]
    assert run["outcome"]["0"]["result"] == "rejected_by_hook"
    sim.advance("PT4M")
    progress = sim.view()["rolling_upgrade"]["properties"]["progress"]
    assert progress == {
        "successfulInstanceCount": 1,
        "failedInstanceCount": 0,
        "inProgressInstanceCount": 0,
        "pendingInstanceCount": 8,
    }
    assert sim.run()["n"] == 10, "D5: rejected instances still count in N"
    by_name = {i["name"]: i for i in sim.view()["instances"]}
    assert by_name["w0"]["result"] == "rejected_by_hook"
    assert sim.instances()["w0"]["os_disk"]["image_version"] == "1.0.0"
    picture = run_picture(sim.run(), list(sim.instances().values()), {"reimage": 180, "boot": 60}, sim.now())
    assert [(r["name"], r["result"]) for r in picture["rows"] if r["batch"] is None][-1] == ("w0", "rejected_by_hook")
    with pytest.raises(Conflict) as caught:
        decide(sim, event=result["events"][0]["name"], state="approved", instance_ids=["w0"])
    assert caught.value.azure_error()["code"] == "Conflict", "LH-10: a terminal target cannot change"


def test_a_batch_all_rejected_moves_on_to_the_next_lh_16(sim: Sim) -> None:
    hooked(sim, 4, [{"type": BATCH}])  # batches of one (20% of 4)
    sim.advance("PT3H")
    decide(sim, type=BATCH, state="rejected")
    run = sim.run()
    assert run["batches"] == [] and run["outcome"]["0"]["result"] == "rejected_by_hook"
    [active] = events(sim, "Active")
    assert targets(active) == {"1": "Waiting"}


def test_cancel_abandons_the_waiting_batch_event_lh_16(sim: Sim) -> None:
    hooked(sim, 4, [{"type": BATCH}])
    sim.advance("PT3H")
    sim.cancel()
    assert sim.run()["status"] == "Cancelled"
    [event] = events(sim)
    assert event["properties"]["state"] == "Abandoned" and targets(event) == {"0": "Abandoned"}
    assert sim.events(hook_gate.EVENT_KIND) == []


def test_user_runs_raise_no_events_lh_3(sim: Sim) -> None:
    sim.vmss(4, api_version=API, lifecycle_hooks=[{"type": BATCH}, {"type": SCHEDULING}])
    sim.rolling()
    sim.publish("1.1.0")
    assert sim.start()["rolling_upgrade"]["properties"]["runningStatus"]["code"] == "Completed"
    assert events(sim) == []


# -- Azure's PATCH (LH-10, LH-11, LH-20) -----------------------------------------------------------


def test_patch_merges_targets_by_resource_id_lh_11_lh_20(sim: Sim) -> None:
    hooked(sim, 10, [{"type": BATCH}])
    sim.advance("PT3H")
    event = events(sim)[0]
    vm = event["properties"]["targetResources"][0]["resource"]["id"]

    def patch(name: str, **body: Any) -> dict[str, Any]:
        with sim.store.transaction():
            return update_event(Call(sim.store, SUB), RG, NAME, name, **body)

    with pytest.raises(InvalidInput, match="Approved or Rejected"):
        patch(event["name"], targets={vm: "Waiting"})
    with pytest.raises(InvalidInput, match="not a target"):
        patch(event["name"], targets={vm.replace("/0", "/7"): "Approved"})
    assert targets(patch(event["name"], targets={vm.upper(): "Approved"})) == {"0": "Approved", "5": "Waiting"}
    with pytest.raises(NotFound) as caught:
        patch("nope", targets={})
    assert caught.value.azure_error()["code"] == "NotFound"


def test_worked_timeline_lifecycle_hooks_docs_how_a_run_proceeds(sim: Sim) -> None:
    """The timeline of docs/how-a-run-proceeds.md "Lifecycle hooks" (LH-12, LH-13, LH-15, LH-16, LH-17, D2, D5)."""
    sim.vmss(names=[f"web-{i:02}" for i in range(1, 11)], api_version=API)
    sim.vmss(api_version=API, lifecycle_hooks=[{"type": SCHEDULING}, {"type": BATCH}])
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT3H")
    [scheduling] = events(sim)
    assert (scheduling["properties"]["timeCreated"], scheduling["properties"]["waitUntil"]) == (at(180), at(240))
    sim.advance("PT10M")
    decide(sim, type=SCHEDULING, state="approved")
    assert at(0, sim.run()["start"]) == at(190)
    [batch1] = events(sim, "Active")
    assert targets(batch1) == {"0": "Waiting", "5": "Waiting"} and batch1["properties"]["waitUntil"] == at(220)
    sim.advance("PT5M")
    decide(sim, type=BATCH, state="rejected", instance_ids=["web-06"])
    decide(sim, type=BATCH, state="approved")
    sim.advance("P1D")
    run = sim.run()
    starts = [(b["instances"], at(0, b["start"]), at(0, b["end"] or 0)) for b in run["batches"]]
    assert starts == [
        (["0"], at(195), at(199)),
        (["1", "6"], at(229), at(233)),
        (["2", "7"], at(263), at(267)),
        (["3", "8"], at(297), at(301)),
        (["4", "9"], at(331), at(335)),
    ]
    assert (run["status"], at(0, run["end"] or 0)) == ("Completed", at(335))
    progress = sim.view()["rolling_upgrade"]["properties"]["progress"]
    assert (progress["successfulInstanceCount"], progress["failedInstanceCount"]) == (9, 0)
    assert sim.instances()["web-06"]["os_disk"]["image_version"] == "1.0.0"
    assert [e["properties"]["state"] for e in events(sim)] == ["Completed"] * 6
