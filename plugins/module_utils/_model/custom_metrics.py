# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application Health rich states and custom metrics (azure-behaviour-2 §3, AH rules): what an instance's
application reports (phase, SkipUpgrade), when the scale set reads it, and how long a run waits for health.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import extensions_of, is_health_extension
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import CustomMetrics, Health, Instance, Record

METRIC_KEYS = ("phase_ordering_number", "skip_upgrade")
# azure-behaviour §3.5 / AH-5: the orchestrator waits up to 5 minutes for an upgraded instance to be healthy.
HEALTH_WAIT = 300


class MetricsSnapshot(TypedDict):
    """AH-12: every candidate's metrics as read when the run starts; later reports do not change the run."""

    phases: dict[str, int]  # instance id -> phase; instances without one are in the last phase (AH-11)
    skipped: list[str]  # instance ids that reported SkipUpgrade (AH-13)


def normalize_custom_metrics(value: Any, where: str) -> CustomMetrics:
    """The ``custom_metrics`` option of one instance (AH-9: a phase is a non-negative whole number)."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: give a dict with {', '.join(METRIC_KEYS)}")
    unknown = sorted(set(value) - set(METRIC_KEYS))
    if unknown:
        raise InvalidInput(f"{where}: unknown key {', '.join(unknown)}; allowed: {', '.join(METRIC_KEYS)}")
    phase = value.get("phase_ordering_number")
    if phase is not None and (isinstance(phase, bool) or not isinstance(phase, int) or phase < 0):
        raise InvalidInput(f"{where}.phase_ordering_number: {phase!r} is not allowed; give a whole number from 0")
    skip = value.get("skip_upgrade")
    if skip is not None and not isinstance(skip, bool):
        raise InvalidInput(f"{where}.skip_upgrade: {skip!r} is not allowed; give true or false")
    return {"phase_ordering_number": phase, "skip_upgrade": bool(skip)}


def _rich_health_extension(model: dict[str, Any]) -> dict[str, Any] | None:
    """The model's health extension when it reports rich states (AH-1: type handler 2.x), else None."""
    for extension in extensions_of(model):
        if is_health_extension(extension):
            version = str(extension["properties"].get("typeHandlerVersion", ""))
            return extension if version.split(".", maxsplit=1)[0] == "2" else None
    return None


def reads_custom_metrics(model: dict[str, Any]) -> bool:
    """AH-8: custom metrics need rich health states over http or https (not binary states, not tcp); ``model``
    is the scale set's model as Azure shows it."""
    extension = _rich_health_extension(model)
    if extension is None:
        return False
    settings = extension["properties"].get("settings") or {}
    return str(settings.get("protocol", "")).lower() in ("http", "https")


def health_wait(record: Record) -> int:
    """AH-5 (SIMULATOR CHOICE): an upgraded instance has ``max(PT5M, gracePeriod)`` to become healthy with rich
    states; PT5M with binary states or a load-balancer probe. ``gracePeriod`` defaults to
    ``intervalInSeconds * numberOfProbes`` (AH-1: 5 and 1)."""
    extension = _rich_health_extension(record["model"])
    if extension is None:
        return HEALTH_WAIT
    settings = extension["properties"].get("settings") or {}
    grace = settings.get("gracePeriod")
    if not isinstance(grace, int) or isinstance(grace, bool):
        interval, probes = settings.get("intervalInSeconds", 5), settings.get("numberOfProbes", 1)
        grace = interval * probes if isinstance(interval, int) and isinstance(probes, int) else 0
    return max(HEALTH_WAIT, grace)


def expired_initializing(record: Record) -> Health:
    """AH-3: what a rich-states health extension reports when its grace period expires while still
    ``Initializing``: ``Unknown`` over http or https, ``Unhealthy`` over tcp (which has no ``Unknown``, AH-2).
    Either is unhealthy (AH-4). Binary states and probes never report ``Initializing``: ``Unhealthy``."""
    extension = _rich_health_extension(record["model"])
    if extension is None:
        return "Unhealthy"
    settings = extension["properties"].get("settings") or {}
    return "Unhealthy" if str(settings.get("protocol", "")).lower() == "tcp" else "Unknown"


def read_at_start(record: Record, candidates: Iterable[Instance]) -> MetricsSnapshot:
    """AH-12, AH-14: the metrics of the candidates, read once as the run starts, and only from instances that
    answer Healthy (the others get no phase and no skip; they are still upgraded, IP-12)."""
    snapshot: MetricsSnapshot = {"phases": {}, "skipped": []}
    if not reads_custom_metrics(record["model"]):
        return snapshot  # AH-8: ignored without rich states over http(s)
    for instance in candidates:
        metrics = instance.get("custom_metrics")
        if metrics is None or instance["health"] != "Healthy":
            continue
        if metrics["skip_upgrade"]:
            snapshot["skipped"].append(instance["instance_id"])
        elif metrics["phase_ordering_number"] is not None:
            snapshot["phases"][instance["instance_id"]] = metrics["phase_ordering_number"]
    return snapshot


def phase_rank(phases: dict[str, int], instance_id: str) -> float:
    """AH-11: phases in ascending order; no phase is the last phase, after the highest numbered one."""
    phase = phases.get(instance_id)
    return float("inf") if phase is None else float(phase)


def metrics_message(metrics: CustomMetrics) -> str:
    """AH-10: the JSON string the health extension's CustomMetrics substatus carries, as the application sent it."""
    rolling: dict[str, Any] = {"SkipUpgrade": metrics["skip_upgrade"]}
    if metrics["phase_ordering_number"] is not None:
        rolling = {"PhaseOrderingNumber": metrics["phase_ordering_number"], **rolling}
    return json.dumps({"rollingUpgrade": rolling})
