# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions on the resources clients create around scale sets: resource groups, and a generic store.

Real clients make a resource group, a virtual network and a subnet before a scale set
(arm-endpoint-research §3.3: azure_rm_virtualmachinescaleset needs an existing subnet). The simulator
models none of their behaviour: each is kept as the JSON it was given, with ``id``, ``name``, ``type``
and ``provisioningState: Succeeded``, in the store's ``resources`` table, in the same transaction as
everything else. A resource group also exists, without being stored, while it holds a scale set (the
modules make scale sets without one).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome, RestDoc
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput, NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.names import check_resource_group
from ansible_collections.azsim.vmss.plugins.module_utils._model.catalogue import normalize_location
from ansible_collections.azsim.vmss.plugins.module_utils._model.scaleset import list_records

TABLE = "resources"
RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"
# Azure's rule for most resource names (networks, subnets): letters, digits, '_', '.', '-'; 1 to 80.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}\Z")
# What a client may not set: the simulator's answer fills these in.
_READ_ONLY = ("id", "name", "type", "etag")


class ResourceResult(Outcome):
    resource: RestDoc
    created: bool


def resource_group_id(subscription_id: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{name}"


def _subscription_parent(subscription_id: str) -> str:
    return f"/subscriptions/{subscription_id}".lower()


def _key(call: Call, resource_id: str, parent: str) -> dict[str, Any]:
    return {"id": resource_id.lower(), "subscription_id": call.subscription_id.lower(), "parent": parent.lower()}


def check_resource_name(value: object, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput(
            f"{where}: {value!r} is not allowed; use 1 to 80 letters, digits, '_', '.' or '-', starting with a "
            "letter or digit"
        )
    return value


# -- resource groups -------------------------------------------------------------------------------


def _implicit_group(call: Call, name: str) -> RestDoc | None:
    """A group nobody created but that holds scale sets (made by the modules): it exists where they are."""
    records = list_records(call.store, call.subscription_id, name)
    if not records:
        return None
    model = records[0]["model"]
    return _group_doc(call, model["id"].split("/")[4], model["location"], None)


def _group_doc(call: Call, name: str, location: str, tags: dict[str, Any] | None) -> RestDoc:
    doc: RestDoc = {
        "id": resource_group_id(call.subscription_id, name),
        "name": name,
        "type": RESOURCE_GROUP_TYPE,
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }
    if tags is not None:
        doc["tags"] = tags
    return doc


def resource_group(call: Call, name: str) -> RestDoc | None:
    """A resource group as ARM shows it, or None when it does not exist."""
    name = check_resource_group(name)
    stored = call.store.get_doc(TABLE, {"id": resource_group_id(call.subscription_id, name).lower()})
    return stored if stored is not None else _implicit_group(call, name)


def require_resource_group(call: Call, name: str) -> RestDoc:
    group = resource_group(call, name)
    if group is None:
        raise NotFound(f"Resource group '{name}' could not be found.", code="ResourceGroupNotFound")
    return group


def put_resource_group(call: Call, name: str, *, location: str, tags: dict[str, Any] | None = None) -> ResourceResult:
    """Create a resource group, or update its tags; its location never changes (Azure: 409)."""
    name = check_resource_group(name)
    if not location:
        raise InvalidInput("location: required for a resource group", code="LocationRequired")
    location = normalize_location(location)
    if tags is not None and not isinstance(tags, dict):
        raise InvalidInput(f"tags: expected an object of strings, got {type(tags).__name__}")
    current = resource_group(call, name)
    if current is not None and current["location"] != location:
        raise Conflict(
            f"Invalid resource group location '{location}'. The Resource group already exists in location "
            f"'{current['location']}'.",
            code="InvalidResourceGroupLocation",
            status=409,
        )
    if current is not None and tags is None:
        tags = current.get("tags")
    # The first PUT's casing of the name stays, as Azure keeps it.
    doc = _group_doc(call, current["name"] if current else name, location, tags)
    stored = call.store.get_doc(TABLE, {"id": doc["id"].lower()})
    if stored != doc and not call.check_mode:
        call.store.put_doc(TABLE, _key(call, doc["id"], _subscription_parent(call.subscription_id)), doc)
    return {"changed": stored != doc, "before": stored or {}, "after": doc, "resource": doc, "created": current is None}


def list_resource_groups(call: Call) -> list[RestDoc]:
    """Every resource group of the subscription, created or holding scale sets, by name."""
    stored = call.store.list_docs(TABLE, {"parent": _subscription_parent(call.subscription_id)}, "id")
    groups = {g["name"].lower(): g for g in stored}
    for record in list_records(call.store, call.subscription_id):
        name = record["model"]["id"].split("/")[4]
        if name.lower() not in groups:
            groups[name.lower()] = _group_doc(call, name, record["model"]["location"], None)
    return [groups[k] for k in sorted(groups)]


def delete_resource_group(call: Call, name: str) -> bool:
    """Delete a group with everything in it, scale sets included (as Azure does); False if it did not exist.

    A scale set under a rolling upgrade refuses its delete (azure-behaviour-2 CF), and then nothing is deleted.
    """
    group = resource_group(call, name)
    if group is None:
        return False
    for record in list_records(call.store, call.subscription_id, name):
        ensure_scale_set(call, name, record["model"]["name"], state="absent")
        delete_scale_set_extras(call, record["model"]["id"])
    for child in _descendants(call, group["id"]):
        call.store.delete_docs(TABLE, {"id": child.lower()})
    call.store.delete_docs(TABLE, {"id": group["id"].lower()})
    return True


def group_resources(call: Call, name: str) -> list[RestDoc]:
    """The top-level resources of a group (``GET .../resourceGroups/{rg}/resources``): id, name, type, location."""
    group = require_resource_group(call, name)
    docs: list[RestDoc] = [
        {k: d[k] for k in ("id", "name", "type", "location") if k in d}
        for d in call.store.list_docs(TABLE, {"parent": group["id"].lower()}, "id")
    ]
    for record in list_records(call.store, call.subscription_id, name):
        model = record["model"]
        docs.append({str(k): model[k] for k in ("id", "name", "type", "location")})
    return sorted(docs, key=lambda d: str(d["id"]).lower())


# -- the generic store -----------------------------------------------------------------------------


def _descendants(call: Call, resource_id: str) -> list[str]:
    out: list[str] = []
    for child in call.store.list_docs(TABLE, {"parent": resource_id.lower()}, "id"):
        out += [child["id"], *_descendants(call, child["id"])]
    return out


def get_resource(call: Call, resource_id: str) -> RestDoc | None:
    return call.store.get_doc(TABLE, {"id": resource_id.lower()})


def list_resources(call: Call, parent_id: str, resource_type: str) -> list[RestDoc]:
    """The stored resources of one type under a parent (a resource group, or a resource for child types)."""
    docs = call.store.list_docs(TABLE, {"parent": parent_id.lower()}, "id")
    return [d for d in docs if str(d.get("type", "")).lower() == resource_type.lower()]


def put_resource(
    call: Call, resource_id: str, resource_type: str, body: dict[str, Any], *, parent_id: str
) -> ResourceResult:
    """Store a resource as given (a PUT replaces it whole), answered with id, name, type and Succeeded.

    Its parent (the resource group, or for a child type the parent resource) must exist: Azure answers
    404 ``ResourceGroupNotFound`` or ``ParentResourceNotFound`` otherwise.
    """
    name = check_resource_name(resource_id.rsplit("/", 1)[-1], "name")
    resource_group_name = resource_id.split("/")[4]
    require_resource_group(call, resource_group_name)
    if parent_id.lower() != resource_group_id(call.subscription_id, resource_group_name).lower():
        if get_resource(call, parent_id) is None:
            raise NotFound(
                f"Can not perform requested operation on nested resource. Parent resource '{parent_id}' not found.",
                code="ParentResourceNotFound",
            )
    properties = body.get("properties", {})
    if not isinstance(properties, dict):
        raise InvalidInput(f"properties: expected an object, got {type(properties).__name__}")
    current = get_resource(call, resource_id)
    doc: RestDoc = {k: copy.deepcopy(v) for k, v in body.items() if k not in _READ_ONLY}
    if "location" in doc:
        doc["location"] = normalize_location(doc["location"])
    doc = {
        "id": current["id"] if current else resource_id,
        "name": current["name"] if current else name,
        "type": resource_type,
        **doc,
        "properties": {**properties, "provisioningState": "Succeeded"},
    }
    if current != doc and not call.check_mode:
        call.store.put_doc(TABLE, _key(call, doc["id"], parent_id), doc)
    return {
        "changed": current != doc,
        "before": current or {},
        "after": doc,
        "resource": doc,
        "created": current is None,
    }


def delete_resource(call: Call, resource_id: str) -> bool:
    """Delete a stored resource and its children; False if there was none."""
    current = get_resource(call, resource_id)
    if current is None:
        return False
    for child in _descendants(call, current["id"]):
        call.store.delete_docs(TABLE, {"id": child.lower()})
    call.store.delete_docs(TABLE, {"id": current["id"].lower()})
    return True


# -- what a scale set PUT carried beyond the simulator's model -------------------------------------
# Clients read back fields the simulator does not model (azure_rm_virtualmachinescaleset compares the
# network interfaces, OS disk caching and VM size of its GET with its own options). The endpoint keeps
# those parts of the last PUT or PATCH, secrets removed, beside the scale set, tied to its creation time
# so that a scale set deleted and made again does not inherit them.


def _extras_id(scale_set_id: str) -> str:
    return f"{scale_set_id}/$rest"


def scale_set_extras(call: Call, scale_set_id: str, time_created: str) -> RestDoc | None:
    doc = call.store.get_doc(TABLE, {"id": _extras_id(scale_set_id).lower()})
    if doc is None or doc.get("timeCreated") != time_created:
        return None
    extras: RestDoc = doc["extras"]
    return extras


def save_scale_set_extras(call: Call, scale_set_id: str, time_created: str, extras: RestDoc) -> bool:
    """Keep ``extras`` for the scale set; False (and nothing written) when they are already kept."""
    doc = {"timeCreated": time_created, "extras": extras}
    key = _extras_id(scale_set_id).lower()
    if call.store.get_doc(TABLE, {"id": key}) == doc or call.check_mode:
        return False
    call.store.put_doc(TABLE, _key(call, key, scale_set_id), doc)
    return True


def delete_scale_set_extras(call: Call, scale_set_id: str) -> None:
    call.store.delete_docs(TABLE, {"id": _extras_id(scale_set_id).lower()})
