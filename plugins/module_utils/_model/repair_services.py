# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The automatic repairs policy as every view of a scale set reads it: the orchestration service's state (AR-8).

Apart from ``_model.repairs`` (the policy's checks and the engine's state) so that a read of a scale set
(``vmss_info``) does not carry the repairs model into its AnsiballZ payload: every module_utils file a module
imports is parsed by the controller and compiled in the module's process at each call (issue 14).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record

ServiceState = Literal["Running", "Suspended", "NotRunning"]
SERVICE_NAME = "AutomaticRepairs"


def policy_of(record: Record) -> dict[str, Any] | None:
    policy = record["model"]["properties"].get("automaticRepairsPolicy")
    return cast(dict[str, Any], policy) if policy is not None else None


def service_state(record: Record) -> ServiceState | None:
    """AR-8: Running when enabled, Suspended when suspended, NotRunning when defined but not enabled; None without
    a policy (SIMULATOR CHOICE: the entry is then omitted)."""
    policy = policy_of(record)
    if policy is None:
        return None
    if not policy.get("enabled"):
        return "NotRunning"
    repairs = record.get("repairs")
    return "Suspended" if repairs is not None and repairs["suspended"] else "Running"


def orchestration_services(record: Record) -> list[dict[str, str]]:
    """The instance view's ``orchestrationServices`` list (AR-8)."""
    state = service_state(record)
    return [] if state is None else [{"serviceName": SERVICE_NAME, "serviceState": state}]
