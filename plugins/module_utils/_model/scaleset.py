# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated scale set: its REST model, its simulator settings and its instances.

A scale set is stored as one record (``scale_sets`` table) and one row per instance (``instances``);
their shapes are ``records.Record`` and ``records.Instance``.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import copy
from typing import Any, NotRequired, TypedDict, cast

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._model.loaded_instances import view_dict
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import fault_domain, is_flexible, vm_name
from ansible_collections.azsim.vmss.plugins.module_utils._model.protection import protection_policy
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import (
    ExtensionSecret,
    Instance,
    ProtectionPolicy,
    Record,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store


def scale_set_id(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/"
        f"Microsoft.Compute/virtualMachineScaleSets/{name}"
    )


def record_key(record: Record) -> str:
    return str(record["model"]["id"]).lower()


# -- persistence -----------------------------------------------------------------------------------


def load(store: Store, subscription_id: str, resource_group: str, name: str) -> Record | None:
    doc = store.get_doc("scale_sets", {"key": scale_set_id(subscription_id, resource_group, name).lower()})
    return cast(Record | None, doc)


def load_or_fail(store: Store, subscription_id: str, resource_group: str, name: str) -> Record:
    record = load(store, subscription_id, resource_group, name)
    if record is None:
        raise NotFound(
            f"scale set {name} in resource group {resource_group} (subscription {subscription_id}) does not exist "
            "in the store; create it with azsim.vmss.vmss"
        )
    return record


def list_records(store: Store, subscription_id: str, resource_group: str | None = None) -> list[Record]:
    """The scale sets of a resource group, or of the whole subscription, ordered by id."""
    where = {"subscription_id": subscription_id.lower()}
    if resource_group is not None:
        where["resource_group"] = resource_group.lower()
    return cast(list[Record], store.list_docs("scale_sets", where, "key"))


def every_key(store: Store) -> list[str]:
    """Every scale set's key, in key order, without decoding any record."""
    return [row[0] for row in store.conn.execute("SELECT key FROM scale_sets ORDER BY key")]


def save(store: Store, record: Record) -> None:
    model = record["model"]
    sub = model["id"].split("/")[2]
    rg = model["id"].split("/")[4]
    store.put_doc(
        "scale_sets",
        {"key": record_key(record), "subscription_id": sub.lower(), "resource_group": rg.lower()},
        record,
    )


def load_instances(store: Store, key: str) -> list[Instance]:
    return cast(list[Instance], store.list_docs("instances", {"scale_set": key}, "instance_id"))


def any_instance_behind(store: Store, key: str, version: str) -> bool:
    """Whether a stored instance of ``key`` not protected from scale-set actions runs another image version.

    ``is_protected_from_scale_set_actions`` and the instances' ``os_disk.image_version``, asked in SQL: the
    platform asks this of every scale set when an image is published (azure-behaviour-2 IP-6), and decoding
    each scale set's instances to answer it cost more than the rest of publishing (issue 14).
    """
    row = store.conn.execute(
        "SELECT 1 FROM instances WHERE scale_set = ?"
        " AND json_extract(doc, '$.os_disk.image_version') IS NOT ?"
        " AND NOT coalesce(json_extract(doc, '$.protection_policy.protectFromScaleSetActions'), 0) LIMIT 1",
        (key, version),
    ).fetchone()
    return row is not None


def delete(store: Store, key: str) -> None:
    store.delete_docs("scale_sets", {"key": key})
    store.delete_docs("instances", {"scale_set": key})


# -- what the user sees ----------------------------------------------------------------------------


def public_instance(
    instance: Instance, record: Record, flexible: bool | None = None, unprotected: ProtectionPolicy | None = None
) -> dict[str, Any]:
    """The instance as results show it. ``flexible`` is ``is_flexible(record)``, when the caller has it (a view of
    every instance of a scale set asks it once); ``unprotected`` is ``unprotected_policy()``, given by a view of many
    instances: every instance that never had a protection set shows that one dict (see there)."""
    out = view_dict(instance)  # a copy made in C (a smaller dict: see there), then the internal keys out: same order
    out.pop("model_version", None)
    out.pop("disk_generation", None)
    out["latest_model_applied"] = instance.get("model_version") == record["model_version"]
    # design.md round 2: on every instance, IP-1 defaults
    out["protection_policy"] = (
        protection_policy(instance) if unprotected is None or instance.get("protection_policy") else unprotected
    )
    if is_flexible(record) if flexible is None else flexible:
        # azure-behaviour-2 FX-6: a Flexible instance is a VM, identified by its name; FX-5: it has a fault
        # domain and no update domain.
        out["instance_id"] = vm_name(record, instance["instance_id"])
        out["update_domain"] = None
        out["fault_domain"] = fault_domain(instance)
    return out


def unprotected_policy() -> ProtectionPolicy:
    """IP-1's default ``protectionPolicy`` (both false), for one view of many instances to show on each instance that
    never had a protection set: one dict instead of 100,000 equal ones in a run's result (issue 14: 17 MB). Results
    are read, serialised or copied, never changed in place; a new one for each view, so a caller that did change
    one would change only the view it holds."""
    return protection_policy({})


def _credential_expiry(secret: ExtensionSecret) -> str | None:
    expiry = secret.get("credential_expiry")
    return None if expiry is None else format_timestamp(expiry)


class ScaleSetView(TypedDict):
    """A scale set as callers see it: ``vmss`` (REST), ``instances`` and ``simulator`` (settings with no REST home)."""

    vmss: dict[str, Any] | None
    instances: list[dict[str, Any]]
    simulator: NotRequired[dict[str, Any]]


def public_view(record: Record, instances: list[Instance]) -> ScaleSetView:
    """The module result: ``vmss`` (REST), ``instances`` and ``simulator`` (settings with no REST home)."""
    vmss = copy.deepcopy(record["model"])
    # One per host name: a maxSurge instance and the one it replaces are one slot (azure-behaviour-2 MS-6).
    vmss["sku"]["capacity"] = len({i["name"] for i in instances})
    secrets = record["extension_secrets"]
    flexible = is_flexible(record)
    unprotected = unprotected_policy()
    return {
        "vmss": vmss,
        "instances": [public_instance(i, record, flexible, unprotected) for i in instances],
        "simulator": {
            "api_version": record["api_version"],
            "os_type": record["os_type"],
            "health_probe": record["health_probe"],
            "service_fabric": record["service_fabric"],
            "simulation": record["simulation"],
            "credential_expiry": {name: _credential_expiry(s) for name, s in sorted(secrets.items())},
            "model_version": record["model_version"],
        },
    }


def snapshot(record: Record | None, instances: list[Instance]) -> dict[str, Any]:
    """What ``changed`` and ``diff`` compare: the public view. A change of protected settings or a credential
    shows there as a new ``simulator.model_version``, never as the secret or its fingerprint."""
    if record is None:
        return {}
    return dict(public_view(record, instances))


# -- building the model from module options ----------------------------------------------------------


# -- instances -------------------------------------------------------------------------------------


# -- the module actions ----------------------------------------------------------------------------
