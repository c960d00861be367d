# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The glue of module ``arm_endpoint``: its options to ``arm.daemon``, and the result or failure back.

Unlike the other modules it runs no store transaction: it starts or stops a process that serves the
store (the endpoint opens it, as a module would, per request).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import os
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import AzsimError
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import AzsimModule
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import daemon
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.server import DEFAULT_PORT
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import default_path

ARGUMENT_SPEC: dict[str, Any] = {
    "state": {"type": "str", "choices": ["started", "stopped"], "default": "started"},
    "host": {"type": "str", "default": "127.0.0.1"},
    "allow_remote": {"type": "bool", "default": False},
    "port": {"type": "int", "default": DEFAULT_PORT},
    "state_dir": {"type": "path"},
    "clock": {"type": "str", "choices": ["instant", "manual", "scaled"], "default": "instant"},
    "clock_scale": {"type": "float"},
    "tenant_id": {"type": "str"},
    "client_id": {"type": "str"},
    "client_secret": {"type": "str", "no_log": True},
}


def main() -> None:
    module = AzsimModule(ARGUMENT_SPEC)
    params = module.params
    store = params.get("store") or default_path()
    check_mode = module.module.check_mode
    try:
        if params["state"] == "stopped":
            result = daemon.ensure_stopped(store, params.get("state_dir"), check_mode=check_mode)
        else:
            wanted = daemon.Wanted(
                store=store,
                state_dir=params.get("state_dir") or "",
                host=params["host"],
                port=params["port"],
                clock=params["clock"],
                clock_scale=params.get("clock_scale"),
                tenant_id=params.get("tenant_id"),
                client_id=params.get("client_id"),
                client_secret=params.get("client_secret"),
                subscription_id=params.get("subscription_id") or os.environ.get("AZURE_SUBSCRIPTION_ID") or None,
                allow_remote=params["allow_remote"],
            )
            result = daemon.ensure_started(wanted, check_mode=check_mode)
    except (ValueError, daemon.DaemonError, AzsimError, OSError) as exc:
        module.fail(str(exc))
    if not module.module._diff:
        result.pop("diff", None)
    for warning in result.pop("warnings", []):
        module.module.warn(warning)
    module.module.exit_json(**result)
