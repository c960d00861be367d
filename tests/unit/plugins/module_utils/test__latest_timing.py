# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a gallery version becomes latest, and so when the platform's run starts (azure-behaviour §4,
automatic and gallery images; issue 12 item 4).

A version becomes latest for a region at the later of two moments: it is replicated there, and it is no
longer excludeFromLatest. The platform's run starts ``rollout_delay`` (PT30M) after that moment (the
first run: ``first_rollout_delay`` after it or after enablement, whichever is later), whichever way the
version became latest. Clearing ``exclude_from_latest`` used to start the run at once, because the
replication time, long past, was taken as the moment.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    GALLERY_IMAGE,
    Sim,
    at,
    sim,
    ts,
)


def platform_runs(sim: Sim) -> list[tuple[str, str]]:
    """(start, target version) of every platform-started OS run, oldest first."""
    return [(at(0, r["start"]), r["target_version"]) for r in sim.runs() if r["started_by"] == "Platform"]


def gallery_scale_set(sim: Sim) -> None:
    """Ten instances on gallery version 1.0.0 (eastus); opted in; automatic OS upgrade enabled at 1:00."""
    sim.publish_gallery("1.0.0", regions=["eastus"])
    sim.vmss(10, image={"id": GALLERY_IMAGE})
    sim.opt_in_gallery()
    assert sim.now() <= ts(at(60))
    sim.advance_to(at(60))
    sim.enable_automatic()


def after_first_run(sim: Sim) -> None:
    """1.1.0 replicated at 1:00: the first run 4:00-4:20; the clock at 5:00."""
    gallery_scale_set(sim)
    sim.publish_gallery("1.1.0", regions=["eastus"])
    sim.advance_to(at(300))
    assert platform_runs(sim) == [(at(240), "1.1.0")]


def test_clearing_exclude_from_latest_starts_the_run_rollout_delay_later_azure_4_gallery(sim: Sim) -> None:
    after_first_run(sim)
    sim.publish_gallery("1.2.0", regions=["eastus"], exclude=True)  # replicated at 5:00, excluded
    sim.advance("P1D")  # 29:00
    assert platform_runs(sim) == [(at(240), "1.1.0")]
    sim.publish_gallery("1.2.0", exclude=False)  # becomes latest now, 24 h after its replication
    assert sim.call(catalogue.latest_available, {"id": GALLERY_IMAGE}, "eastus", commit=False) == ("1.2.0", sim.now())
    assert sim.pending_platform_start() == at(29 * 60 + 30)
    sim.advance("PT29M")
    assert platform_runs(sim) == [(at(240), "1.1.0")], "no run before rollout_delay has passed"
    sim.advance("PT1M")
    assert platform_runs(sim) == [(at(240), "1.1.0"), (at(29 * 60 + 30), "1.2.0")]


def test_clearing_exclude_from_latest_first_run_waits_first_rollout_delay_azure_4_gallery(sim: Sim) -> None:
    gallery_scale_set(sim)
    sim.publish_gallery("1.1.0", regions=["eastus"], exclude=True)
    sim.advance("P1D")  # 25:00
    sim.publish_gallery("1.1.0", exclude=False)
    assert sim.pending_platform_start() == at(28 * 60), "3 h after it became latest, not 3 h after enablement"
    sim.advance("PT2H59M")
    assert platform_runs(sim) == []
    sim.advance("PT1M")
    assert platform_runs(sim) == [(at(28 * 60), "1.1.0")]


def test_replication_after_clearing_the_exclusion_is_the_moment_azure_4_gallery(sim: Sim) -> None:
    """Whichever comes last: here the replication to the scale set's region."""
    after_first_run(sim)
    sim.publish_gallery("1.2.0", regions=["westus"], exclude=True)
    sim.advance("PT1H")  # 6:00
    sim.publish_gallery("1.2.0", exclude=False)
    assert sim.pending_platform_start() is None, "not in eastus yet"
    sim.advance("PT2H")  # 8:00
    sim.publish_gallery("1.2.0", regions=["westus", "eastus"])
    assert sim.pending_platform_start() == at(8 * 60 + 30)


def test_excluded_again_then_cleared_again_counts_from_the_last_clearing_azure_4_gallery(sim: Sim) -> None:
    after_first_run(sim)
    sim.publish_gallery("1.2.0", regions=["eastus"], exclude=True)
    sim.advance("PT1H")  # 6:00
    sim.publish_gallery("1.2.0", exclude=False)
    assert sim.pending_platform_start() == at(6 * 60 + 30)
    sim.advance("PT10M")
    sim.publish_gallery("1.2.0", exclude=True)
    assert sim.pending_platform_start() is None
    sim.advance("PT2H")  # 8:10
    sim.publish_gallery("1.2.0", exclude=False)
    assert sim.pending_platform_start() == at(8 * 60 + 40)


def test_restating_an_included_version_does_not_move_the_moment_azure_4_gallery(sim: Sim) -> None:
    """Idempotence: exclude_from_latest false again on a version already included changes nothing."""
    after_first_run(sim)
    sim.publish_gallery("1.2.0", regions=["eastus"], exclude=True)
    sim.advance("PT1H")  # 6:00
    sim.publish_gallery("1.2.0", exclude=False)
    sim.advance("PT10M")
    again = sim.publish_gallery("1.2.0", exclude=False)
    assert again["before"] == again["after"]
    assert sim.pending_platform_start() == at(6 * 60 + 30)
    sim.publish_gallery("1.3.0", regions=["eastus"])  # never excluded: latest from its replication
    assert sim.pending_platform_start() == at(6 * 60 + 10 + 30)
