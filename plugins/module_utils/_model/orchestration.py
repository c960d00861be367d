# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orchestration mode (azure-behaviour-2 §11): Uniform or Flexible, chosen at creation and fixed after.

``properties.orchestrationMode`` is in the model only for Flexible scale sets: a Uniform scale set's
REST model and results stay what they were before the option existed.

Inside the simulator every instance keeps its decimal slot id (``Instance.instance_id``), which orders
batches, disks and faults. On Flexible the identifier a caller sees and gives is the VM's name
(FX-6): ``external_id`` and ``internal_ids`` translate at the edges.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict, InvalidInput
from ansible_collections.azsim.vmss.plugins.module_utils._common.versions import api_at_least
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record

UNIFORM = "Uniform"
FLEXIBLE = "Flexible"
MODES = (UNIFORM, FLEXIBLE)
# azure-behaviour-2 FX-9: Flexible orchestration needs Compute API version 2021-03-01 or later.
FLEXIBLE_API_VERSION = "2021-03-01"
# azure-behaviour-2 FX-8 (IP-1): instance protection on Flexible from 2023-09-01.
FLEXIBLE_PROTECTION_API_VERSION = "2023-09-01"
# azure-behaviour-2 CZ-7 SIMULATOR CHOICE: a Flexible VM's platformFaultDomain, spread over Azure's
# usual three fault domains by slot (Flexible has no update domains, FX-5).
FAULT_DOMAINS = 3
# Azure's text for a property fixed at creation (PropertyChangeNotAllowed, as for platformFaultDomainCount).
MODE_CHANGE_NOT_ALLOWED = "Changing property 'orchestrationMode' is not allowed."

T = TypeVar("T", bound=Mapping[str, Any])


def orchestration_mode(model: dict[str, Any]) -> str:
    return str(model.get("properties", {}).get("orchestrationMode") or UNIFORM)


def is_flexible(record: Record) -> bool:
    return orchestration_mode(record["model"]) == FLEXIBLE


def normalize_mode(value: str, where: str = "orchestration_mode") -> str:
    """Azure's enum is case-insensitive on input; the model keeps its own casing."""
    for mode in MODES:
        if str(value).lower() == mode.lower():
            return mode
    raise InvalidInput(f"{where}: {value!r} is not allowed; allowed: {', '.join(MODES)}", option=where)


def apply_orchestration_mode(record: Record, value: str | None, creating: bool) -> None:
    """The mode is chosen when the scale set is created and never changes (design.md round 2; Azure's
    PropertyChangeNotAllowed). Left out, an existing scale set keeps its mode and a new one is Uniform."""
    if value is None:
        return
    mode = normalize_mode(value)
    if creating:
        if mode == FLEXIBLE:
            record["model"]["properties"]["orchestrationMode"] = FLEXIBLE
        return
    current = orchestration_mode(record["model"])
    if mode != current:
        raise Conflict(
            f"orchestration_mode: scale set {record['model']['name']} was created {current}; the orchestration mode is "
            f"chosen at creation and cannot become {mode}. Create another scale set instead; nothing was changed.",
            code="PropertyChangeNotAllowed",
            azure_message=MODE_CHANGE_NOT_ALLOWED,
            option="orchestration_mode",
        )


def check_flexible_model(record: Record) -> None:
    """azure-behaviour-2 FX-9: a Flexible scale set needs api-version 2021-03-01 or later and cannot be a
    Service Fabric node type."""
    if not is_flexible(record):
        return
    name = record["model"]["name"]
    if not api_at_least(record["api_version"], FLEXIBLE_API_VERSION):
        raise InvalidInput(
            f"api_version: {record['api_version']} predates Flexible orchestration; scale set {name} "
            f"(orchestrationMode Flexible) needs Compute API version {FLEXIBLE_API_VERSION} or later",
            option="api_version",
        )
    if record["service_fabric"] is not None:
        raise InvalidInput(
            f"service_fabric: Service Fabric is not supported on scale sets with Flexible orchestration "
            f"({name}); use orchestration_mode Uniform for a Service Fabric node type",
            option="service_fabric",
        )


# -- identifiers (FX-6) ----------------------------------------------------------------------------


def vm_name(record: Record, instance_id: str) -> str:
    """azure-behaviour-2 FX-6, MS-5: a Flexible VM is named ``{vmss}_{8 hex}``; the hex comes from the scale
    set's seed, id and slot, so the same store and seed give the same names (never the wall clock)."""
    seed = record["simulation"]["seed"]
    digest = hashlib.sha256(f"{seed}:{record['model']['id'].lower()}:{instance_id}:vm".encode()).hexdigest()
    return f"{record['model']['name']}_{digest[:8]}"


def external_id(record: Record, instance_id: str) -> str:
    """The identifier callers see: the instance id on Uniform, the VM name on Flexible (FX-6)."""
    return vm_name(record, instance_id) if is_flexible(record) else instance_id


def vm_resource_id(record: Record, instance_id: str) -> str:
    """A VM's resource id: ``…/virtualMachineScaleSets/{vmss}/virtualMachines/{id}`` on Uniform, the
    standalone ``…/Microsoft.Compute/virtualMachines/{name}`` on Flexible (FX-6, LH-14)."""
    model_id = record["model"]["id"]
    if not is_flexible(record):
        return f"{model_id}/virtualMachines/{instance_id}"
    base = model_id.split("/providers/")[0]
    return f"{base}/providers/Microsoft.Compute/virtualMachines/{vm_name(record, instance_id)}"


def id_map(record: Record, instances: Iterable[Instance]) -> dict[str, str]:
    """The id callers see for each instance (the slot id on Uniform, the VM name on Flexible) -> the slot id."""
    return {external_id(record, i["instance_id"]): i["instance_id"] for i in instances}


def slot_order(instances: Sequence[T]) -> list[T]:
    """Instances as public views list them, in slot order: by decimal id on Uniform; a Flexible view's ids are VM
    names (FX-6), and the views already list them in slot order, which is kept."""
    if all(str(i["instance_id"]).isdigit() for i in instances):
        return sorted(instances, key=lambda i: int(i["instance_id"]))
    return list(instances)


def fault_domain(instance: Instance) -> int:
    """azure-behaviour-2 CZ-7 SIMULATOR CHOICE: a Flexible VM's platformFaultDomain."""
    return int(instance["instance_id"]) % FAULT_DOMAINS


def check_protection_api(record: Record) -> None:
    """azure-behaviour-2 FX-8 (IP-1): instance protection on Flexible needs api-version 2023-09-01 or later."""
    if is_flexible(record) and not api_at_least(record["api_version"], FLEXIBLE_PROTECTION_API_VERSION):
        raise InvalidInput(
            f"protection: instance protection on a scale set with Flexible orchestration needs Compute API version "
            f"{FLEXIBLE_PROTECTION_API_VERSION} or later; scale set {record['model']['name']} uses "
            f"{record['api_version']}",
            option="protection",
        )
