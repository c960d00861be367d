# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run engine: one OS upgrade (or model rollout) as a resumable state machine on virtual time.

A run keeps its own agenda, a heap of ``[time, seq, action, payload]``; the store's event queue holds
one ``run_step`` event per run at the agenda's earliest time, so runs of different scale sets
interleave in time order while each run is loaded once per module call (see _model/fleet.py). The run
document's shape is _model/run_state.Run.

Timeline of a batch (design.md, simulation rules), with R = reimage_duration and B = boot_duration:

    start ── R ── reimage done ── B ── healthy          (a clean batch: R + B)
                       └────── 5 min ── deadline: not healthy = failed
                                          └── R ── restored (automatic rollback) ── B ── healthy

A batch ends when its last instance is healthy, failed or restored; then the post-batch check, the
pause, and the pre-check of the next batch (azure-behaviour §3). The checks themselves are pure
functions in run_checks.py; this module acts on their answers.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import bisect
import copy
import heapq
from collections.abc import Iterable
from typing import Any, NamedTuple

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine import hook_gate
from ansible_collections.azsim.vmss.plugins.module_utils._engine.agenda import push, wake
from ansible_collections.azsim.vmss.plugins.module_utils._engine.batches import (
    batch_size,
    order,
    phased,
    same_phase,
    take_batch,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine.extension_runs import (
    upgrade_duration,
    upgrade_extensions,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine.run_checks import (
    IN_PROGRESS_CODE,
    ScaleSetRef,
    breach_rollback,
    credential_error,
    in_progress_error,
    post_batch_error,
    pre_batch_error,
    stop_error,
)
from ansible_collections.azsim.vmss.plugins.module_utils._engine.run_failures import run_failures
from ansible_collections.azsim.vmss.plugins.module_utils._engine.run_start import keeps_run_image
from ansible_collections.azsim.vmss.plugins.module_utils._engine.surge import (
    deletion_delay,
    keeps_old_on_failure,
    quota_allows,
    run_surges,
    surge_instance,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.custom_metrics import expired_initializing
from ansible_collections.azsim.vmss.plugins.module_utils._model.extension_versions import install, releases
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import (
    extensions_of,
    is_health_extension,
    provision,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import Fleet, fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import health_source
from ansible_collections.azsim.vmss.plugins.module_utils._model.instances import DiskNamer, new_os_disk
from ansible_collections.azsim.vmss.plugins.module_utils._model.lifecycle_hooks import find_event
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import fault_domain, is_flexible, vm_name
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import (
    ExtensionState,
    Health,
    Instance,
    InstanceFaults,
    Record,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.repair_services import policy_of as repairs_policy_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.repairs import note_state_change
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import (
    ACTIVE,
    FAILED_RESULTS,
    AgendaAction,
    ApiError,
    Batch,
    Flight,
    OutcomeResult,
    Run,
    RunStatus,
    new_outcome,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import is_active as _is_active
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

# The engine's callers ask it here; it lives with the run's states so that what needs only this predicate need
# not import the orchestrator.
is_active = _is_active

HEALTH_DEADLINE = 300  # azure-behaviour §3.5: up to 5 minutes per instance to become healthy


# Every agenda action and the name of its handler on _Context.
HANDLERS: dict[AgendaAction, str] = {
    "batch_start": "on_batch_start",
    "reimage_done": "on_reimage_done",
    "healthy": "on_healthy",
    "deadline": "on_deadline",
    "restore_done": "on_restore_done",
    "breach_restore_done": "on_breach_restore_done",
    "unhealthy": "on_unhealthy",
    "hook_decided": "on_hook_decided",
    "old_deleted": "on_old_deleted",
}


# -- starting --------------------------------------------------------------------------------------


# -- the agenda ------------------------------------------------------------------------------------


def step(store: Store, key: str, run_id: int) -> list[dict[str, Any]]:
    """Do everything the run has due now; returns reports for sim_clock."""
    fleet = fleet_of(store)
    run = fleet.run(key, run_id)
    record = fleet.record(key)
    if run is None or record is None:  # the scale set was deleted meanwhile
        return []
    ctx = _Context.for_step(store, fleet, key, record, run)
    now = ctx.now  # the clock as the step began (``begin_step``): actions do not move it
    while run["agenda"] and run["agenda"][0][0] <= now:  # ``finish`` puts a new agenda in the run: asked anew
        _when, _seq, action, payload = heapq.heappop(run["agenda"])
        ctx.handle(action, payload)
        if ctx.deleted:
            ctx.compact()  # between actions the instance list is exactly the scale set's
    fleet.touch(key)
    fleet.touch_run(key, run_id)
    wake(store, key, run)
    return ctx.reports


class _Rerun(NamedTuple):
    """The model's extensions run again on an instance (§3.4), for one set of failing extensions."""

    states: list[ExtensionState]  # each extension's state after the run (``provision``)
    installed: set[str]  # those that provisioned: they install their released version (part 2 EX-1)
    failed: bool  # one failed to provision
    credential: bool  # one failed on an expired credential: the instance fails for good, no rollback (§4)


# Where ``_Context.for_step`` keeps each run's context for the rest of the transaction (``Store.extras``).
_CONTEXTS = "run_contexts"


def _facts(record: Record) -> tuple[Any, ...]:
    """Every part of the record that ``_Context.__init__`` reads, as they are now (not copied)."""
    model = record["model"]
    properties = model["properties"]
    profile = properties["virtualMachineProfile"]
    sim = record["simulation"]
    return (
        model["id"],
        model["name"],
        properties.get("orchestrationMode"),  # is_flexible
        profile.get("networkProfile"),  # health_source: the health probe
        profile.get("extensionProfile"),  # health extensions, releases
        sim["reimage_duration"],
        sim["boot_duration"],
        sim.get("extension_versions"),  # releases
    )


class _Context:
    """One scale set's run being advanced; the handlers of the agenda's actions."""

    def __init__(self, store: Store, fleet: Fleet, key: str, record: Record, run: Run) -> None:
        self.store = store
        self.fleet = fleet
        self.key = key
        self.record = record
        self.run = run
        self.begin_step()
        # What the actions read of the record, worked out once and kept while the record's parts they come from
        # (``facts``, a copy) stay the same: see ``for_step``.
        self.facts = copy.deepcopy(_facts(record))
        self.flexible = is_flexible(record)  # from the orchestration mode, one of the facts
        self.scale_set = ScaleSetRef(
            record["model"]["id"],
            record["model"]["name"],
            (lambda iid: vm_name(record, iid)) if self.flexible else None,
        )
        sim = record["simulation"]
        self.reimage = parse_duration(sim["reimage_duration"], "simulation.reimage_duration")
        self.boot = parse_duration(sim["boot_duration"], "simulation.boot_duration")
        health_extensions = [e for e in extensions_of(record["model"]) if is_health_extension(e)]
        self.health_extension = bool(health_extensions)
        # Binary mode (type handler 1.x) reports only Healthy or Unhealthy, never Initializing (§3 health signal).
        self.binary_health = bool(health_extensions) and all(
            str(e["properties"].get("typeHandlerVersion", "")).split(".", maxsplit=1)[0] == "1"
            for e in health_extensions
        )
        self.has_health_source = health_source(record) is not None
        self.releases = releases(record)  # part 2 EX-1: what a provisioned extension installs now
        # What the model's extensions give for a set of failing ones: from the extensions (``facts``) and the
        # run's expired extensions (fixed at its start) only, so kept as long as the context. Their lists are
        # shared by every instance given them, as the loader shares equal values (_model/loaded_instances.py).
        self._provisioned: dict[frozenset[str], list[ExtensionState]] = {}
        self._reruns: dict[frozenset[str], _Rerun] = {}

    def begin_step(self) -> None:
        """The state of one step: made anew at each, as a new context would have it."""
        store, fleet, key = self.store, self.fleet, self.key
        self.now = store.now()
        self.instances = fleet.instances(key)
        self.by_id = fleet.by_id(key)
        self.marks = fleet.marks(key)  # the step's changes; made anew after each flush, so not kept across steps
        self.reports: list[dict[str, Any]] = []
        self.failures = run_failures(store, self.run)
        # Instances deleted by the current agenda action (maxSurge), still to drop from ``instances`` (``compact``).
        self.deleted: set[str] = set()
        # Whether the scale set has a repairs policy, asked at the step's first result (``resolve``); no action
        # of a step changes the policy.
        self.repairs: bool | None = None

    @classmethod
    def for_step(cls, store: Store, fleet: Fleet, key: str, record: Record, run: Run) -> _Context:
        """The context of one step of the run: the one its previous step in this transaction had, with the step's
        own state made anew (``begin_step``), while the record and run are the same objects and the parts of the
        record its attributes are worked out from (``_facts``) are equal to what they were; else a new one.

        A fleet's advance steps each run ~17 times, and working those attributes (and the extensions' reruns) out
        again at each step was about 5% of its instructions (issue 14). What a new context would hold, this one
        holds: the same attributes from equal parts, and the same per-step state."""
        memo: dict[tuple[str, int], _Context] = store.extras.setdefault(_CONTEXTS, {})
        ctx = memo.get((key, run["run_id"]))
        if ctx is not None and ctx.record is record and ctx.run is run and ctx.fleet is fleet:
            if ctx.facts == _facts(record):
                ctx.begin_step()
                return ctx
        ctx = memo[(key, run["run_id"])] = cls(store, fleet, key, record, run)
        return ctx

    def handle(self, action: AgendaAction, payload: list[Any]) -> None:
        """Run the handler of one agenda action. Looked up by name on this context at each call, not kept in a
        table of bound methods: such a table would make every context a reference cycle, holding its scale set's
        instances until the garbage collector (paused during a call) runs; and a method wrapped on the class (as
        the property tests do) is still the one called."""
        getattr(self, HANDLERS[action])(payload)

    def report(self, kind: str, **details: Any) -> None:
        if self.run["kind"] == "extension":  # sim_clock tells extension runs apart (design.md round 2)
            details["run_kind"] = "extension"
        self.reports.append(
            {"type": kind, "subject": self.record["model"]["id"], "run_id": self.run["run_id"], **details}
        )

    def changed(self, instance: Instance) -> None:
        """The instance's row is written at commit (see _model/fleet.py: an unmarked change would be lost)."""
        self.marks.add(instance["instance_id"])

    def slot(self, iid: str) -> Instance | None:
        """The instance now in the place of ``iid``, an id the run batched: itself, or its maxSurge successor."""
        replaced = self.run.get("replaced")  # asked per instance, several times a run: no empty dict made each time
        return self.by_id.get(iid if replaced is None else replaced.get(iid, iid))

    def working(self, iid: str, flight: Flight) -> Instance | None:
        """The instance being upgraded for ``iid``: its surge instance while one is created, else its slot."""
        return self.by_id.get(flight["surge"]) if "surge" in flight else self.slot(iid)

    def slots(self, ids: Iterable[str]) -> dict[str, Instance]:
        """The instances now in the places of ``ids`` (ids the run batched), for the checks that name them."""
        found = {}
        for iid in ids:
            instance = self.slot(iid)
            if instance is not None:
                found[iid] = instance
        return found

    def failed_slots(self) -> dict[str, Instance]:
        return self.slots(i for i, o in self.run["outcome"].items() if o["result"] in FAILED_RESULTS)

    # -- batches -----------------------------------------------------------------------------------

    def on_batch_start(self, _ids: list[Any]) -> None:
        """The next batch is due: the pre-check, then the batch is cut and started (azure-behaviour §3.1-3.4)."""
        run = self.run
        if run["status"] not in ACTIVE:
            return
        if run["cancel_requested"]:
            self.finish("Cancelled")
            return
        if run["gated"]:  # §3.1: the pre-check, before every batch
            error = stop_error(run, self.now)  # azure-behaviour-2 ER-7, ER-8: no new batch starts
            if error is None:
                error = pre_batch_error(
                    self.scale_set,
                    self.instances,
                    run["n"],
                    run["policy"]["maxUnhealthyInstancePercent"],
                    not run["batches"],
                    self.fleet.unhealthy_count(self.key),
                )
            if error is not None:
                self.finish("Faulted", error)
                return
        batch = self.next_batch()
        if not batch:
            self.finish("Completed")
            return
        if self.hold_for_hook(batch):
            return
        self.start_batch(batch)

    def next_batch(self) -> list[Instance]:
        """Take the next batch off ``pending`` (§3.2-3.3); a model rollout that is not gated takes all of it."""
        run = self.run
        policy = run["policy"]
        pending = run["pending"]
        phases = run.get("phases", {})
        if policy["prioritizeUnhealthyInstances"]:
            live_pending = [self.by_id[i] for i in pending if i in self.by_id]
            ordered = order(live_pending, True, bool(policy["enableCrossZoneUpgrade"]), self.flexible)
            pending = [i["instance_id"] for i in phased(ordered, phases)]
        # Instances scaled in meanwhile drop out; the batch is a prefix of what is left, in one phase (AH-11).
        live = same_phase((self.by_id[i] for i in pending if i in self.by_id), phases)
        if run["gated"]:
            batch = take_batch(
                live,
                batch_size(run["n"], policy["maxBatchInstancePercent"]),
                bool(policy["enableCrossZoneUpgrade"]),
                self.flexible,
            )
        else:
            batch = list(live)
        run["pending"] = pending[pending.index(batch[-1]["instance_id"]) + 1 :] if batch else []
        return batch

    def start_batch(self, batch: list[Instance]) -> None:
        """Record the batch and reimage its instances, but for those still waiting for approval (§3.4)."""
        run = self.run
        index = len(run["batches"]) + 1
        zones = {i["zone"] or "" for i in batch}
        run["batches"].append(
            {
                "index": index,
                "instances": [i["instance_id"] for i in batch],
                "zone": batch[0]["zone"] if len(zones) == 1 else None,
                "update_domain": batch[0]["update_domain"],
                "start": self.now,
                "end": None,
                "result": None,
                "durations": {"reimage": self.reimage, "boot": self.boot},
            }
        )
        if self.flexible:
            # azure-behaviour-2 FX-5: no update domains on Flexible; the batch's fault domain instead.
            run["batches"][-1]["update_domain"] = None
            run["batches"][-1]["fault_domain"] = fault_domain(batch[0])
        run["current_batch"] = index
        if run_surges(run):
            run["batches"][-1]["surge"] = quota_allows(self.record, len(batch))
        started: dict[int, list[str]] = {}
        self.failures.started(index)
        outcome, flights, deferral = run["outcome"], run["flight"], run["deferral"]
        # Per instance: what the loop needs is looked up once, before it; an OS or model run's update takes the
        # same time for every instance (``update_time``), and the batch surges or not as a whole.
        same_time = None if run["kind"] == "extension" or not batch else self.update_time(batch[0])
        surge = bool(run["batches"][-1].get("surge"))
        for instance in batch:
            iid = instance["instance_id"]
            outcome[iid] = new_outcome("in_progress", index)
            flights[iid] = {"phase": "awaiting_approval", "epoch": 0}
            if not deferral or iid in run["approved"]:
                started.setdefault(self.update_time(instance) if same_time is None else same_time, []).append(iid)
                self.begin_reimage(instance, surge)
        for duration, ids in sorted(started.items()):
            push(run, self.now + duration, "reimage_done", ids)
        self.report("BatchStarted", batch=index, instances=[i["name"] for i in batch])

    def hold_for_hook(self, batch: list[Instance]) -> bool:
        """azure-behaviour-2 LH-16: with a BatchStarting hook the chosen batch waits for its event, before any
        instance is touched; its instances stay pending meanwhile. False when no hook holds it."""
        run = self.run
        ids = [i["instance_id"] for i in batch]
        reports = hook_gate.raise_batch(self.store, self.key, self.record, run, ids)
        if reports is None:
            return False
        self.reports += reports
        run["hook_batch"] = {"event": reports[-1]["subject"].rsplit("/", 1)[-1], "instances": ids}
        run["pending"] = ids + run["pending"]
        return True

    def on_hook_decided(self, names: list[str]) -> None:
        """D2, LH-16: every target of the held batch is decided: approved instances start as the batch, rejected
        ones leave the run (not pending, neither successful nor failed); all rejected, the next batch comes."""
        run = self.run
        held = run.get("hook_batch")
        if run["status"] not in ACTIVE or not held or held["event"] not in names:
            return
        run["hook_batch"] = None
        event = find_event(self.record, held["event"])
        states = {t["instance_id"]: t["state"] for t in event["targets"]} if event else {}
        run["pending"] = [i for i in run["pending"] if i not in held["instances"]]
        index = len(run["batches"]) + 1
        approved = []
        for iid in held["instances"]:
            if states.get(iid) == "Approved" and iid in self.by_id:
                approved.append(self.by_id[iid])
            elif iid in self.by_id:
                run["outcome"][iid] = {"result": "rejected_by_hook", "batch": index, "resolved": self.now}
        if approved:
            self.start_batch(approved)
        else:
            push(run, self.now, "batch_start", [])

    def update_time(self, instance: Instance) -> int:
        """How long the instance's update takes: a reimage, or its extensions one at a time (part 2 EX-3)."""
        if self.run["kind"] == "extension":
            return upgrade_duration(self.record, instance, self.reimage, self.run.get("extensions"))
        return self.reimage

    def begin_reimage(self, instance: Instance, surge: bool | None = None) -> None:
        """The instance's reimage starts; ``surge``: whether its batch surges, when the caller knows."""
        run = self.run
        iid = instance["instance_id"]
        flight = run["flight"][iid]
        flight["phase"] = "reimaging"
        if surge is None:
            surge = bool(run["batches"][run["outcome"][iid]["batch"] - 1].get("surge"))
        if surge:
            # A surge instance is created beside the old one, which keeps serving until it is replaced (MS-3).
            new = surge_instance(self.record, instance, self.run["target_version"])
            self.instances.append(new)
            self.by_id[new["instance_id"]] = new
            self.changed(new)
            flight["surge"] = new["instance_id"]
        else:
            instance["health"] = "Unknown"
            instance["provisioning_state"] = "Updating"
            self.marks.add(iid)  # changed()

    def on_reimage_done(self, ids: list[str]) -> None:
        """The batch's reimage ended: new OS disks, extensions run again, the instances boot (§3.4)."""
        run = self.run
        healthy_at: dict[int, list[list[Any]]] = {}
        model_version = self.applied_model_version()  # nothing in the loop changes the model
        namer = DiskNamer(self.record)
        # Per instance (a batch can be 200 of them): what the loop needs is looked up once, before it.
        flights, faults, mark, working = run["flight"], run["faults"], self.marks.add, self.working
        no_fault: InstanceFaults = {}
        extension_run, booting = run["kind"] == "extension", self.booting_health()
        kept = run["batches"][-1].get("durations") if run["batches"] else None
        if kept is not None:  # the boot starting now takes the simulation's boot_duration of now: the report's too
            kept["boot"] = self.boot
        for iid in ids:
            flight = flights.get(iid)
            if flight is None or flight["phase"] != "reimaging":
                continue
            instance = working(iid, flight)
            if instance is None:
                continue
            mark(instance["instance_id"])  # a new disk or extension versions, then its health while it boots
            fault = faults.get(iid, no_fault)
            if extension_run:  # azure-behaviour-2 §7: only the outdated extensions change
                failing = set(fault.get("extension_failure", [])) | set(run["expired_extensions"])
                failed = upgrade_extensions(self.record, instance, failing, run.get("extensions"))
            else:
                self.reimage_disk(instance, flight, model_version, namer)
                failed = self.rerun_extensions(instance, flight, fault)
                if failed and "surge" in flight:
                    flight["creation_failed"] = True  # azure-behaviour-2 MS-8: its extensions did not provision
            flight["phase"] = "booting"
            when = self.boot_instance(instance, fault, failed, booting)
            if when is not None:
                healthy_at.setdefault(when, []).append([iid, flight["epoch"]])
        for when, pairs in sorted(healthy_at.items()):
            push(run, when, "healthy", pairs)
        if run["gated"]:
            # AH-5: max(PT5M, gracePeriod) with rich health states, fixed when the run started.
            wait = run.get("health_wait", HEALTH_DEADLINE)
            push(run, self.now + wait, "deadline", [i for i in ids if i in run["flight"]])
        else:
            self.check_batch_end()

    def reimage_disk(self, instance: Instance, flight: Flight, model_version: int, namer: DiskNamer) -> None:
        """A new OS disk from the target image (§3.4); a model rollout that keeps the image keeps the disk.
        ``model_version`` is ``applied_model_version()``, ``namer`` the record's ``DiskNamer``."""
        run = self.run
        target = run["target_version"]
        if "surge" in flight:
            pass  # a new instance: its OS disk was made from the target image when it was created
        elif target and instance["os_disk"]["image_version"] != target or run["kind"] == "os":
            new_os_disk(self.record, instance, target or instance["os_disk"]["image_version"], namer)
        instance["model_version"] = model_version

    def applied_model_version(self) -> int:
        """The model an instance carries after its reimage: an OS run applies the model current now, its extensions
        included (azure-behaviour-2 CF-2: a Manual-mode change during the run reaches later batches), unless that
        model's image is no longer the run's target (then the instance is not on the current model)."""
        run = self.run
        reference = self.record["model"]["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
        if run["kind"] == "os" and keeps_run_image(reference, run):
            return self.record["model_version"]
        return run["model_version"]

    def rerun_extensions(self, instance: Instance, flight: Flight, fault: InstanceFaults) -> bool:
        """Every extension of the model runs again (§3.4); True when one failed to provision."""
        failing = fault.get("extension_failure")
        rerun = self.rerun_of(_NOTHING_FAILING if failing is None else frozenset(failing))
        instance["extensions"] = rerun.states
        if self.releases or "extension_versions" in instance:  # else there is nothing to install nor to forget
            install(self.record, instance, rerun.installed, self.releases)  # part 2 EX-1
        instance["provisioning_state"] = "Failed" if rerun.failed else "Succeeded"
        # An expired credential fails the instance for good: no automatic rollback (§4, credentials).
        flight["credential"] = rerun.credential
        return rerun.failed

    def rerun_of(self, fault_failing: frozenset[str]) -> _Rerun:
        """What a run of the model's extensions gives when the fault fails ``fault_failing``: the same for every
        instance with that fault, so worked out once per step."""
        found = self._reruns.get(fault_failing)
        if found is None:
            expired = set(self.run["expired_extensions"])
            failing = set(fault_failing) | expired
            states = self.provision(failing)
            failed = {e["name"] for e in states if e["provisioning_state"] != "Succeeded"}
            installed = {e["name"] for e in states} - failed
            found = self._reruns[fault_failing] = _Rerun(states, installed, bool(failed), bool(expired & failed))
        return found

    def boot_instance(self, instance: Instance, fault: InstanceFaults, failed: bool, booting: Health) -> int | None:
        """The instance's health while it boots (§3 health signal); when it becomes healthy, None if never.
        ``booting`` is ``booting_health()``, the same for every instance of the step."""
        if not self.run["gated"]:
            # All at once, without a health wait: the extensions decide the outcome now.
            self.resolve(instance["instance_id"], "failed" if failed else "upgraded")
            instance["health"] = "Unhealthy" if failed else booting
            return None if failed else self.now + self.boot
        when = None
        if failed or fault.get("boot_unhealthy") or instance["power_state"] != "running":
            instance["health"] = "Unhealthy" if failed and not self.has_health_source else booting
        else:
            instance["health"] = booting
            # AH-3: the restarted health extension reports Initializing until the application answers.
            when = self.now + max(self.boot, fault.get("slow_boot", 0)) + fault.get("app_initializing", 0)
        return when

    def provision(self, failing: set[str]) -> list[ExtensionState]:
        """Extension states after a run of the model's extensions; computed once per set of failing ones, and the
        same list given to every instance: nothing changes an instance's extension states in place (_model/fleet.py
        shares them too)."""
        key = frozenset(failing)
        if key not in self._provisioned:
            self._provisioned[key] = provision(extensions_of(self.record["model"]), set(key))
        return self._provisioned[key]

    def booting_health(self) -> Health:
        if self.binary_health:
            return "Unhealthy"
        return "Initializing" if self.health_extension else "Unknown"

    def on_healthy(self, pairs: list[list[Any]]) -> None:
        flights, gated, mark = self.run["flight"], self.run["gated"], self.marks.add  # looked up once per batch
        for iid, epoch in pairs:
            flight = flights.get(iid)
            instance = self.slot(iid) if flight is None else self.working(iid, flight)
            if instance is None:
                continue
            if flight is not None and flight["epoch"] != epoch:
                continue  # the instance was restored meanwhile; this boot no longer happens
            if instance["power_state"] == "running":
                instance["health"] = "Healthy"
                mark(instance["instance_id"])  # changed()
            if flight is not None and flight["phase"] == "booting" and gated:
                if "surge" in flight and self.delete_later(iid, flight):
                    continue
                if "surge" in flight:
                    self.replace(iid, flight["surge"])  # MS-3: the new one is healthy, the old one goes
                self.resolve(iid, "upgraded")
            elif flight is not None and flight["phase"] == "restored":
                del flights[iid]
        self.check_batch_end()

    def delete_later(self, iid: str, flight: Flight) -> bool:
        """azure-behaviour-2 MS-9: with the terminate notification on, the old instance lists as ``Deleting`` for
        ``notBeforeTimeout`` once its replacement is healthy (MS-6: N + b instances meanwhile); False: at once."""
        delay = deletion_delay(self.record)
        old = self.slot(iid)
        if not delay or old is None:
            return False
        old["provisioning_state"] = "Deleting"
        self.changed(old)
        flight["phase"] = "deleting"
        self.run["outcome"][iid]["healthy"] = self.now
        push(self.run, self.now + delay, "old_deleted", [[iid, flight["epoch"]]])
        return True

    def on_old_deleted(self, pairs: list[list[Any]]) -> None:
        """MS-9: the old instance's terminate notification has run out: it is gone, its replacement counts (MS-6)."""
        for iid, epoch in pairs:
            flight = self.run["flight"].get(iid)
            if flight is None or flight["epoch"] != epoch or flight["phase"] != "deleting":
                continue
            self.replace(iid, flight["surge"])
            self.resolve(iid, "upgraded")
        self.check_batch_end()

    def on_deadline(self, ids: list[str]) -> None:
        """§3.5: not healthy within 5 minutes is failed; a platform run restores the previous OS disk."""
        run = self.run
        restoring = []
        for iid in ids:
            flight = run["flight"].get(iid)
            instance = None if flight is None else self.working(iid, flight)
            if flight is None or instance is None or flight["phase"] != "booting":
                continue
            if "surge" in flight:
                self.surge_failed(iid, instance, flight)
                continue
            self.expire_health(instance)
            if run["rollback"] and not flight.get("credential"):
                flight["phase"] = "restoring"
                flight["epoch"] += 1
                run["outcome"][iid]["failed_at"] = self.now
                restoring.append(iid)
            else:
                self.resolve(iid, "failed")
        if restoring:
            push(run, self.now + self.reimage, "restore_done", restoring)
        self.check_batch_end()

    def expire_health(self, instance: Instance) -> None:
        """Not healthy at the deadline: unhealthy; one still ``Initializing`` says what its health extension says
        when its grace period expires (azure-behaviour-2 AH-3: ``Unknown`` over http(s), ``Unhealthy`` over tcp)."""
        if instance["health"] == "Initializing":
            instance["health"] = expired_initializing(self.record)
            self.changed(instance)
        elif instance["health"] != "Healthy":
            instance["health"] = "Unhealthy"
            self.changed(instance)

    def surge_failed(self, iid: str, new: Instance, flight: Flight) -> None:
        """A surge instance not healthy by its deadline (azure-behaviour-2 MS-8): it fails, and either it is
        deleted and the old instance kept, or it stays (unhealthy) and the old one is deleted."""
        if keeps_old_on_failure(self.run, bool(flight.get("creation_failed"))):
            self.delete_instance(new["instance_id"])
            self.run["outcome"][iid]["kept_old"] = True  # nothing for a breach rollback to restore
        else:
            self.expire_health(new)
            self.replace(iid, new["instance_id"])
        self.resolve(iid, "failed")

    def replace(self, old_id: str, new_id: str) -> None:
        """MS-3, D10: the old instance is deleted and its id disappears; the new one takes its host name."""
        self.delete_instance(old_id)
        self.run.setdefault("replaced", {})[old_id] = new_id
        new = self.by_id[new_id]
        self.record["instance_ids"][new["name"]] = int(new_id)

    def delete_instance(self, iid: str) -> None:
        """Gone from ``by_id`` at once; from the instance list when the agenda action ends (``compact``: one
        pass per action, not one list scan per instance, as a surge run deletes every instance it replaces)."""
        if self.by_id.pop(iid, None) is not None:
            self.deleted.add(iid)
            self.fleet.removed(self.key, iid)

    def compact(self) -> None:
        """Drop the deleted instances from the list. It is in instance-id order (as stored; new ids come last),
        so each is found by bisection; a list out of order is filtered in one pass instead."""
        if not self.deleted:
            return
        instances = self.instances
        for iid in sorted(self.deleted, key=int, reverse=True):
            at = bisect.bisect_left(instances, int(iid), key=_id_number)
            if at >= len(instances) or instances[at]["instance_id"] != iid:
                instances[:] = [i for i in instances if i["instance_id"] not in self.deleted]
                break
            del instances[at]
        self.deleted.clear()

    def restore(self, iid: str) -> bool:
        """Put the previous OS disk back; False when the rollback_failure fault says it fails."""
        instance = self.slot(iid)
        if instance is None:
            raise AssertionError(f"instance {iid} is not in the scale set")
        flight = self.run["flight"][iid]
        self.changed(instance)
        if self.run["faults"].get(iid, {}).get("rollback_failure"):
            instance["health"] = "Unhealthy"
            instance["provisioning_state"] = "Failed"
            self.run["rollback_errors"].append(iid)
            return False
        if instance["previous_os_disk"] is not None:
            instance["os_disk"] = instance["previous_os_disk"]
            instance["previous_os_disk"] = None
        instance["extensions"] = self.provision(set(self.run["expired_extensions"]))
        instance["provisioning_state"] = "Succeeded"
        instance["health"] = self.booting_health()
        flight["phase"] = "restored"
        flight["epoch"] += 1
        push(self.run, self.now + self.boot, "healthy", [[iid, flight["epoch"]]])
        return True

    def on_restore_done(self, ids: list[str]) -> None:
        for iid in ids:
            if iid in self.run["flight"] and self.slot(iid) is not None:
                ok = self.restore(iid)
                self.resolve(iid, "rolled_back" if ok else "rollback_failed", keep_flight=ok)
        self.check_batch_end()

    def on_breach_restore_done(self, ids: list[str]) -> None:
        """§3.6: the instances rolled back after a breach are restored; then the run faults."""
        for iid in ids:
            if self.slot(iid) is not None:
                self.run["flight"][iid] = {"phase": "restoring", "epoch": 0}
                ok = self.restore(iid)
                result: OutcomeResult = "rolled_back" if ok else "rollback_failed"
                self.run["outcome"][iid]["result"] = result
                self.failures.note(iid, result)
                if not ok:
                    del self.run["flight"][iid]
        self.finish("Faulted", self.run["breach_error"])

    def on_unhealthy(self, ids: list[str]) -> None:
        for iid in ids:
            instance = self.slot(iid)
            if instance is not None:
                instance["health"] = "Unhealthy"
                self.changed(instance)

    def resolve(self, iid: str, result: OutcomeResult, keep_flight: bool = False) -> None:
        outcome = self.run["outcome"][iid]
        outcome["result"] = result
        outcome["resolved"] = self.now
        self.failures.note(iid, result)  # the failed instances the ER-6 error names
        if self.repairs is None:
            self.repairs = repairs_policy_of(self.record) is not None
        if self.repairs:  # what note_state_change asks first, asked once per step rather than per instance
            note_state_change(self.record, iid, self.now)  # part 2 AR-5: a fresh grace period before any repair
        if not keep_flight:
            flight = self.run["flight"].pop(iid, None)
            if flight and flight.get("credential"):
                outcome["credential"] = True
        else:
            self.run["flight"][iid].pop("credential", None)

    # -- between batches ---------------------------------------------------------------------------

    def check_batch_end(self) -> None:
        """After any instance's outcome: once none of the current batch is in progress, the batch ends."""
        run = self.run
        self.note_failures()
        index = run["current_batch"]
        if index is None:
            return
        batch = run["batches"][index - 1]
        outcome = run["outcome"]
        # Asked after every action of the batch: most find an instance still in progress early in it, and need
        # not list the batch's results (issue 14: every batch of 20,000 listed twice).
        for iid in batch["instances"]:
            if outcome[iid]["result"] == "in_progress":
                return
        self.end_batch(batch, [outcome[i]["result"] for i in batch["instances"]])
        if run["status"] in ACTIVE:
            self.after_batch(batch)

    def note_failures(self) -> None:
        """azure-behaviour-2 ER-6: while rolling forward with failed instances, the run's error says so."""
        run = self.run
        if run["status"] != "RollingForward" or not run["gated"]:
            return
        if run["error"] is None or run["error"]["code"] == IN_PROGRESS_CODE:
            run["error"] = in_progress_error(
                self.scale_set,
                self.failures.ids(),
                run["policy"]["maxUnhealthyUpgradedInstancePercent"],
                self.by_id,
            )

    def end_batch(self, batch: Batch, results: list[OutcomeResult]) -> None:
        batch["end"] = self.now
        # Failures only arise, and only change category, within their own batch: count them once here.
        batch["failed"] = sum(r in FAILED_RESULTS for r in results)
        ok = sum(r == "upgraded" for r in results)
        batch["result"] = "succeeded" if ok == len(results) else ("failed" if ok == 0 else "partially_failed")
        self.run["current_batch"] = None
        self.report("BatchCompleted", batch=batch["index"], result=batch["result"])

    def after_batch(self, batch: Batch) -> None:
        """The checks after a batch, then the pause and the next batch (azure-behaviour §3.6-3.7, §4)."""
        run = self.run
        # §4 credentials: an expired credential stops the run after its first batch, whatever the policy.
        # The errors name the instances there are: a surge successor by its own id (azure-behaviour-2 D10).
        replaced = run.get("replaced", {})
        outcome_now = {replaced.get(i, i): o for i, o in run["outcome"].items()} if replaced else run["outcome"]
        error = credential_error(
            self.scale_set,
            [replaced.get(i, i) for i in batch["instances"]],
            outcome_now,
            run["expired_extensions"],
            self.by_id,
        )
        if error is not None:
            self.finish("Faulted", error)
            return
        if run["gated"]:  # §3.6: the post-batch check, counting each batch's failures
            error = post_batch_error(
                self.scale_set,
                sum(b.get("failed", 0) for b in run["batches"]),
                outcome_now,
                run["n"],
                run["policy"]["maxUnhealthyUpgradedInstancePercent"],
                self.by_id,
            )
            if error is not None:
                self.breach(error)
                return
        if run["cancel_requested"]:
            self.finish("Cancelled")
            return
        if not run["pending"]:
            self.finish("Completed")
            return
        pause = 0
        if run["gated"]:  # §3.7: pauseTimeBetweenBatches passes before the next batch starts
            pause = parse_duration(run["policy"]["pauseTimeBetweenBatches"], "pauseTimeBetweenBatches")
        push(run, self.now + pause, "batch_start", [])

    def breach(self, error: ApiError) -> None:
        """§3.6: the run faults; with rollbackFailedInstancesOnPolicyBreach its failed instances roll back first."""
        run = self.run
        slots = self.failed_slots()
        to_restore = breach_rollback(run["outcome"], slots, run["policy"]["rollbackFailedInstancesOnPolicyBreach"])
        if not to_restore:
            self.finish("Faulted", error)
            return
        run["status"] = "RollingBack"
        run["breach_error"] = error
        push(run, self.now + self.reimage, "breach_restore_done", sorted(to_restore, key=int))
        self.report("RollingBackStarted", instances=[slots[i]["name"] for i in to_restore])

    # -- ending ------------------------------------------------------------------------------------

    def finish(self, status: RunStatus, error: ApiError | None = None) -> None:
        run = self.run
        run["status"] = status
        run["end"] = self.now
        run["error"] = error
        # Instances still waiting for approval never started: they go back to pending.
        for iid, flight in list(run["flight"].items()):
            if flight["phase"] == "awaiting_approval":
                del run["flight"][iid]
                run["outcome"].pop(iid, None)
                run["pending"].append(iid)
        # LH-16.5: an event the run was waiting for is abandoned with it.
        run["hook_batch"] = None
        self.reports += hook_gate.abandon_for_run(self.store, self.key, self.record, run["run_id"])
        # Health changes already under way (a restored instance booting, maintenance) still happen.
        run["agenda"] = [item for item in run["agenda"] if item[2] in ("healthy", "unhealthy", "old_deleted")]
        heapq.heapify(run["agenda"])
        self.report(f"RollingUpgrade{status}", code=error["code"] if error else None)


# The key of ``rerun_of`` for an instance whose faults fail no extension (nearly all): not made anew for each.
_NOTHING_FAILING: frozenset[str] = frozenset()


def _id_number(instance: Instance) -> int:
    return int(instance["instance_id"])


# -- requests from modules -------------------------------------------------------------------------


def cancel(store: Store, key: str) -> Run | None:
    """Azure's cancel: no new batch starts; instances in flight finish. None when nothing runs."""
    fleet = fleet_of(store)
    run = fleet.latest_run(key)
    if not is_active(run):
        return None
    if run is None:
        raise AssertionError("run is None")
    now = store.now()
    if run["cancel_requested"]:
        return run
    run["cancel_requested"] = True
    run["last_action"] = "Cancel"
    run["last_action_time"] = now
    record = fleet.record(key)
    if record is None:
        raise AssertionError("record is None")
    ctx = _Context(store, fleet, key, record, run)
    for iid, flight in list(run["flight"].items()):
        if flight["phase"] == "awaiting_approval":
            del run["flight"][iid]
            run["outcome"].pop(iid, None)
            index = run["current_batch"]
            if index is not None:
                run["batches"][index - 1]["instances"].remove(iid)
            run["pending"].append(iid)
    if run["current_batch"] is not None and not run["batches"][run["current_batch"] - 1]["instances"]:
        run["batches"].pop()
        run["current_batch"] = None
    if run["current_batch"] is None and run["status"] == "RollingForward":
        ctx.finish("Cancelled")
    fleet.touch_run(key, run["run_id"])
    fleet.touch(key)
    wake(store, key, run)
    return run


def approve(store: Store, key: str, instance_ids: list[str]) -> list[str]:
    """Azure's approveRollingUpgrade: let deferred instances upgrade; returns the ids newly approved."""
    fleet = fleet_of(store)
    run = fleet.latest_run(key)
    if not is_active(run) or not run or not run["deferral"]:
        raise Conflict(
            "There is no ongoing Rolling Upgrade waiting for approval (approval applies to platform-started OS "
            "upgrades of scale sets with osRollingUpgradeDeferral)."
        )
    record = fleet.record(key)
    if record is None:
        raise AssertionError("record is None")
    ctx = _Context(store, fleet, key, record, run)
    approved = []
    starting = []
    for iid in instance_ids:
        outcome = run["outcome"].get(iid)
        if iid in run["approved"] or outcome is not None and outcome["result"] != "in_progress":
            continue
        flight = run["flight"].get(iid)
        if flight is not None and flight["phase"] != "awaiting_approval":
            continue
        run["approved"].append(iid)
        approved.append(iid)
        if flight is not None:
            ctx.begin_reimage(ctx.by_id[iid])
            starting.append(iid)
    if not approved:
        return []  # nothing to do: the run and its event stay as they are, written by nobody
    if starting:
        push(run, store.now() + ctx.reimage, "reimage_done", starting)
    fleet.touch_run(key, run["run_id"])
    fleet.touch(key)
    wake(store, key, run)
    return approved
