# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a scale set, or every scale set of a resource group (module vmss_info, the ARM GETs).

Apart from the writes in ``scale_set`` so that a read imports only the model: AnsiballZ ships and
compiles every file a module reaches, and the writes reach the whole engine and the requirement checks.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any, cast

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group, check_scale_set_name
from ansible_collections.azsim.vmss.plugins.module_utils._model.repair_services import orchestration_services
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import (
    ScaleSetView,
    list_records,
    load,
    load_instances,
    public_view,
    record_key,
)
from ansible_collections.azsim.vmss.plugins.module_utils._views.instance_pages import bound_result


class ScaleSetInfoResult(Outcome, total=False):
    scale_sets: list[ScaleSetView]
    exists: bool
    vmss: dict[str, Any] | None
    instances: list[dict[str, Any]]
    simulator: dict[str, Any]
    # The instance view's orchestrationServices, as vmss returns it (azure-behaviour-2 AR-8).
    orchestration_services: list[dict[str, str]]


def scale_set_info(call: Call, resource_group: str, name: str | None = None) -> ScaleSetInfoResult:
    """One scale set (``vmss``, ``instances``, ``simulator``), or every scale set of a resource group (``scale_sets``).

    Each scale set is returned once: a named one is not repeated in ``scale_sets`` (1,000 instances
    twice made the result, and the cost of returning it through Ansible, twice as large).
    """
    store, subscription_id = call.store, call.subscription_id
    resource_group = check_resource_group(resource_group)
    if name is None:
        records = list_records(store, subscription_id, resource_group)
        return {"changed": False, "scale_sets": [public_view(r, load_instances(store, record_key(r))) for r in records]}
    record = load(store, subscription_id, resource_group, check_scale_set_name(name))
    if record is None:
        return {"changed": False, "exists": False, "vmss": None, "instances": []}
    view = public_view(record, load_instances(store, record_key(record)))
    return {
        "changed": False,
        "exists": True,
        "vmss": view["vmss"],
        "instances": view["instances"],
        "simulator": view["simulator"],
        "orchestration_services": orchestration_services(record),
    }


def vmss_info_result(
    call: Call, resource_group: str, name: str | None = None, *, return_all_instances: bool = False
) -> ScaleSetInfoResult:
    """Module ``vmss_info``: ``scale_set_info``."""
    result = scale_set_info(call, resource_group, name)
    bound_result(cast(dict[str, Any], result), return_all_instances)
    return result
