# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks that stop a run, as pure functions: plain data in, the run's ApiError (or None) out.

The orchestrator asks them before a batch (azure-behaviour §3.1) and after one (§4 credentials, then
§3.6), and acts on the answer; nothing here changes the run, the instances or the store.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import NamedTuple

from ansible_collections.azsim.vmss.plugins.module_utils._model.health import count_unhealthy, is_unhealthy
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import exceeds
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import (
    FAILED_RESULTS,
    ApiError,
    ErrorDetail,
    Outcome,
)

BEFORE_CODE = "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"
DURING_CODE = "MaxUnhealthyInstancePercentExceededInRollingUpgrade"
UPGRADED_CODE = "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
CREDENTIAL_CODE = "RollingUpgradeExtensionCredentialExpired"


class ScaleSetRef(NamedTuple):
    """The scale set an error is about: its resource id (the error's target) and its name."""

    id: str
    name: str


def _detail(scale_set: ScaleSetRef, instance: Instance) -> ErrorDetail:
    """One RollingUpgradeInstanceUnhealthyError, targeted ``<vmss>/virtualMachines/<id>`` (azure-behaviour §3)."""
    message = f"Instance {instance['instance_id']} ({instance['name']}) is {instance['health'].lower()}"
    if instance["power_state"] != "running":
        message += f" and {instance['power_state']}"
    if instance["provisioning_state"] == "Failed":
        message += ", extensions failed to provision"
    return {
        "code": "RollingUpgradeInstanceUnhealthyError",
        "target": f"{scale_set.name}/virtualMachines/{instance['instance_id']}",
        "message": message + ".",
    }


def api_error(scale_set: ScaleSetRef, code: str, message: str, instances: list[Instance]) -> ApiError:
    """The run's ``error``: one detail per instance it names (azure-behaviour §3 run status, §5)."""
    return {
        "code": code,
        "target": scale_set.id,
        "message": message,
        "details": [_detail(scale_set, i) for i in instances],
    }


def pre_batch_error(
    scale_set: ScaleSetRef, instances: list[Instance], n: int, max_unhealthy_percent: int, first_batch: bool
) -> ApiError | None:
    """azure-behaviour §3.1: more than maxUnhealthyInstancePercent of N unhealthy, for any reason, stops the run.

    Asked before every batch, so it is also the seed's "more than 20% unhealthy during a batch stops
    the upgrade at the end of that batch". ``n`` is N when the run started.
    """
    # count_unhealthy first: this runs over all N instances before every batch, and mostly passes.
    if not exceeds(count_unhealthy(instances), n, max_unhealthy_percent):
        return None
    unhealthy = [i for i in instances if is_unhealthy(i)]
    when = "before starting" if first_batch else "during the upgrade"
    return api_error(
        scale_set,
        BEFORE_CODE if first_batch else DURING_CODE,
        f"Rolling Upgrade failed {when} because {len(unhealthy) * 100 // n}% of instances ({len(unhealthy)} of {n}) "
        f"are in an unhealthy state - more than the MaxUnhealthyInstancePercent of {max_unhealthy_percent}% "
        "defined in the RollingUpgradePolicy. Make the instances healthy or increase maxUnhealthyInstancePercent, "
        "then start the upgrade again.",
        unhealthy,
    )


def credential_error(
    scale_set: ScaleSetRef,
    batch_ids: list[str],
    outcome: dict[str, Outcome],
    expired_extensions: list[str],
    by_id: dict[str, Instance],
) -> ApiError | None:
    """azure-behaviour §4, credentials: an instance of the batch failed on an expired credential; the run stops."""
    if not any(outcome[i].get("credential") for i in batch_ids):
        return None
    return api_error(
        scale_set,
        CREDENTIAL_CODE,
        f"Rolling Upgrade stopped: the credentials of extension(s) {', '.join(expired_extensions)} expired, so the "
        "extensions failed to provision on the instances of the first batch. Renew the credentials, update the "
        "scale set model and deploy it to every instance.",
        [by_id[i] for i in batch_ids if i in by_id],
    )


def post_batch_error(
    scale_set: ScaleSetRef,
    failed_count: int,
    outcome: dict[str, Outcome],
    n: int,
    max_unhealthy_upgraded_percent: int,
    by_id: dict[str, Instance],
) -> ApiError | None:
    """azure-behaviour §3.6: more than maxUnhealthyUpgradedInstancePercent of N failed after being upgraded.

    ``failed_count`` is the sum of the ended batches' failures; the message and the details name every
    instance whose outcome is a failure (failed, rolled back or not).
    """
    if not exceeds(failed_count, n, max_unhealthy_upgraded_percent):
        return None
    failed = [i for i, o in outcome.items() if o["result"] in FAILED_RESULTS]
    return api_error(
        scale_set,
        UPGRADED_CODE,
        "Rolling Upgrade failed after exceeding the MaxUnhealthyUpgradedInstancePercent value defined in the "
        f"RollingUpgradePolicy. {len(failed) * 100 // n}% of instances are in an unhealthy state after being "
        f"upgraded - more than the threshold of {max_unhealthy_upgraded_percent}%. First failed instance ID is: "
        f"{min(failed, key=int)}.",
        [by_id[i] for i in sorted(failed, key=int) if i in by_id],
    )


def breach_rollback(outcome: dict[str, Outcome], by_id: dict[str, Instance], rollback_on_breach: bool) -> list[str]:
    """azure-behaviour §3.6: with rollbackFailedInstancesOnPolicyBreach, the failed instances go back to the
    previous model once the run breaches; in outcome order.

    Instances already rolled back, kept old by maxSurge (§3.4) or scaled in meanwhile have nothing to restore.
    """
    if not rollback_on_breach:
        return []
    return [i for i, o in outcome.items() if o["result"] == "failed" and not o.get("kept_old") and i in by_id]
