# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module output kept bounded: a scale set's instances beyond the first hundred are summarised unless asked for.

A task's result is printed, logged and kept in memory by Ansible for every host: 1,000 instances are about
a megabyte of JSON per result. By default a module returns the first ``INSTANCES_SHOWN`` instances (lowest
instance ids first, as Azure lists them) and an ``instances_summary`` counting all of them; the option
``return_all_instances: true`` returns every one. Sets of up to ``INSTANCES_SHOWN`` instances are returned
whole, as before. The ARM endpoint pages instead (``nextLink``), as Azure does.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping
from typing import Any

INSTANCES_SHOWN = 100


def summary(instances: list[dict[str, Any]], returned: int) -> dict[str, Any]:
    """Counts over every instance, by each of its fields a rollout report groups by: the instances' own (vmss,
    vmss_info) or a run's per-instance results (vmss_upgrade_history, which adds ``result``)."""

    def count(values: list[Any]) -> dict[str, int]:
        return dict(sorted(Counter("null" if v is None else str(v) for v in values).items()))

    out: dict[str, Any] = {"total": len(instances), "returned": returned}
    fields = set().union(*(i.keys() for i in instances))
    for field in ("result", "health", "power_state", "provisioning_state", "zone"):
        if field in fields:
            out[f"by_{field}"] = count([i.get(field) for i in instances])
    if "os_disk" in fields:
        out["by_image_version"] = count([(i.get("os_disk") or {}).get("image_version") for i in instances])
    if "latest_model_applied" in fields:
        out["latest_model_applied"] = sum(1 for i in instances if i.get("latest_model_applied"))
    return out


def bound(view: MutableMapping[str, Any], return_all: bool) -> None:
    """Cut ``view["instances"]`` to the first INSTANCES_SHOWN and add ``instances_summary``, unless ``return_all``."""
    instances = view.get("instances")
    if return_all or not isinstance(instances, list) or len(instances) <= INSTANCES_SHOWN:
        return
    view["instances"] = instances[:INSTANCES_SHOWN]
    view["instances_summary"] = summary(instances, INSTANCES_SHOWN)


def bound_result(result: MutableMapping[str, Any], return_all: bool) -> None:
    """A module result: its ``instances`` and each of its ``scale_sets[].instances``."""
    bound(result, return_all)
    for view in result.get("scale_sets") or []:
        bound(view, return_all)
