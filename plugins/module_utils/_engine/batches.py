# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which instances go down together (azure-behaviour §3.2-3.3, azure-behaviour-2 CZ-2…CZ-6).

Batch size is ``max(1, floor(N * maxBatchInstancePercent / 100))`` on the whole scale set (CZ-4). Two
orders of candidates, both with the unhealthy first when prioritizeUnhealthyInstances:

- zone by zone (the default, CZ-2): zone, update domain, instance id; a batch is cut at every zone
  change, at every update-domain change, and when it is full;
- cross-zone (enableCrossZoneUpgrade, CZ-3): update domain, zone, instance id; a batch is cut at every
  update-domain change and when it is full, so one batch may hold several zones.

A regional scale set (no zones) gets the same batches either way (CZ-5). A Flexible scale set has no update
domains: its fault domains take their place in both orders (FX-5, CZ-7).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Tuple, Union

from ansible_collections.azsim.vmss.plugins.module_utils._model.custom_metrics import phase_rank
from ansible_collections.azsim.vmss.plugins.module_utils._model.health import is_unhealthy
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import fault_domain
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance

# typing.Union: this alias is evaluated at import, and module_utils must import on older Pythons too (sanity).
OrderKey = Union[Tuple[int, str, int, int], Tuple[int, int, str, int]]


def batch_size(n: int, percent: int) -> int:
    """azure-behaviour §3.2 and azure-behaviour-2 CZ-4: N is every instance of the scale set, in both modes."""
    return max(1, n * percent // 100)


def domain(instance: Instance, flexible: bool = False) -> int:
    """The domain a batch never spans: the update domain, or on Flexible the fault domain (azure-behaviour-2
    FX-5, CZ-7 SIMULATOR CHOICE: ``platformFaultDomain`` in place of UD in CZ-2 and CZ-3)."""
    return fault_domain(instance) if flexible else instance["update_domain"]


def zonal_key(instance: Instance, first: int, flexible: bool = False) -> tuple[int, str, int, int]:
    """azure-behaviour-2 CZ-2: zones one at a time in ascending name, update domains in order inside a zone."""
    return first, instance["zone"] or "", domain(instance, flexible), int(instance["instance_id"])


def cross_zone_key(instance: Instance, first: int, flexible: bool = False) -> tuple[int, int, str, int]:
    """azure-behaviour-2 CZ-3: update domain first; the zone is only a secondary key, so a batch can span zones."""
    return first, domain(instance, flexible), instance["zone"] or "", int(instance["instance_id"])


def order_key(
    instance: Instance, prioritize_unhealthy: bool, cross_zone: bool = False, flexible: bool = False
) -> OrderKey:
    first = 0 if prioritize_unhealthy and is_unhealthy(instance) else 1
    return cross_zone_key(instance, first, flexible) if cross_zone else zonal_key(instance, first, flexible)


def order(
    instances: list[Instance], prioritize_unhealthy: bool, cross_zone: bool = False, flexible: bool = False
) -> list[Instance]:
    """The instances sorted by ``order_key``. Without prioritizeUnhealthyInstances every key starts with 1: the key
    is then taken from the zonal or cross-zone key directly, chosen once for the call rather than asked per
    instance (a run's start orders every candidate, issue 14)."""
    if prioritize_unhealthy:
        return sorted(instances, key=lambda i: order_key(i, True, cross_zone, flexible))
    key = cross_zone_key if cross_zone else zonal_key
    return sorted(instances, key=lambda i: key(i, 1, flexible))


def phased(ordered: list[Instance], phases: dict[str, int]) -> list[Instance]:
    """azure-behaviour-2 AH-11: phases in ascending order, no phase last; within a phase ``ordered`` stays as it is
    (the §3.3 order, unhealthy first with prioritizeUnhealthyInstances: never across phases). A stable sort."""
    if not phases:
        return ordered
    return sorted(ordered, key=lambda i: phase_rank(phases, i["instance_id"]))


def same_phase(ordered: Iterable[Instance], phases: dict[str, int]) -> Iterable[Instance]:
    """AH-11: the leading instances of ``ordered`` that share the first one's phase (batches never mix phases).

    Without phases (no custom metrics, the common case) every instance is in the last phase: ``ordered`` itself,
    without a rank asked of each instance before every batch."""
    if not phases:
        return ordered
    return _leading_phase(ordered, phases)


def _leading_phase(ordered: Iterable[Instance], phases: dict[str, int]) -> Iterator[Instance]:
    first: float | None = None
    for instance in ordered:
        rank = phase_rank(phases, instance["instance_id"])
        if first is None:
            first = rank
        elif rank != first:
            return
        yield instance


def take_batch(ordered: Iterable[Instance], size: int, cross_zone: bool, flexible: bool = False) -> list[Instance]:
    """The next batch: a prefix of ``ordered`` that stays in one update domain (on Flexible, one fault domain,
    FX-5) and, unless cross-zone, one zone.

    ``ordered`` may be a generator: only the prefix and the one instance after it are read.
    """
    batch: list[Instance] = []
    first_domain, first_zone = 0, None  # the first instance's, once it is taken
    for instance in ordered:
        if batch:
            if len(batch) >= size or domain(instance, flexible) != first_domain:
                break
            if not cross_zone and instance["zone"] != first_zone:
                break
        else:
            first_domain, first_zone = domain(instance, flexible), instance["zone"]
        batch.append(instance)
    return batch
