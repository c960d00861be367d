# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an upgrade policy may hold on a scale set with Flexible orchestration (azure-behaviour-2 §11).

One function per rule; each refuses with Azure's 400 and writes nothing. The health-source rule (FX-1)
is a finding of ``requirements`` (``flexible_health_findings``), so that it reads as the §1 and §2 ones do.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import is_flexible
from ansible_collections.azsim.vmss.plugins.module_utils._model.policy import automatic_os_upgrade_enabled
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record

FLEX_AUTO_OS_FEATURE = "VmssFlexAutoOSUpgrade"
# azure-behaviour-2 FX-2: the simulator's wording (Azure documents none).
AUTO_OS_NOT_SUPPORTED = (
    "Automatic OS Upgrade is not supported for Virtual Machine Scale Sets with Flexible orchestration mode."
)
# azure-behaviour-2 FX-3: DOC-MS's sentence, as the simulator's error text.
AUTO_OS_WITH_MAX_SURGE = (
    "For Virtual Machine Scale Sets with Flexible Orchestration, enabling automatic OS image upgrades and MaxSurge "
    "together is not yet supported."
)
# azure-behaviour-2 D7 (settles Q11 / FX-4): refused, Azure's InvalidParameter wording for a Uniform-only field.
ROLLBACK_UNIFORM_ONLY = (
    "The property 'rollbackFailedInstancesOnPolicyBreach' is not supported for Virtual Machine Scale Sets with "
    "Flexible orchestration mode."
)
_POLICY = "properties.upgradePolicy"


def _rolling(policy: dict[str, Any]) -> dict[str, Any]:
    return policy.get("rollingUpgradePolicy") or {}


def check_flexible_auto_os_feature(record: Record, policy: dict[str, Any], registered: bool, was_enabled: bool) -> None:
    """azure-behaviour-2 FX-2: enabling automatic OS image upgrade on Flexible needs the subscription's feature
    ``Microsoft.Compute/VmssFlexAutoOSUpgrade`` Registered (``registered``, looked up by the caller). A policy
    that already had it enabled is not asked again (unregistering later does not switch it off)."""
    if not is_flexible(record) or not automatic_os_upgrade_enabled(policy) or was_enabled or registered:
        return
    raise InvalidInput(
        f"automatic_os_upgrade.enabled: scale set {record['model']['name']} uses Flexible orchestration; automatic OS "
        f"image upgrade needs feature Microsoft.Compute/{FLEX_AUTO_OS_FEATURE} Registered in the subscription "
        "(azsim.vmss.feature_registration); nothing was changed",
        code="BadRequest",
        azure_message=AUTO_OS_NOT_SUPPORTED,
        option=f"{_POLICY}.automaticOSUpgradePolicy.enableAutomaticOSUpgrade",
    )


def check_flexible_max_surge(record: Record, policy: dict[str, Any]) -> None:
    """azure-behaviour-2 FX-3: a policy that would leave automatic OS upgrade and maxSurge both on, on Flexible."""
    if not is_flexible(record) or not automatic_os_upgrade_enabled(policy) or not _rolling(policy).get("maxSurge"):
        return
    raise InvalidInput(
        f"rolling_upgrade_policy.max_surge: scale set {record['model']['name']} uses Flexible orchestration, where "
        "automatic OS image upgrade and maxSurge cannot be on together; turn one of them off; nothing was changed",
        code="BadRequest",
        azure_message=AUTO_OS_WITH_MAX_SURGE,
        option=f"{_POLICY}.rollingUpgradePolicy.maxSurge",
    )


def check_flexible_rollback(record: Record, policy: dict[str, Any]) -> None:
    """azure-behaviour-2 D7 (FX-4, "Uniform Orchestration only"): rollbackFailedInstancesOnPolicyBreach set on
    Flexible is 400 InvalidParameter. Its default (false) is not "set" (design.md, precise points)."""
    if not is_flexible(record) or not _rolling(policy).get("rollbackFailedInstancesOnPolicyBreach"):
        return
    raise InvalidInput(
        f"rolling_upgrade_policy.rollback_failed_instances_on_policy_breach: Uniform orchestration only; scale set "
        f"{record['model']['name']} uses Flexible orchestration, leave it false; nothing was changed",
        azure_message=ROLLBACK_UNIFORM_ONLY,
        option=f"{_POLICY}.rollingUpgradePolicy.rollbackFailedInstancesOnPolicyBreach",
    )


def check_flexible_policy(record: Record, policy: dict[str, Any], feature_registered: bool, was_enabled: bool) -> None:
    """Every Flexible rule of a policy write (FX-2, FX-3, D7); FX-1 is among the requirement findings."""
    check_flexible_rollback(record, policy)
    check_flexible_max_surge(record, policy)
    check_flexible_auto_os_feature(record, policy, feature_registered, was_enabled)
