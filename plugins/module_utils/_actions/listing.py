# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: every scale set of a subscription (Azure's ``list_all``; the modules list one resource group).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import (
    ScaleSetView,
    list_records,
    load_instances,
    public_view,
    record_key,
)


def subscription_scale_sets(call: Call) -> list[ScaleSetView]:
    """The scale sets of the call's subscription, ordered by id."""
    records = list_records(call.store, call.subscription_id)
    return [public_view(r, load_instances(call.store, record_key(r))) for r in records]
