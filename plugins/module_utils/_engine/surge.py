# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""maxSurge: which runs surge, and what becomes of a surge instance that fails (azure-behaviour-2 MS, D3).

With maxSurge a batch's new instances are created beside the old ones, which keep serving until their
replacements are healthy and are then deleted, so the scale set never has fewer than N instances in
service and lists up to N + b during a batch (MS-3, MS-6). A run keeps its own bookkeeping (pending,
batches, outcomes) by the ids it batched; ``Run.replaced`` maps each replaced id to its successor's.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import parse_duration
from ansible_collections.azsim.vmss.plugins.module_utils._model.features import (
    DEFAULT_NAMESPACE,
    REGISTERED,
    load_feature,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.instances import (
    UPDATE_DOMAINS,
    fresh_data_disks,
    os_disk_name,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store


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


def quota_allows(record: Record, count: int) -> bool:
    """azure-behaviour-2 MS-7: the quota check before each surge batch: room for ``count`` more instances.

    The simulated quota is ``simulation.surge_quota`` (instances beyond N; none set: no limit). A batch
    that fails it is upgraded in place; no error is recorded and later batches try again.
    """
    quota = record["simulation"].get("surge_quota")
    return quota is None or count <= quota


SURGE_FEATURE = "MaxSurgeRollingUpgrade"


def refuse_unregistered_surge(store: Store, subscription_id: str, record: Record, before: bool, after: bool) -> None:
    """azure-behaviour-2 MS-2 (SIMULATOR CHOICE): with ``simulation.strict_preview_features``, turning
    ``maxSurge`` on needs the subscription's feature ``Microsoft.Compute/MaxSurgeRollingUpgrade`` ``Registered``
    (the 2024 preview's requirement); otherwise 400 ``BadRequest``, nothing written. Without the setting no flag
    is needed (the 2026 documentation names none), and a scale set that already surges keeps doing so."""
    if before or not after or not record["simulation"].get("strict_preview_features"):
        return
    feature = load_feature(store, subscription_id, DEFAULT_NAMESPACE, SURGE_FEATURE)
    if feature["state"] == REGISTERED:
        return
    text = f"The subscription is not registered for feature {DEFAULT_NAMESPACE}/{SURGE_FEATURE}"
    raise AzsimError(
        f"rolling_upgrade_policy.max_surge: {text} (its state is {feature['state']}; simulation."
        f"strict_preview_features is on): register it with feature_registration first; nothing was changed",
        azure_message=f"{text}.",
    )


def deletion_delay(record: Record) -> int:
    """azure-behaviour-2 MS-9 (SIMULATOR CHOICE, by analogy with AR-6's Replace): with the terminate notification
    enabled, an old instance is deleted ``notBeforeTimeout`` after its replacement is healthy, and lists as
    ``Deleting`` meanwhile (MS-6); without it, at once. Seconds."""
    profile = record["model"]["properties"]["virtualMachineProfile"].get("scheduledEventsProfile") or {}
    notification = profile.get("terminateNotificationProfile") or {}
    if not notification.get("enable"):
        return 0
    return parse_duration(notification.get("notBeforeTimeout") or "PT5M", "notBeforeTimeout")


def keeps_old_on_failure(run: Run, creation_failed: bool) -> bool:
    """azure-behaviour-2 MS-8: whether a failed surge instance is deleted and the old one kept.

    A new instance whose creation failed (an extension did not provision) is deleted in every run. One that
    was created but never became healthy is deleted only by runs with automatic rollback (the surge
    equivalent of restoring the previous OS disk); other runs keep it and delete the old one.
    """
    return creation_failed or run["rollback"]


def surge_instance(record: Record, old: Instance, target_version: str | None) -> Instance:
    """The new instance that replaces ``old`` in a surge batch, being created (azure-behaviour-2 MS-3, MS-5, D10).

    D10: it keeps the host name (the slot the fleet addresses) and gets the next unused instance id, never
    reused. MS-5: the zone of the instance it replaces, update domain ``newId % 5``. Its OS disk comes from
    the run's target image (the old one's image for a model rollout that keeps it); it is not serving
    until it is created and healthy, and its data disks are new ones of the same layout.
    """
    new_id = record["next_instance_id"]
    record["next_instance_id"] = new_id + 1
    return {
        "instance_id": str(new_id),
        "name": old["name"],
        "zone": old["zone"],
        "update_domain": new_id % UPDATE_DOMAINS,
        "os_disk": {
            "name": os_disk_name(record, new_id, 1),
            "image_version": target_version or old["os_disk"]["image_version"],
        },
        # What a breach rollback (§3.6) would bring back: the disk of the instance it replaced.
        "previous_os_disk": old["os_disk"],
        # A new VM from the model (MS-3): new, empty data disks of the old one's layout, as a Replace makes (AR-6).
        "data_disks": fresh_data_disks(record, old["data_disks"], new_id),
        "power_state": "running",
        "provisioning_state": "Creating",
        "extensions": [],
        "health": "Unknown",
        "model_version": old["model_version"],
        "disk_generation": 1,
    }
