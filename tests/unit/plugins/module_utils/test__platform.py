# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When the platform starts automatic OS upgrades by itself: azure-behaviour §4 (automatic, gallery images)."""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._engine import platform
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    GALLERY_IMAGE,
    SUB,
    Sim,
    at,
    fault,
    sim,
    ts,
)


def started_by(sim: Sim) -> list[tuple[str, str, str]]:
    """(startedBy, start, target version) of every OS upgrade run, oldest first."""
    return [(r["started_by"], at(0, r["start"]), r["target_version"]) for r in sim.runs() if r["kind"] == "os"]


def test_first_run_starts_three_hours_after_enablement_azure_4_automatic(sim: Sim) -> None:
    sim.vmss(10)
    sim.publish("1.1.0")  # the newer image is there before automatic upgrade is enabled
    sim.advance("PT1H")
    sim.enable_automatic()
    assert sim.pending_platform_start() == at(240)
    sim.advance("PT2H59M59S")
    assert started_by(sim) == []
    events = sim.advance("PT1S")
    assert started_by(sim) == [("Platform", at(240), "1.1.0")]
    assert [e["type"] for e in events][:2] == ["RollingUpgradeStarted", "BatchStarted"]
    sim.advance("PT1H")
    item = sim.history()["history"][0]["properties"]
    assert item["startedBy"] == "Platform"
    assert item["runningStatus"] == {"code": "Completed", "startTime": at(240), "endTime": at(260)}


def test_first_run_starts_three_hours_after_the_image_appears_when_later_azure_4_automatic(sim: Sim) -> None:
    sim.vmss(10)
    sim.enable_automatic()
    assert sim.pending_platform_start() is None, "nothing newer than what the instances run"
    sim.advance("PT2H")
    sim.publish("1.1.0")
    assert sim.pending_platform_start() == at(120 + 180)
    sim.advance("PT5H")
    assert started_by(sim) == [("Platform", at(300), "1.1.0")]


def test_enablement_by_editing_the_record_and_rescheduling_azure_4_automatic(sim: Sim) -> None:
    sim.vmss(10)
    sim.publish("1.1.0")

    def enable(record: Record) -> None:
        record["model"]["properties"]["upgradePolicy"]["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] = True
        record["automatic_os_upgrade_enabled_at"] = sim.now()

    sim.advance("PT30M")
    sim.edit_record(enable)
    sim.advance("PT4H")
    assert started_by(sim) == [("Platform", at(210), "1.1.0")]


def test_later_runs_start_thirty_minutes_after_a_newer_image_azure_4_automatic(sim: Sim) -> None:
    sim.vmss(10)
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT5H")
    sim.publish("1.2.0")
    assert sim.pending_platform_start() == at(300 + 30)
    sim.advance("PT29M59S")
    assert len(started_by(sim)) == 1
    sim.advance("PT1S")
    assert started_by(sim) == [("Platform", at(180), "1.1.0"), ("Platform", at(330), "1.2.0")]
    sim.advance("PT1H")
    history = sim.history()["history"]
    assert [h["properties"]["targetImageReference"]["version"] for h in history] == ["1.2.0", "1.1.0"]


def test_newer_image_during_a_run_starts_the_next_run_after_this_one_azure_4_automatic(sim: Sim) -> None:
    sim.vmss(10)
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("PT3H5M")
    sim.publish("1.2.0")  # at 3:05, while the 1.1.0 run goes until 3:20
    sim.advance("PT2H")
    assert started_by(sim) == [("Platform", at(180), "1.1.0"), ("Platform", at(215), "1.2.0")]


def test_publishing_alone_starts_nothing_until_the_clock_moves_azure_4_automatic(sim: Sim) -> None:
    sim.vmss(10)
    sim.enable_automatic()
    sim.advance("P1D")
    sim.publish("1.1.0")
    assert started_by(sim) == []
    assert sim.pending_platform_start() == at(24 * 60 + 180)
    sim.advance("PT2H")
    assert started_by(sim) == []
    sim.advance("PT1H")
    assert started_by(sim) == [("Platform", at(24 * 60 + 180), "1.1.0")]


def test_only_the_clock_moving_starts_a_platform_run_azure_4_automatic(sim: Sim) -> None:
    """vm_image publishes and schedules; sim_clock (any move of the clock) starts the run."""
    sim.vmss(10)
    sim.enable_automatic()
    sim.advance("PT4H")
    sim.publish("1.1.0")
    assert started_by(sim) == []
    assert sim.view()["rolling_upgrade"] is None
    sim.advance("PT2H59M")
    assert started_by(sim) == []
    sim.advance("PT1M")
    assert started_by(sim) == [("Platform", at(420), "1.1.0")]


def test_no_platform_run_without_automatic_os_upgrade_azure_4_automatic(sim: Sim) -> None:
    sim.vmss(10)
    sim.publish("1.1.0")
    sim.advance("P2D")
    assert started_by(sim) == []
    assert sim.pending_platform_start() is None


def test_a_version_already_tried_is_not_tried_again_platform_docstring(sim: Sim) -> None:
    sim.vmss(names=[f"w{i}" for i in range(7)] + [{"name": f"w{i}", "health": "Unhealthy"} for i in (7, 8, 9)])
    sim.enable_automatic()
    sim.publish("1.1.0")
    sim.advance("P3D")
    runs = started_by(sim)
    assert runs == [("Platform", at(180), "1.1.0")]
    assert sim.run()["status"] == "Faulted"
    sim.publish("1.2.0")
    sim.advance("P1D")
    assert [r[2] for r in started_by(sim)] == ["1.1.0", "1.2.0"], "a newer version is tried"


def test_platform_event_is_cancelled_when_automatic_upgrade_is_turned_off_azure_4_automatic(sim: Sim) -> None:
    sim.vmss(10)
    sim.enable_automatic()
    sim.publish("1.1.0")
    assert sim.pending_platform_start() == at(180)
    sim.policy(automatic={"enabled": False})
    assert sim.pending_platform_start() is None
    sim.advance("P1D")
    assert started_by(sim) == []


# -- gallery images ---------------------------------------------------------------------------------


def gallery_scale_set(sim: Sim, opt_in: bool = True) -> None:
    """Ten instances on gallery version 1.0.0 (eastus), automatic OS upgrade enabled at 0:00."""
    sim.publish_gallery("1.0.0", regions=["eastus"])
    sim.vmss(10, image={"id": GALLERY_IMAGE})
    if opt_in:
        sim.opt_in_gallery()  # takes virtual time: the clock is moved back to a known point below
        assert sim.now() <= ts(at(60))
        sim.advance_to(at(60))
        sim.enable_automatic()
    else:
        sim.advance_to(at(60))

        def enable(record: Record) -> None:
            policy = record["model"]["properties"]["upgradePolicy"]
            policy["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] = True
            record["automatic_os_upgrade_enabled_at"] = sim.now()

        sim.edit_record(enable)


def test_gallery_version_counts_only_once_replicated_to_the_region_azure_4_gallery(sim: Sim) -> None:
    gallery_scale_set(sim)
    sim.publish_gallery("1.1.0", regions=["westus"])
    assert sim.pending_platform_start() is None
    sim.advance("PT5H")  # 6:00
    assert started_by(sim) == []
    sim.publish_gallery("1.1.0", regions=["westus", "eastus"])  # replicated to eastus at 6:00
    assert sim.pending_platform_start() == at(360 + 180), "the first run: 3 h after the image became available"
    sim.advance("PT3H")
    assert started_by(sim) == [("Platform", at(540), "1.1.0")]
    target = sim.history()["history"][0]["properties"]["targetImageReference"]
    assert target == {"id": f"{GALLERY_IMAGE}/versions/1.1.0"}


def test_gallery_later_run_thirty_minutes_after_replication_azure_4_gallery(sim: Sim) -> None:
    gallery_scale_set(sim)
    sim.publish_gallery("1.1.0", regions=["eastus"])
    sim.advance("PT4H")  # first run 4:00-4:20
    sim.publish_gallery("1.2.0", regions=["westus"])
    sim.advance("PT1H")
    sim.publish_gallery("1.2.0", regions=["westus", "eastus"])
    assert sim.pending_platform_start() == at(360 + 30)


def test_gallery_version_excluded_from_latest_does_not_count_azure_4_gallery(sim: Sim) -> None:
    gallery_scale_set(sim)
    sim.publish_gallery("1.1.0", regions=["eastus"], exclude=True)
    assert sim.pending_platform_start() is None
    sim.advance("P1D")
    assert started_by(sim) == []
    sim.publish_gallery("1.1.0", exclude=False)
    assert sim.pending_platform_start() is not None
    sim.advance("PT4H")
    assert [r[2] for r in started_by(sim)] == ["1.1.0"]


def test_gallery_without_the_subscription_opt_in_starts_nothing_azure_2_rule_3(sim: Sim) -> None:
    gallery_scale_set(sim, opt_in=False)
    sim.publish_gallery("1.1.0", regions=["eastus"])
    sim.advance("P1D")
    assert started_by(sim) == []


def test_latest_available_reports_the_replication_time_azure_4_gallery(sim: Sim) -> None:
    sim.publish_gallery("1.0.0", regions=["westus"])
    sim.advance("PT1H")
    sim.publish_gallery("1.0.0", regions=["westus", "eastus"])
    found = sim.call(catalogue.latest_available, {"id": GALLERY_IMAGE}, "eastus", commit=False)
    assert found == ("1.0.0", sim.now())
    assert SUB in GALLERY_IMAGE


def test_reschedule_all_only_touches_scale_sets_with_automatic_upgrade_azure_4_automatic(sim: Sim) -> None:
    sim.vmss(3)
    sim.publish("1.1.0")
    sim.call(platform.reschedule_all)
    assert sim.pending_platform_start() is None
    sim.enable_automatic()
    sim.call(platform.reschedule_all)
    assert sim.pending_platform_start() == at(180)


def test_platform_run_with_a_faulty_image_rolls_back_and_completes_azure_3_5(sim: Sim) -> None:
    sim.vmss(10, simulation={"faults": [fault("boot_unhealthy", instances=["w3"], image_version="1.1.0")]})
    sim.enable_automatic()
    sim.publish("1.1.0")
    events = sim.advance("PT4H")
    kinds = [e["type"] for e in events]
    assert kinds[0] == "RollingUpgradeStarted" and kinds[-1] == "RollingUpgradeCompleted"
    assert sim.instances()["w3"]["os_disk"]["image_version"] == "1.0.0"
