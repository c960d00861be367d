# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks that stop a run, as pure functions: plain data in, the run's ApiError (or None) out.

The orchestrator asks them before a batch (azure-behaviour §3.1) and after one (§4 credentials, then
§3.6), and acts on the answer; nothing here changes the run, the instances or the store.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import NamedTuple, Optional

from ansible_collections.azsim.vmss.plugins.module_utils._model.health import count_unhealthy, is_unhealthy
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import exceeds
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import (
    FAILED_RESULTS,
    ApiError,
    ErrorDetail,
    Outcome,
    Run,
)

BEFORE_CODE = "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"
DURING_CODE = "MaxUnhealthyInstancePercentExceededInRollingUpgrade"
UPGRADED_CODE = "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
CREDENTIAL_CODE = "RollingUpgradeExtensionCredentialExpired"
IN_PROGRESS_CODE = "RollingUpgradeInProgressWithFailedUpgradedVMs"  # azure-behaviour-2 ER-6

# azure-behaviour-2 ER-5: the detail of an instance that is unhealthy, or not running (unreachable).
UNHEALTHY_DETAIL_CODE = "RollingUpgradeInstanceUnhealthyError"
UNHEALTHY_DETAIL = "Instance found to be unhealthy or unreachable."
# ER-5/ER-9: an instance whose extensions failed to provision is named by Azure's provisioning error.
PROVISIONING_DETAIL_CODE = "VMExtensionProvisioningError"
MULTIPLE_EXTENSIONS_FAILED = (
    "Multiple VM extensions failed to be provisioned on the VM. Please see the VM extension instance view for other "
    "failures."
)
DETAILS_LINK = "For details on rolling upgrades, use http://aka.ms/AzureVMSSRollingUpgrade"


class ScaleSetRef(NamedTuple):
    """The scale set an error is about: its resource id and its name (the details' targets start with it)."""

    id: str
    name: str
    # A Flexible scale set's VM name for an instance id (azure-behaviour-2 FX-6); None on Uniform.
    vm_names: Optional[Callable[[str], str]] = None


def _detail(scale_set: ScaleSetRef, instance: Instance) -> ErrorDetail:
    """One detail per instance, targeted ``<vmss>/virtualMachines/<id>`` (azure-behaviour-2 ER-5, ER-9)."""
    # azure-behaviour-2 FX-6: a Flexible scale set's VM is named by its VM name.
    vm = instance["instance_id"] if scale_set.vm_names is None else scale_set.vm_names(instance["instance_id"])
    target = f"{scale_set.name}/virtualMachines/{vm}"
    failed = [e["name"] for e in instance["extensions"] if e["provisioning_state"] == "Failed"]
    if instance["provisioning_state"] == "Failed":
        # ER-9 names Azure's text for several failed extensions; for one, the simulator names it.
        message = (
            f"VM has reported a failure when processing extension '{failed[0]}'."
            if len(failed) == 1
            else MULTIPLE_EXTENSIONS_FAILED
        )
        return {"code": PROVISIONING_DETAIL_CODE, "target": target, "message": message}
    return {"code": UNHEALTHY_DETAIL_CODE, "target": target, "message": UNHEALTHY_DETAIL}


def api_error(scale_set: ScaleSetRef, code: str, message: str, instances: list[Instance]) -> ApiError:
    """The run's ``error``: one detail per instance it names (azure-behaviour-2 ER-1, ER-5).

    ``target`` is null and there is no ``innererror``, as in Azure's real payloads (ER-1).
    """
    return {
        "code": code,
        "target": None,
        "message": message,
        "details": [_detail(scale_set, i) for i in instances],
    }


def percent_of(count: int, n: int) -> int:
    """ER-5: ``round(100 * count / N)`` as an integer, halves rounded up."""
    return (200 * count + n) // (2 * n) if n else 0


def most_impactful(details: list[ErrorDetail]) -> str:
    """ER-5: "the most impactful error" is the most frequent detail message (the first seen on a tie)."""
    return Counter(d["message"] for d in details).most_common(1)[0][0] if details else UNHEALTHY_DETAIL


def _breach_error(
    scale_set: ScaleSetRef,
    code: str,
    head: str,
    tail: str,
    count: int,
    n: int,
    threshold: int,
    instances: list[Instance],
) -> ApiError:
    """The ER-2/ER-3/ER-4 texts: a head naming the policy value, the percentage, the most impactful error."""
    error = api_error(scale_set, code, "", instances)
    error["message"] = (
        f"{head} {percent_of(count, n)}% of instances are in an unhealthy state{tail} the threshold of {threshold}% "
        f"configured in the RollingUpgradePolicy. The most impactful error is:  {most_impactful(error['details'])} "
        f"{DETAILS_LINK}"
    )
    return error


def pre_batch_error(
    scale_set: ScaleSetRef,
    instances: list[Instance],
    n: int,
    max_unhealthy_percent: int,
    first_batch: bool,
    unhealthy_count: int | None = None,
) -> ApiError | None:
    """azure-behaviour §3.1: more than maxUnhealthyInstancePercent of N unhealthy, for any reason, stops the run.

    Asked before every batch, so it is also the seed's "more than 20% unhealthy during a batch stops
    the upgrade at the end of that batch". ``n`` is N when the run started. ``unhealthy_count``: the count of
    ``instances`` the caller keeps (Fleet.unhealthy_count), else counted here.
    """
    # The count first: this is asked before every batch, and mostly passes.
    count = count_unhealthy(instances) if unhealthy_count is None else unhealthy_count
    if not exceeds(count, n, max_unhealthy_percent):
        return None
    unhealthy = [i for i in instances if is_unhealthy(i)]
    if first_batch:  # azure-behaviour-2 ER-4
        head = (
            "Rolling Upgrade failed due to exceeding the MaxUnhealthyInstancePercent value (defined in the "
            "RollingUpgradePolicy) before any batch was attempted."
        )
        tail = ", more than"
    else:  # ER-2
        head = (
            "Rolling Upgrade failed after exceeding the MaxUnhealthyInstancePercent value defined in the "
            "RollingUpgradePolicy."
        )
        tail = " after being upgraded - more than"
    code = BEFORE_CODE if first_batch else DURING_CODE
    return _breach_error(scale_set, code, head, tail, len(unhealthy), n, max_unhealthy_percent, unhealthy)


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
    failed = failed_of(outcome)
    # azure-behaviour-2 ER-3: Azure's newer layout (ER-2) for this code too.
    return _breach_error(
        scale_set,
        UPGRADED_CODE,
        "Rolling Upgrade failed after exceeding the MaxUnhealthyUpgradedInstancePercent value defined in the "
        "RollingUpgradePolicy.",
        " after being upgraded - more than",
        len(failed),
        n,
        max_unhealthy_upgraded_percent,
        [by_id[i] for i in failed if i in by_id],
    )


def failed_of(outcome: dict[str, Outcome]) -> list[str]:
    """The ids whose outcome is a failure (failed, rolled back or not), in instance-id order."""
    return sorted((i for i, o in outcome.items() if o["result"] in FAILED_RESULTS), key=int)


def in_progress_error(
    scale_set: ScaleSetRef,
    failed: list[str],
    max_unhealthy_upgraded_percent: int,
    by_id: dict[str, Instance],
) -> ApiError | None:
    """azure-behaviour-2 ER-6: a run going on with failed instances, under the threshold, says so in its error.

    ``failed`` is ``failed_of`` the run's outcome (the orchestrator keeps it, run_failures.py). None while nothing
    failed; the orchestrator clears it when the run completes.
    """
    if not failed:
        return None
    return api_error(
        scale_set,
        IN_PROGRESS_CODE,
        f"Rolling Upgrade is in progress with {len(failed)} failed upgraded instance(s). The rollout continues "
        f"because the MaxUnhealthyUpgradedInstancePercent threshold of {max_unhealthy_upgraded_percent}% has not "
        "been exceeded.",
        [by_id[i] for i in failed if i in by_id],
    )


def breach_rollback(outcome: dict[str, Outcome], by_id: dict[str, Instance], rollback_on_breach: bool) -> list[str]:
    """azure-behaviour §3.6: with rollbackFailedInstancesOnPolicyBreach, the failed instances go back to the
    previous model once the run breaches; in outcome order.

    Instances already rolled back, kept old by maxSurge (§3.4) or scaled in meanwhile have nothing to restore.
    """
    if not rollback_on_breach:
        return []
    return [i for i, o in outcome.items() if o["result"] == "failed" and not o.get("kept_old") and i in by_id]


TIMEOUT_CODE = "RollingUpgradeTimeoutError"
INTERNAL_ERROR_CODE = "InternalExecutionError"


def stop_error(run: Run, now: int) -> ApiError | None:
    """Why a run stops before its next batch, beyond its health checks; None when it goes on.

    azure-behaviour-2 ER-8: an injected ``internal_execution_error`` fault, once its time has come: "An internal
    execution error occurred. Please retry later." ER-7 (SIMULATOR CHOICE): past ``simulation.run_timeout``, the
    run faults with "Rolling Upgrade timed out after {hh:mm:ss}." (the time it ran) and no new batch starts.
    """
    elapsed = now - run["start"]
    internal_at = run.get("internal_error_at")
    if internal_at is not None and elapsed >= internal_at:
        return {
            "code": INTERNAL_ERROR_CODE,
            "target": None,
            "message": "An internal execution error occurred. Please retry later.",
            "details": [],
        }
    timeout = run.get("timeout")
    if timeout is not None and elapsed >= timeout:
        hours, rest = divmod(elapsed, 3600)
        return {
            "code": TIMEOUT_CODE,
            "target": None,
            "message": f"Rolling Upgrade timed out after {hours:02d}:{rest // 60:02d}:{rest % 60:02d}.",
            "details": [],
        }
    return None
