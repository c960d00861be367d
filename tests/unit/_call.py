# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calling an action as a front door does: a ``Call`` and the options as named arguments.

Tests that drive the core directly keep their options as the modules' option dicts; ``act`` hands
them to the action the way the Ansible glue does (common options left out, ``all`` and ``type`` renamed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

RENAMED = {"all": "every_run", "type": "hook_type"}


def act(
    action: Callable[..., Mapping[str, Any]],
    store: Store,
    subscription_id: str,
    params: Mapping[str, Any] | None = None,
    check_mode: bool = False,
) -> dict[str, Any]:
    options = {RENAMED.get(k, k): v for k, v in (params or {}).items() if k not in ("store", "subscription_id")}
    return dict(action(Call(store, subscription_id, check_mode), **options))
