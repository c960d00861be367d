# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving the simulated world forward: the clock with every registered event handler.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import advance_to
from ansible_collections.azsim.vmss.plugins.module_utils._engine.handlers import HANDLERS
from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store


def advance(store: Store, target: int, stop: Callable[[], bool] | None = None) -> list[dict[str, Any]]:
    return advance_to(store, target, HANDLERS, stop)
