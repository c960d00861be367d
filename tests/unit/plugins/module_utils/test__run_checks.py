# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks that stop a run, as tables: azure-behaviour §3.1 (pre-batch), §3.6 (post-batch and the breach
rollback) and §4 (expired credentials), on plain data, without a store or a run.

test__orchestrator.py holds the same rules through whole runs; these pin each check's own answer.
"""

from __future__ import annotations

import pytest

from ansible_collections.azsim.vmss.plugins.module_utils._engine.run_checks import (
    BEFORE_CODE,
    CREDENTIAL_CODE,
    DURING_CODE,
    IN_PROGRESS_CODE,
    UPGRADED_CODE,
    ScaleSetRef,
    api_error,
    breach_rollback,
    credential_error,
    failed_of,
    in_progress_error,
    percent_of,
    post_batch_error,
    pre_batch_error,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import (
    Health,
    Instance,
    PowerState,
    ProvisioningState,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Outcome, OutcomeResult

VMSS = ScaleSetRef("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web", "web")


def inst(
    iid: int, health: Health = "Healthy", power: PowerState = "running", provisioning: ProvisioningState = "Succeeded"
) -> Instance:
    return {
        "instance_id": str(iid),
        "name": f"w{iid}",
        "zone": None,
        "update_domain": iid % 5,
        "os_disk": {"name": f"d{iid}", "image_version": "1.0.0"},
        "previous_os_disk": None,
        "data_disks": [],
        "power_state": power,
        "provisioning_state": provisioning,
        "extensions": [],
        "health": health,
        "model_version": 1,
        "disk_generation": 1,
    }


def fleet(n: int, unhealthy: int = 0) -> list[Instance]:
    """n instances, the last ``unhealthy`` of them Unhealthy."""
    return [inst(i, "Unhealthy" if i >= n - unhealthy else "Healthy") for i in range(n)]


def outcomes(**results: OutcomeResult) -> dict[str, Outcome]:
    """{instance id: outcome} from keyword arguments i<id>=<result>, in the order given."""
    return {key[1:]: {"result": value, "batch": 1} for key, value in results.items()}


def by_id(instances: list[Instance]) -> dict[str, Instance]:
    return {i["instance_id"]: i for i in instances}


# == §3.1 pre-batch check ================================================================================


@pytest.mark.parametrize(
    ("n", "unhealthy", "percent", "first", "code"),
    [
        (10, 3, 20, True, BEFORE_CODE),  # more than 20% of 10 before the first batch
        (10, 2, 20, True, None),  # exactly 20% is not more than 20%
        (10, 3, 20, False, DURING_CODE),  # the same check before a later batch has the In code
        (10, 2, 20, False, None),
        (10, 1, 5, True, BEFORE_CODE),  # 5% of 10 tolerates no unhealthy instance
        (20, 1, 5, True, None),  # 5% of 20 tolerates one
        (5, 2, 20, False, DURING_CODE),
        (10, 10, 100, True, None),  # 100% is never exceeded
        (10, 0, 5, True, None),
    ],
)
def test_pre_batch_more_than_max_unhealthy_percent_of_n_stops_azure_3_1(
    n: int, unhealthy: int, percent: int, first: bool, code: str | None
) -> None:
    error = pre_batch_error(VMSS, fleet(n, unhealthy), n, percent, first)
    assert (error["code"] if error else None) == code


@pytest.mark.parametrize(
    ("health", "power", "counts"),
    [
        ("Unhealthy", "running", True),
        ("Unknown", "running", True),  # §3 health signal: Unknown counts as unhealthy
        ("Healthy", "stopped", True),  # "unhealthy for any reason": not running
        ("Healthy", "deallocated", True),
        ("Initializing", "running", False),  # the orchestrator waits for it
        ("Healthy", "running", False),
    ],
)
def test_pre_batch_counts_instances_unhealthy_for_any_reason_azure_3_1(
    health: Health, power: PowerState, counts: bool
) -> None:
    instances = [inst(i) for i in range(4)] + [inst(4, health, power)]
    error = pre_batch_error(VMSS, instances, 5, 0, True)
    assert (error is not None) is counts


def test_pre_batch_measures_against_n_when_the_run_started_azure_3_1() -> None:
    # Scaled in to three instances, two of them unhealthy: 2 of the run's N = 10 is not more than 20%.
    instances = [inst(0), inst(1, "Unhealthy"), inst(2, "Unhealthy")]
    assert pre_batch_error(VMSS, instances, 10, 20, False) is None
    assert pre_batch_error(VMSS, instances, 3, 20, False) is not None


UNHEALTHY = "Instance found to be unhealthy or unreachable."
LINK = "For details on rolling upgrades, use http://aka.ms/AzureVMSSRollingUpgrade"


def test_pre_batch_error_is_azures_text_with_one_detail_per_unhealthy_instance_azure_behaviour_2_er_4_er_5() -> None:
    instances = [*fleet(7), inst(7, "Unhealthy"), inst(8, "Unknown", "stopped"), inst(9, "Healthy", "deallocated")]
    error = pre_batch_error(VMSS, instances, 10, 20, True)
    assert error is not None
    assert error["target"] is None  # ER-1: null, as in Azure's real payloads
    assert error["message"] == (
        "Rolling Upgrade failed due to exceeding the MaxUnhealthyInstancePercent value (defined in the "
        "RollingUpgradePolicy) before any batch was attempted. 30% of instances are in an unhealthy state, more than "
        f"the threshold of 20% configured in the RollingUpgradePolicy. The most impactful error is:  {UNHEALTHY} {LINK}"
    )
    assert error["details"] == [
        {"code": "RollingUpgradeInstanceUnhealthyError", "target": f"web/virtualMachines/{i}", "message": UNHEALTHY}
        for i in (7, 8, 9)
    ]


def test_pre_batch_error_during_the_run_is_azures_er_2_text_azure_behaviour_2_er_2() -> None:
    instances = [*fleet(7), inst(7, "Unhealthy"), inst(8, "Unhealthy"), inst(9, "Unhealthy")]
    error = pre_batch_error(VMSS, instances, 10, 20, False)
    assert error is not None and error["code"] == DURING_CODE
    assert error["message"] == (
        "Rolling Upgrade failed after exceeding the MaxUnhealthyInstancePercent value defined in the "
        "RollingUpgradePolicy. 30% of instances are in an unhealthy state after being upgraded - more than the "
        f"threshold of 20% configured in the RollingUpgradePolicy. The most impactful error is:  {UNHEALTHY} {LINK}"
    )


@pytest.mark.parametrize(("count", "n", "percent"), [(1, 3, 33), (2, 3, 67), (1, 8, 13), (1, 200, 1), (3, 10, 30)])
def test_percent_is_rounded_to_an_integer_azure_behaviour_2_er_5(count: int, n: int, percent: int) -> None:
    assert percent_of(count, n) == percent


def test_error_detail_of_a_provisioning_failure_names_azures_code_azure_behaviour_2_er_5_er_9() -> None:
    one = inst(3, "Unhealthy", provisioning="Failed")
    one["extensions"] = [
        {"name": "health", "provisioning_state": "Succeeded"},
        {"name": "cfg", "provisioning_state": "Failed"},
    ]
    several = inst(4, "Unhealthy", provisioning="Failed")
    several["extensions"] = [
        {"name": "a", "provisioning_state": "Failed"},
        {"name": "b", "provisioning_state": "Failed"},
    ]
    error = api_error(VMSS, "Code", "text", [one, several, inst(5, "Unhealthy")])
    assert error == {
        "code": "Code",
        "target": None,
        "message": "text",
        "details": [
            {
                "code": "VMExtensionProvisioningError",
                "target": "web/virtualMachines/3",
                "message": "VM has reported a failure when processing extension 'cfg'.",
            },
            {
                "code": "VMExtensionProvisioningError",
                "target": "web/virtualMachines/4",
                "message": "Multiple VM extensions failed to be provisioned on the VM. Please see the VM extension "
                "instance view for other failures.",
            },
            {"code": "RollingUpgradeInstanceUnhealthyError", "target": "web/virtualMachines/5", "message": UNHEALTHY},
        ],
    }


def test_the_most_impactful_error_is_the_most_frequent_detail_azure_behaviour_2_er_5() -> None:
    failed = []
    for iid in (1, 2):
        instance = inst(iid, "Unhealthy", provisioning="Failed")
        instance["extensions"] = [{"name": "cfg", "provisioning_state": "Failed"}]
        failed.append(instance)
    error = pre_batch_error(VMSS, [*fleet(7), inst(0, "Unhealthy"), *failed], 10, 20, True)
    assert error is not None
    assert (
        "The most impactful error is:  VM has reported a failure when processing extension 'cfg'. For"
        in (error["message"])
    )


def test_in_progress_error_names_the_failed_instances_under_the_threshold_azure_behaviour_2_er_6() -> None:
    assert in_progress_error(VMSS, failed_of(outcomes(i0="upgraded", i1="in_progress")), 20, by_id(fleet(2))) is None
    error = in_progress_error(VMSS, failed_of(outcomes(i0="upgraded", i1="rolled_back")), 20, by_id(fleet(2, 1)))
    assert error == {
        "code": IN_PROGRESS_CODE,
        "target": None,
        "message": "Rolling Upgrade is in progress with 1 failed upgraded instance(s). The rollout continues because "
        "the MaxUnhealthyUpgradedInstancePercent threshold of 20% has not been exceeded.",
        "details": [
            {"code": "RollingUpgradeInstanceUnhealthyError", "target": "web/virtualMachines/1", "message": UNHEALTHY}
        ],
    }


# == §4 credentials ======================================================================================


def test_credential_no_instance_failed_on_a_credential_goes_on_azure_4_credentials() -> None:
    instances = fleet(2)
    outcome = outcomes(i0="failed", i1="upgraded")
    assert credential_error(VMSS, ["0", "1"], outcome, ["cse"], by_id(instances)) is None


def test_credential_expired_stops_the_run_naming_the_extensions_and_the_batch_azure_4_credentials() -> None:
    instances = [inst(0, "Unhealthy", provisioning="Failed"), inst(1, "Unhealthy", provisioning="Failed")]
    outcome = outcomes(i0="failed", i1="failed", i2="failed")
    outcome["1"]["credential"] = True
    # Instance 2 was scaled in meanwhile: the error names the instances still there.
    error = credential_error(VMSS, ["0", "1", "2"], outcome, ["cse", "diag"], by_id(instances))
    assert error is not None
    assert error["code"] == CREDENTIAL_CODE
    assert error["message"].startswith("Rolling Upgrade stopped: the credentials of extension(s) cse, diag expired")
    assert [d["target"] for d in error["details"]] == ["web/virtualMachines/0", "web/virtualMachines/1"]


def test_credential_only_the_batchs_own_instances_count_azure_4_credentials() -> None:
    outcome = outcomes(i0="upgraded", i1="failed")
    outcome["1"]["credential"] = True
    assert credential_error(VMSS, ["0"], outcome, ["cse"], by_id(fleet(2))) is None


# == §3.6 post-batch check ================================================================================


@pytest.mark.parametrize(
    ("n", "failed", "percent", "stops"),
    [
        (10, 2, 20, False),  # 20% of 10 tolerates two failed instances
        (10, 3, 20, True),  # Azure's own example: the third one stops the run
        (10, 0, 0, False),  # 0%: nothing failed yet is not more than 0
        (10, 1, 0, True),  # 0%: the first failure stops it
        (5, 1, 20, False),
        (3, 1, 20, True),  # 33% > 20%
        (10, 10, 100, False),
    ],
)
def test_post_batch_more_than_max_unhealthy_upgraded_percent_of_n_stops_azure_3_6(
    n: int, failed: int, percent: int, stops: bool
) -> None:
    instances = fleet(n)
    outcome: dict[str, Outcome] = {
        str(i): {"result": "failed" if i < failed else "upgraded", "batch": 1} for i in range(n)
    }
    error = post_batch_error(VMSS, failed, outcome, n, percent, by_id(instances))
    assert (error["code"] if error else None) == (UPGRADED_CODE if stops else None)


def test_post_batch_counts_the_batches_failures_not_the_outcomes_azure_3_6() -> None:
    outcome = outcomes(i0="failed", i1="failed", i2="failed")
    assert post_batch_error(VMSS, 2, outcome, 10, 20, by_id(fleet(3))) is None


def test_post_batch_error_names_every_failed_instance_and_the_lowest_id_first_azure_3_6() -> None:
    instances = [inst(i, "Unhealthy") for i in (2, 9, 10, 11)] + [inst(4)]
    # Rolled back and rollback_failed instances failed their upgrade too; 11 was scaled in meanwhile.
    outcome = outcomes(i10="failed", i9="rolled_back", i2="rollback_failed", i4="upgraded", i11="failed")
    del instances[3]
    error = post_batch_error(VMSS, 4, outcome, 12, 20, by_id(instances))
    assert error is not None
    assert error["message"] == (  # azure-behaviour-2 ER-3, in the ER-2 layout
        "Rolling Upgrade failed after exceeding the MaxUnhealthyUpgradedInstancePercent value defined in the "
        "RollingUpgradePolicy. 33% of instances are in an unhealthy state after being upgraded - more than the "
        f"threshold of 20% configured in the RollingUpgradePolicy. The most impactful error is:  {UNHEALTHY} {LINK}"
    )
    assert [d["target"] for d in error["details"]] == [f"web/virtualMachines/{i}" for i in (2, 9, 10)]


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (False, []),  # without rollbackFailedInstancesOnPolicyBreach nothing rolls back
        (True, ["7", "3"]),  # the failed instances, in outcome order
    ],
)
def test_breach_rolls_back_failed_instances_only_with_the_policy_flag_azure_3_6(
    flag: bool, expected: list[str]
) -> None:
    outcome = outcomes(
        i7="failed", i1="rolled_back", i5="rollback_failed", i3="failed", i2="upgraded", i6="failed", i8="failed"
    )
    outcome["6"]["kept_old"] = True  # maxSurge kept the old instance (§3.4): nothing to restore
    instances = [inst(i) for i in (1, 2, 3, 5, 6, 7)]  # 8 was scaled in meanwhile
    assert breach_rollback(outcome, by_id(instances), flag) == expected
