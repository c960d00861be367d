# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every action receives from a front door, and the result shape they share.

A front door (the Ansible glue, the HTTP endpoint) opens the store, starts the call's transaction,
builds a ``Call`` and calls one action with named, typed arguments. Actions never see a front
door's own structures (Ansible's ``params``, an HTTP request).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group, check_scale_set_name
from ansible_collections.azsim.vmss.plugins.module_utils._model import scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store

# A document in Azure's REST shape (camelCase keys), as a client would receive it.
RestDoc = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One request: the open store (inside the request's transaction) and who asks."""

    store: Store
    subscription_id: str
    check_mode: bool = False


class Outcome(TypedDict, total=False):
    """Keys every action result may carry, for the front door to act on.

    ``before``/``after`` are snapshots: ``changed`` is their difference unless given, and a front door
    with a diff mode shows them. ``warnings`` are said to the caller. ``failed`` with ``msg`` makes the
    call fail after its transaction commits (what happened is recorded).
    """

    changed: bool
    before: Any
    after: Any
    warnings: list[str]
    failed: bool
    msg: str


def address(call: Call, resource_group: str, name: str) -> tuple[str, Record]:
    """The store key and record of an existing scale set; NotFound otherwise."""
    record = scaleset.load_or_fail(
        call.store, call.subscription_id, check_resource_group(resource_group), check_scale_set_name(name)
    )
    return scaleset.record_key(record), record
