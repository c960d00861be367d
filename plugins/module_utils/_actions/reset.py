# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: empty the store, as a new one (the endpoint's ``POST /azsim/reset``, like moto's reset).

Everything goes, in every subscription: scale sets, instances, runs, the image catalogue, features,
providers and what the platform had scheduled; the virtual clock is back at its start. The store's own
keys stay, so it is the same store, not a new file.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, Outcome
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._store.clearing import clear


class ResetResult(Outcome):
    now: str
    previous: str
    removed: dict[str, int]


def reset_store(call: Call) -> ResetResult:
    store = call.store
    previous = format_timestamp(store.now())
    removed = clear(store)
    now = format_timestamp(store.now())
    return {"changed": any(removed.values()) or now != previous, "now": now, "previous": previous, "removed": removed}
