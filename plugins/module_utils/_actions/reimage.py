# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reimage instances of a scale set: Azure's ``reimage``/``reimageall`` of the scale set and of one VM.

The rules of who may be reimaged live here, each beside its source; the timeline is _engine/reimages.py.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Literal

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group, check_scale_set_name
from ansible_collections.azsim.vmss.plugins.module_utils._engine import conflicts, reimages
from ansible_collections.azsim.vmss.plugins.module_utils._engine.simulation import advance
from ansible_collections.azsim.vmss.plugins.module_utils._model import scaleset
from ansible_collections.azsim.vmss.plugins.module_utils._model.fleet import fleet_of
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import (
    is_protected_from_scale_set_actions,
    refuse_protected,
)

Scope = Literal["scale_set", "instance"]


class ReimageResult(Outcome):
    instance_ids: list[str]  # those reimaged (protected ones skipped when none were named)
    reimaged_at: str | None  # virtual time their new OS disks are in place (the request's operation ends)
    booted_at: str | None  # virtual time their health is known again


def reimage_instances(
    call: Call,
    resource_group: str,
    name: str,
    *,
    instance_ids: list[str] | None = None,
    scope: Scope = "scale_set",
    operation: str = "reimage",
    wait: bool = False,
) -> ReimageResult:
    """Reimage ``instance_ids`` (None: every instance) of the scale set; with ``wait``, move the clock until they
    have booted. ``scope`` says who asked: the scale set (its protection rules apply) or one VM (they do not)."""
    store = call.store
    key = scaleset.scale_set_id(
        call.subscription_id, check_resource_group(resource_group), check_scale_set_name(name)
    ).lower()
    fleet = fleet_of(store)
    record = fleet.record(key)
    if record is None:
        raise NotFound(f"name: scale set {name!r} does not exist in resource group {resource_group!r}")
    by_id = fleet.by_id(key)
    if instance_ids is not None:
        if not instance_ids or not all(isinstance(i, str) and i for i in instance_ids):
            raise InvalidInput('instance_ids: give a non-empty list of instance ids (strings such as "0")')
        unknown = [i for i in instance_ids if i not in by_id]
        if unknown:
            raise NotFound(f"instance_ids: scale set {name!r} has no instance {', '.join(unknown)}")
        wanted = list(dict.fromkeys(instance_ids))
        if scope == "scale_set":
            # azure-behaviour-2 IP-7: a scale-set action naming protected-from-actions instances is refused.
            refuse_protected((by_id[i] for i in wanted), "instance_ids")
        # IP-4: a VM-level reimage of a protected instance is a user-initiated instance operation: allowed.
    else:
        # IP-4, IP-7: without a list, protected-from-actions instances are left alone, silently.
        wanted = [i["instance_id"] for i in fleet.instances(key) if not is_protected_from_scale_set_actions(i)]
    vmss = record["model"]["name"]
    # azure-behaviour-2 CF-4: an instance of the rolling upgrade's current batch is not reimaged (409).
    conflicts.refuse_instances_in_batch(vmss, fleet.latest_run(key), wanted, operation, "instance_ids")
    busy = sorted(
        {i for i in wanted if by_id[i]["provisioning_state"] == "Updating"}
        | (reimages.reimaging(store, key) & set(wanted)),
        key=int,
    )
    if busy:
        # SIMULATOR CHOICE (CF-4's rule for an instance another operation holds): 409, nothing changed.
        text = (
            f"Operation '{operation}' is not allowed on Virtual Machine Scale Set '{vmss}' since instance(s) "
            f"{', '.join(busy)} are being updated by another operation. Wait for it to complete."
        )
        raise Conflict(f"instance_ids: {text}", code="OperationNotAllowed", status=409, azure_message=text)
    if not wanted:
        return {"changed": False, "instance_ids": [], "reimaged_at": None, "booted_at": None}
    if call.check_mode:
        return {"changed": True, "instance_ids": wanted, "reimaged_at": None, "booted_at": None}
    reimaged, booted = reimages.start_reimage(store, key, wanted)
    if wait:
        advance(store, booted)
    return {
        "changed": True,
        "instance_ids": wanted,
        "reimaged_at": format_timestamp(reimaged),
        "booted_at": format_timestamp(booted),
    }
