# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many instances a scale set may hold (azure-behaviour-2 D9, design.md round 2).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import InvalidInput

# azure-behaviour-2 D9: a Uniform scale set holds at most 100 instances while singlePlacementGroup is true (the
# default) and at most 1,000 when it is false (Azure's documented limits for platform and gallery images).
MAX_INSTANCES = 1000
MAX_INSTANCES_SINGLE_PLACEMENT_GROUP = 100


def check_capacity(model: dict[str, Any], count: int, previous_count: int, was_single: bool | None) -> None:
    """azure-behaviour-2 D9: refuse a capacity beyond the limit, and singlePlacementGroup going from false to true.

    400 InvalidParameter, nothing written. ``was_single`` is the scale set's setting before the change (None on
    creation). A scale set already above its limit (stored by an older version) may stay as large or shrink.
    """
    single = bool(model["properties"].get("singlePlacementGroup", True))
    if was_single is False and single:
        raise InvalidInput(
            "single_placement_group: a scale set with singlePlacementGroup false cannot be set back to true (Azure "
            "allows true to become false, never the reverse); leave it false",
            code="InvalidParameter",
            option="single_placement_group",
        )
    limit = MAX_INSTANCES_SINGLE_PLACEMENT_GROUP if single else MAX_INSTANCES
    if count > limit and count > previous_count:
        how = (
            f"set single_placement_group: false for up to {MAX_INSTANCES:,}, or give at most {limit}"
            if single
            else f"give at most {limit:,}, or spread the hosts over several scale sets"
        )
        raise InvalidInput(
            f"instances: {count:,} instances (sku.capacity {count}) are more than a scale set with "
            f"singlePlacementGroup {str(single).lower()} may hold ({limit:,}); {how}. Nothing was changed "
            "(Azure: 400 InvalidParameter)",
            code="InvalidParameter",
            option="sku.capacity",
        )
