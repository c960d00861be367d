# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which instances go down together (azure-behaviour §3.2-3.3).

Batch size is ``max(1, floor(N * maxBatchInstancePercent / 100))`` on the whole scale set. Candidates
are ordered by (unhealthy first when prioritizeUnhealthyInstances), zone, update domain, instance id;
a batch is cut at every zone change (unless enableCrossZoneUpgrade), at every update-domain change,
and when it is full.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections.abc import Iterable

from ansible_collections.azsim.vmss.plugins.module_utils._model.health import is_unhealthy
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance


def batch_size(n: int, percent: int) -> int:
    return max(1, n * percent // 100)


def order_key(instance: Instance, prioritize_unhealthy: bool) -> tuple[int, str, int, int]:
    first = 0 if prioritize_unhealthy and is_unhealthy(instance) else 1
    return first, instance["zone"] or "", instance["update_domain"], int(instance["instance_id"])


def order(instances: list[Instance], prioritize_unhealthy: bool) -> list[Instance]:
    return sorted(instances, key=lambda i: order_key(i, prioritize_unhealthy))


def take_batch(ordered: Iterable[Instance], size: int, cross_zone: bool) -> list[Instance]:
    """The next batch: a prefix of ``ordered`` that stays in one update domain (and zone).

    ``ordered`` may be a generator: only the prefix and the one instance after it are read.
    """
    batch: list[Instance] = []
    for instance in ordered:
        if batch:
            first = batch[0]
            if len(batch) >= size or instance["update_domain"] != first["update_domain"]:
                break
            if not cross_zone and instance["zone"] != first["zone"]:
                break
        batch.append(instance)
    return batch
