# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maxSurge: which runs surge, and what becomes of a surge instance that fails (azure-behaviour-2 MS, D3).

With maxSurge a batch's new instances are built beside the old ones, which keep serving until their
replacements are healthy, so the scale set never has fewer than N instances in service (MS-3, MS-6).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run


def automatic_run_surges(record: Record) -> bool:
    """azure-behaviour-2 D3: on Uniform, an automatic OS run surges when the scale set has ``maxSurge: true``,
    whatever ``useRollingUpgradePolicy`` says (its thresholds stay the fixed ones of azure-behaviour §1)."""
    properties = record["model"]["properties"]
    if properties.get("orchestrationMode", "Uniform") == "Flexible":
        return False  # FX-3: automatic OS upgrade and MaxSurge together are not supported on Flexible
    rolling = properties["upgradePolicy"].get("rollingUpgradePolicy") or {}
    return bool(rolling.get("maxSurge", False))


def run_surges(run: Run) -> bool:
    """azure-behaviour-2 MS-4: every rolling upgrade surges under maxSurge: OS runs (user or platform) and
    rolling model updates alike. Automatic-mode propagation and manualUpgrade update the instances
    themselves: they are not rolling upgrades (they are the runs that are not ``gated``)."""
    return bool(run["policy"]["maxSurge"]) and run["gated"]


def keeps_old_on_failure(run: Run, creation_failed: bool) -> bool:
    """azure-behaviour-2 MS-8: whether a failed surge instance is deleted and the old one kept.

    A new instance whose creation failed (an extension did not provision) is deleted in every run. One that
    was created but never became healthy is deleted only by runs with automatic rollback (the surge
    equivalent of restoring the previous OS disk); other runs keep it and delete the old one.
    """
    return creation_failed or run["rollback"]
