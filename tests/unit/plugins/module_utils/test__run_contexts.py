# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's step context is kept for the run's later steps in the same call (issue 14), never telling it apart.

``orchestrator._Context.for_step`` gives a run's next step the context its previous step in the same
transaction had, when the record and run are the same objects and every part of the record the context's
attributes are worked out from is equal to what it was. These tests hold that such a context holds what a new
one would (what it worked out for failing extensions included), and that a change to any of those parts, even in
place, gives a new context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._engine import orchestrator
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import Fleet, fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store
from ansible_collections.azsim.vmss.tests.unit.plugins.module_utils._fleet_helpers import (  # noqa: F401 pylint: disable=unused-import
    HEALTH_EXTENSION,
    KEY,
    Sim,
    extension,
    fault,
    sim,
)

ATTRIBUTES = ("reimage", "boot", "flexible", "health_extension", "binary_health", "has_health_source", "releases")


def _worked_out(ctx: orchestrator._Context) -> dict[str, Any]:
    """What a context works out from the record (the scale set's reference without its function, a lambda)."""
    return {
        **{name: getattr(ctx, name) for name in ATTRIBUTES},
        "scale_set": (ctx.scale_set.id, ctx.scale_set.name, ctx.scale_set.vm_names is None),
    }


def _step_state(ctx: orchestrator._Context) -> dict[str, Any]:
    return {
        "now": ctx.now,
        "instances": id(ctx.instances),
        "by_id": id(ctx.by_id),
        "marks": id(ctx.marks),
        "failures": id(ctx.failures),
        "reports": ctx.reports,
        "deleted": ctx.deleted,
        "repairs": ctx.repairs,
    }


def _kept_results(ctx: orchestrator._Context, fresh: orchestrator._Context) -> None:
    """What the kept context worked out for failing extensions in earlier steps, a new one works out the same."""
    for failing, rerun in list(ctx._reruns.items()):
        assert fresh.rerun_of(failing) == rerun
    for failing, states in list(ctx._provisioned.items()):
        assert fresh.provision(set(failing)) == states


def test_a_kept_context_holds_what_a_new_one_would(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run with the health extension, boot faults and rollbacks, all in one call (``wait``): at every step
    the context given equals, attribute for attribute, one made anew for that step."""
    original = orchestrator._Context.for_step.__func__  # type: ignore[attr-defined]
    kept: list[bool] = []
    reruns: list[int] = []

    def checked(
        cls: type[orchestrator._Context], store: Store, fleet: Fleet, key: str, record: Record, run: Run
    ) -> orchestrator._Context:
        before = store.extras.get(orchestrator._CONTEXTS, {}).get((key, run["run_id"]))
        ctx: orchestrator._Context = original(cls, store, fleet, key, record, run)
        fresh = orchestrator._Context(store, fleet, key, record, run)
        assert _worked_out(ctx) == _worked_out(fresh)
        assert _step_state(ctx) == _step_state(fresh)
        _kept_results(ctx, fresh)
        reruns.append(len(ctx._reruns))
        kept.append(ctx is before)
        return ctx

    monkeypatch.setattr(orchestrator._Context, "for_step", classmethod(checked))
    sim.vmss(
        10,
        extensions=[HEALTH_EXTENSION, extension("app")],
        simulation={"seed": 3, "faults": [fault("boot_unhealthy", probability=0.3)]},
    )
    sim.publish("1.0.1")
    sim.upgrade()
    assert sim.run()["status"] in ("Completed", "Faulted")
    assert any(kept) and not all(kept)  # kept across the steps, made anew for the call's first
    assert max(reruns) > 0  # and the extensions' reruns worked out in one step were checked in the next


CHANGES: dict[str, Callable[[Record], None]] = {
    "boot duration": lambda r: r["simulation"].__setitem__("boot_duration", "PT7M"),
    "reimage duration": lambda r: r["simulation"].__setitem__("reimage_duration", "PT9M"),
    "extension versions": lambda r: r["simulation"].__setitem__("extension_versions", {"x": ["1.0"]}),
    "health probe": lambda r: (
        r["model"]["properties"]["virtualMachineProfile"]
        .setdefault("networkProfile", {})
        .update(healthProbe={"id": "probe"})
    ),
    "an extension": lambda r: r["model"]["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"][0][
        "properties"
    ].update(typeHandlerVersion="1.0"),
    "orchestration mode": lambda r: r["model"]["properties"].update(orchestrationMode="Flexible"),
    "name": lambda r: r["model"].update(name="other"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_in_place_to_what_it_was_worked_out_from_gives_a_new_context(sim: Sim, change: str) -> None:
    sim.vmss(4, extensions=[HEALTH_EXTENSION])
    sim.publish("1.0.1")
    sim.upgrade(wait=False)
    with sim.store.transaction(commit=False):
        fleet = fleet_of(sim.store)
        record, run = fleet.record(KEY), fleet.latest_run(KEY)
        assert record is not None and run is not None
        first = orchestrator._Context.for_step(sim.store, fleet, KEY, record, run)
        assert orchestrator._Context.for_step(sim.store, fleet, KEY, record, run) is first
        CHANGES[change](record)
        second = orchestrator._Context.for_step(sim.store, fleet, KEY, record, run)
        assert second is not first
        assert _worked_out(second) == _worked_out(orchestrator._Context(sim.store, fleet, KEY, record, run))
