# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Starting a run: the target image version resolved once, the candidates ordered, the policy it goes by
(azure-behaviour §1, §3), the faults picked with the seed, and the first batch put on its agenda.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._engine.agenda import push, wake
from ansible_collections.azsim.vmss.plugins.module_utils._engine.batches import order, phased
from ansible_collections.azsim.vmss.plugins.module_utils._engine.surge import automatic_run_surges
from ansible_collections.azsim.vmss.plugins.module_utils._model import catalogue, extension_versions
from ansible_collections.azsim.vmss.plugins.module_utils._model.custom_metrics import health_wait, read_at_start
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import expired_credentials
from ansible_collections.azsim.vmss.plugins.module_utils._model.faults import internal_error_at, pick
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import is_flexible
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import rolling_numbers
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import is_protected_from_scale_set_actions
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record, RollingPolicy
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run, RunKind, StartedBy
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store


def effective_policy(record: Record, kind: RunKind, started_by: StartedBy) -> RollingPolicy:
    """The rolling policy the run goes by (azure-behaviour §1: the fixed one for some automatic runs, which
    still surge under azure-behaviour-2 D3)."""
    platform_os_upgrade = kind == "os" and started_by == "Platform"
    policy = rolling_numbers(record["model"]["properties"]["upgradePolicy"], platform_os_upgrade)
    if platform_os_upgrade:
        policy["maxSurge"] = automatic_run_surges(record)
    return policy


def start_run(
    store: Store,
    key: str,
    kind: RunKind,
    started_by: StartedBy,
    names: list[str] | None = None,
) -> Run | None:
    """Start an OS upgrade (``kind='os'``), a model rollout (``kind='model'``) or an extension rolling upgrade
    (``kind='extension'``); None if nothing to do.

    The target OS image version is resolved here, once, and recorded exactly.
    """
    fleet = fleet_of(store)
    record = fleet.record(key)
    if record is None:
        raise AssertionError("record is None")
    instances = fleet.instances(key)
    # azure-behaviour-2 IP-4/IP-6: no run touches an instance protected from scale-set actions; it still counts
    # in N (D5) below.
    protected: list[Instance] = []
    unprotected: list[Instance] = []
    for instance in instances:  # one pass, each asked once: this is every instance of the scale set
        (protected if is_protected_from_scale_set_actions(instance) else unprotected).append(instance)
    now = store.now()
    model = record["model"]
    reference = model["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
    if kind == "os":
        target_version: str | None = catalogue.resolve(store, reference, model["location"])
        candidates = [i for i in unprotected if i["os_disk"]["image_version"] != target_version]
        gated = True
    elif kind == "extension":
        # azure-behaviour-2 EX-1: instances already on the latest extension versions are not affected; the
        # platform's own runs take only the extensions with enableAutomaticUpgrade (EX-2).
        target_version = None
        only = extension_versions.automatic(record) if started_by == "Platform" else None
        candidates = [i for i in unprotected if extension_versions.outdated(record, i, only)]
        gated = True
    else:
        pinned = catalogue.pinned_version(reference)
        target_version = pinned
        wanted = set(names) if names is not None else None
        # Instances already on the current model are left alone, named or not (Azure's manualUpgrade).
        candidates = [
            i
            for i in unprotected
            if i["model_version"] != record["model_version"] and (wanted is None or i["name"] in wanted)
        ]
        gated = names is None and model["properties"]["upgradePolicy"]["mode"] == "Rolling"
    # AH-12: the custom metrics are read once, now; SkipUpgrade instances leave the run like protected ones (AH-13).
    metrics = read_at_start(record, candidates) if gated else {"phases": {}, "skipped": []}
    skipped_by_app = set(metrics["skipped"])
    candidates = [i for i in candidates if i["instance_id"] not in skipped_by_app]
    if not candidates:
        return None
    auto = model["properties"]["upgradePolicy"].get("automaticOSUpgradePolicy", {})
    policy = effective_policy(record, kind, started_by)
    platform = kind == "os" and started_by == "Platform"
    expired = sorted(expired_credentials(record, now))
    candidate_ids = {i["instance_id"] for i in candidates}
    protected_ids = {i["instance_id"] for i in protected}
    phases = metrics["phases"]
    previous = fleet.latest_run_id(key)
    # Built once: a union inside the genexpr below made the run's start quadratic in N (issue 14).
    accounted = candidate_ids | protected_ids | skipped_by_app
    run: Run = {
        "run_id": (previous or 0) + 1,
        "kind": kind,
        "gated": gated,
        "started_by": started_by,
        "policy": policy,
        "rollback": platform and not auto.get("disableAutomaticRollback", False),
        "deferral": platform and bool(auto.get("osRollingUpgradeDeferral", False)),
        "target_version": target_version,
        "target_reference": _target_reference(reference, target_version),
        "model_version": record["model_version"],
        "status": "RollingForward",
        "start": now,
        "end": None,
        "last_action": "Start",
        "last_action_time": now,
        "n": len(instances),
        "pending": [
            i["instance_id"]
            for i in phased(
                order(
                    candidates,
                    bool(policy["prioritizeUnhealthyInstances"]),
                    bool(policy["enableCrossZoneUpgrade"]),
                    is_flexible(record),
                ),
                phases,
            )
        ],
        "skipped": sorted((i["instance_id"] for i in instances if i["instance_id"] not in accounted), key=int),
        "skipped_by_application": sorted(skipped_by_app, key=int),
        "phases": phases,
        "health_wait": health_wait(record),
        "protected": sorted(protected_ids, key=int),
        "faults": pick(record["simulation"]["faults"], record["simulation"]["seed"], instances, target_version),
        "expired_extensions": expired,
        "outcome": {},
        "flight": {},
        "batches": [],
        "current_batch": None,
        "agenda": [],
        "seq": 0,
        "cancel_requested": False,
        "approved": [],
        "error": None,
        "breach_error": None,
        "rollback_errors": [],
    }
    if kind == "extension" and started_by == "Platform":
        run["extensions"] = extension_versions.automatic(record)
    if gated:  # ER-7, ER-8: rolling upgrades only; fixed as the run starts, like its policy
        timeout = record["simulation"].get("run_timeout")
        if timeout is not None:
            run["timeout"] = parse_duration(timeout, "simulation.run_timeout")
        internal_at = internal_error_at(record["simulation"]["faults"], target_version)
        if internal_at is not None:
            run["internal_error_at"] = internal_at
    for instance_id, fault in run["faults"].items():
        if "unhealthy_at" in fault:
            push(run, now + fault["unhealthy_at"], "unhealthy", [instance_id])
    push(run, now, "batch_start", [])
    fleet.add_run(key, run)
    wake(store, key, run)
    return run


def keeps_run_image(reference: dict[str, Any], run: Run) -> bool:
    """Whether the model's image ``reference`` still leads to the OS run's target image (azure-behaviour-2 CF-2).

    A model changed during a run in Manual mode (D1) reaches the instances of later batches, with the run's
    target image fixed: they carry the current model only while its image is the one the run rolls out.
    """
    pinned = catalogue.pinned_version(reference)
    if pinned is not None and pinned != run["target_version"]:
        return False
    return _target_reference(reference, run["target_version"]) == run["target_reference"]


def _target_reference(reference: dict[str, Any], version: str | None) -> dict[str, Any]:
    if "id" in reference:
        image_id = catalogue.split_gallery_reference(reference["id"], "image.id")[0]
        return {"id": f"{image_id}/versions/{version}" if version else image_id}
    return {
        "publisher": reference["publisher"],
        "offer": reference["offer"],
        "sku": reference["sku"],
        "version": version or reference["version"],
    }
