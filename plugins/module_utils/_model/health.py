# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health signal of an instance (azure-behaviour §3, health signal) and the scale set's health source.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Literal

from ansible_collections.azsim.vmss.plugins.module_utils._model.extensions import extensions_of, is_health_extension
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import (
    ExtensionState,
    Health,
    Instance,
    PowerState,
    Record,
)

HealthSource = Literal["probe", "extension", "both"]


def has_health_probe(record: Record) -> bool:
    """The model names a load-balancer health probe (``networkProfile.healthProbe``)."""
    return bool(record["model"]["properties"]["virtualMachineProfile"].get("networkProfile", {}).get("healthProbe"))


def health_source(record: Record) -> HealthSource | None:
    """``probe``, ``extension``, ``both`` or None: where the platform reads an instance's health from.

    The one reading behind azure-behaviour §1 (``mode: Rolling`` needs a health source), §2 rule 4 (exactly
    one for automatic OS upgrade) and §3's health signal (without a source, running and extensions decide).
    """
    probe = has_health_probe(record)
    extension = any(is_health_extension(e) for e in extensions_of(record["model"]))
    if probe and extension:
        return "both"
    return "probe" if probe else ("extension" if extension else None)


def initial_health(record: Record, power_state: PowerState, extensions: list[ExtensionState]) -> Health:
    """Health of an instance nobody told us about: healthy when it runs and its extensions succeeded.

    Without a health source that is Azure's own rule (azure-behaviour §3, health signal). With a probe or the
    health extension the application answers; a stopped instance answers nothing, so it is unhealthy.
    """
    if power_state != "running":
        return "Unhealthy"
    if health_source(record) is None and any(e["provisioning_state"] != "Succeeded" for e in extensions):
        return "Unhealthy"
    return "Healthy"


UNHEALTHY_STATES: tuple[Health, ...] = ("Unhealthy", "Unknown")


def is_unhealthy(instance: Instance) -> bool:
    """Unhealthy for any reason: the health signal says so (``Unknown`` counts), or the instance is not running.

    azure-behaviour §3 rule 1 ("unhealthy for any reason") and the health signal (``Unknown`` counts as
    unhealthy).
    """
    return instance["health"] in UNHEALTHY_STATES or instance["power_state"] != "running"


def count_unhealthy(instances: list[Instance]) -> int:
    """How many instances the pre-batch check counts against maxUnhealthyInstancePercent (azure-behaviour §3 rule 1)."""
    return sum(1 for i in instances if is_unhealthy(i))
