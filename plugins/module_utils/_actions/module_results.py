# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions as the modules return them: the same operations, with the instance lists bounded (issue 11 item 10).

The ARM endpoint calls the operations themselves (it needs every instance, and pages its own lists); a
module's result is printed and kept by Ansible, so above ``INSTANCES_SHOWN`` instances it carries the first
ones and ``instances_summary`` unless the task says ``return_all_instances: true``.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, cast

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.history import HistoryResult, upgrade_history
from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import RunResult, os_rolling_upgrade
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import (
    ScaleSetInfoResult,
    ScaleSetResult,
    ensure_scale_set,
    scale_set_info,
)
from ansible_collections.azsim.vmss.plugins.module_utils._views.instance_pages import bound_result


def vmss_result(
    call: Call, resource_group: str, name: str, *, return_all_instances: bool = False, **options: Any
) -> ScaleSetResult:
    """Module ``vmss``: ``ensure_scale_set``; ``before`` and ``after`` (changed, diff) keep every instance."""
    result = ensure_scale_set(call, resource_group, name, **options)
    bound_result(cast(dict[str, Any], result), return_all_instances)
    return result


def vmss_info_result(
    call: Call, resource_group: str, name: str | None = None, *, return_all_instances: bool = False
) -> ScaleSetInfoResult:
    """Module ``vmss_info``: ``scale_set_info``."""
    result = scale_set_info(call, resource_group, name)
    bound_result(cast(dict[str, Any], result), return_all_instances)
    return result


def history_result(
    call: Call, resource_group: str, name: str, *, every_run: bool = False, return_all_instances: bool = False
) -> HistoryResult:
    """Module ``vmss_upgrade_history``: ``upgrade_history``, its per-instance results bounded."""
    result = upgrade_history(call, resource_group, name, every_run=every_run)
    bound_result(cast(dict[str, Any], result), return_all_instances)
    return result


def rolling_upgrade_result(
    call: Call, resource_group: str, name: str, *, return_all_instances: bool = False, **options: Any
) -> RunResult:
    """Module ``vmss_os_rolling_upgrade``: ``os_rolling_upgrade``, its per-instance results bounded."""
    result = os_rolling_upgrade(call, resource_group, name, **options)
    bound_result(cast(dict[str, Any], result), return_all_instances)
    return result
