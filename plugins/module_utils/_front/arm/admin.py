# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Admin routes outside ``/subscriptions`` (design.md, "Azure endpoint", Routes): request log, reset.

``GET /azsim/requests`` answers the endpoint's request log (requestlog.py), oldest first; ``?since=N``
only the entries numbered after N, so a test can take what its own calls caused. ``POST /azsim/reset``
empties the store and the request log (arm-endpoint-research §5.1, like moto's reset): what a test
suite calls between tests. The clock's admin route is ``routes_resources.clock``; the OpenAPI document
is made in ``app`` from the route table.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._actions.reset import reset_store
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import ArmError
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response


def requests(ctx: Ctx, params: dict[str, str]) -> Response:
    """The request log: method, path, api-version, status, error code, request ids, virtual time."""
    since = ctx.request.param("since") or "0"
    if not since.isdigit():
        raise ArmError(400, "InvalidParameter", f"since: {since!r} is not an entry number (0 or more).", target="since")
    entries = ctx.log.entries(int(since))
    return Response(200, {"value": entries, "count": len(entries)})


def reset(ctx: Ctx, params: dict[str, str]) -> Response:
    """Empty the store (every subscription; the clock back at its start) and the request log."""
    result = ctx.run(ctx.settings.files.identity.subscription_id, reset_store)
    ctx.log.clear()
    return Response(200, {"now": result["now"], "previous": result["previous"], "removed": result["removed"]})
