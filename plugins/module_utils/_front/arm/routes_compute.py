# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft.Compute routes: scale sets, their VMs, rolling upgrades, OS upgrade history, operations.

Each route parses, calls actions inside one store transaction (``Ctx.run``), and shapes the answer.
With the instant clock, a request that starts a run moves the virtual clock to its end before it
answers, so its operation is terminal on the first poll.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call, address
from ansible_collections.azsim.vmss.plugins.module_utils._actions.extension_upgrade import (
    OPERATION as EXTENSION_OPERATION,
)
from ansible_collections.azsim.vmss.plugins.module_utils._actions.extension_upgrade import (
    start_extension_upgrade as start_extension_rolling_upgrade,
)
from ansible_collections.azsim.vmss.plugins.module_utils._actions.history import latest_upgrade as latest_run
from ansible_collections.azsim.vmss.plugins.module_utils._actions.history import upgrade_history
from ansible_collections.azsim.vmss.plugins.module_utils._actions.listing import subscription_scale_sets
from ansible_collections.azsim.vmss.plugins.module_utils._actions.operations import (
    RunStatus,
    active_run,
    finish_active_run,
    run_status,
)
from ansible_collections.azsim.vmss.plugins.module_utils._actions.policy import set_upgrade_policy
from ansible_collections.azsim.vmss.plugins.module_utils._actions.resources import (
    delete_scale_set_extras,
    save_scale_set_extras,
    scale_set_extras,
)
from ansible_collections.azsim.vmss.plugins.module_utils._actions.rolling_upgrade import (
    NO_RUN_TO_CANCEL,
    approve_rolling_upgrade,
    cancel_rolling_upgrade,
    start_os_rolling_upgrade,
)
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set import ensure_scale_set, scale_set_services
from ansible_collections.azsim.vmss.plugins.module_utils._actions.scale_set_info import scale_set_info
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import NotFound
from ansible_collections.azsim.vmss.plugins.module_utils._common.isotime import format_timestamp
from ansible_collections.azsim.vmss.plugins.module_utils._engine.conflicts import another_run_message
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm import lro, rest_model
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.errors import (
    ArmError,
    error_object,
    resource_not_found,
)
from ansible_collections.azsim.vmss.plugins.module_utils._front.arm.http import Ctx, Response

# Operation status of a run, by the run's running status (an osRollingUpgrade operation).
_OS_STATUS = {"Completed": "Succeeded", "Faulted": "Failed", "Cancelled": "Canceled"}


def not_found(resource_group: str, name: str) -> ArmError:
    return resource_not_found("Microsoft.Compute/virtualMachineScaleSets", name, resource_group)


def _rest(call: Call, vmss: dict[str, Any]) -> dict[str, Any]:
    """The scale set as ARM answers it: the model, with what the last PUT held beyond it (rest_model.extras_of)."""
    extras = scale_set_extras(call, vmss["id"], str(vmss["properties"].get("timeCreated", "")))
    return rest_model.overlay(vmss, extras)


def _view(call: Call, resource_group: str, name: str) -> dict[str, Any]:
    info = scale_set_info(call, resource_group, name)
    vmss = info.get("vmss")
    if vmss is None:
        raise not_found(resource_group, name)
    view: dict[str, Any] = dict(info)
    view["vmss"] = _rest(call, vmss)
    return view


def _model(call: Call, resource_group: str, name: str) -> dict[str, Any]:
    """The scale set's stored model (name, location), or the 404 of ``_view``, without building the whole view
    (a deep copy of the model and of every instance) when a route needs only those."""
    try:
        return dict(address(call, resource_group, name)[1]["model"])
    except NotFound:
        raise not_found(resource_group, name) from None


def _now(call: Call) -> str:
    return format_timestamp(call.store.now())


def _lro_headers(ctx: Ctx, subscription: str, location: str, op: lro.Operation) -> dict[str, str]:
    op_id = lro.encode(ctx.settings.files.token_key, op)
    return lro.headers(ctx.settings.base_url, subscription, location, op_id, ctx.api_version)


# -- scale sets ------------------------------------------------------------------------------------


def _write(ctx: Ctx, p: dict[str, str], patch: bool) -> Response:
    """PUT and PATCH: one path through ``ensure_scale_set`` and ``set_upgrade_policy``, so both get the same
    rules and refusals (a PATCH is the current model with the body merged in, as Azure applies it)."""
    sub, rg, name = p["subscription"], p["resource_group"], p["name"]
    sent = ctx.request.json()

    def action(call: Call) -> tuple[bool, dict[str, Any], str]:
        info = scale_set_info(call, rg, name)
        stored = info.get("vmss")
        current = _rest(call, stored) if stored is not None else None
        if patch and current is None:
            raise not_found(rg, name)
        body = rest_model.merge_patch(current, sent) if patch else sent
        options = rest_model.scale_set_options(body, name, ctx.api_version, current, info.get("instances") or [])
        ensure_scale_set(call, rg, name, **options)
        policy = rest_model.policy_arguments(body)
        if policy:
            set_upgrade_policy(call, rg, name, **policy)
        if ctx.instant:
            finish_active_run(call, rg, name)
        model = scale_set_info(call, rg, name)["vmss"] or {}
        save_scale_set_extras(
            call, model["id"], str(model["properties"].get("timeCreated", "")), rest_model.extras_of(body)
        )
        return current is None, _view(call, rg, name), _now(call)

    created, view, now = ctx.run(sub, action)
    vmss = view["vmss"]
    headers = _lro_headers(ctx, sub, vmss["location"], lro.Operation("put", rg, name, None, now))
    return Response(201 if created else 200, vmss, headers)


def put_scale_set(ctx: Ctx, p: dict[str, str]) -> Response:
    return _write(ctx, p, patch=False)


def patch_scale_set(ctx: Ctx, p: dict[str, str]) -> Response:
    """Azure's ``begin_update``: only the fields sent change; an absent scale set is a 404, not a create."""
    return _write(ctx, p, patch=True)


def get_scale_set(ctx: Ctx, p: dict[str, str]) -> Response:
    view = ctx.run(p["subscription"], lambda call: _view(call, p["resource_group"], p["name"]), commit=False)
    return Response(200, view["vmss"])


def delete_scale_set(ctx: Ctx, p: dict[str, str]) -> Response:
    """Azure's DELETE: 202 with the LRO headers (the delete is done when it answers), 204 if there was nothing.

    The action refuses it during a rolling upgrade (409, azure-behaviour-2 CF-3).
    """
    sub, rg, name = p["subscription"], p["resource_group"], p["name"]

    def action(call: Call) -> tuple[str, str] | None:
        vmss = scale_set_info(call, rg, name).get("vmss")
        if vmss is None:
            return None
        location = str(vmss["location"])
        ensure_scale_set(call, rg, name, state="absent")
        delete_scale_set_extras(call, vmss["id"])
        return location, _now(call)

    deleted = ctx.run(sub, action)
    if deleted is None:
        return Response(204)
    location, now = deleted
    return Response(202, None, _lro_headers(ctx, sub, location, lro.Operation("delete", rg, name, None, now)))


def list_scale_sets(ctx: Ctx, p: dict[str, str]) -> Response:
    rg = p.get("resource_group")

    def action(call: Call) -> list[dict[str, Any]]:
        views = subscription_scale_sets(call) if rg is None else scale_set_info(call, rg)["scale_sets"]
        return [_rest(call, v["vmss"]) for v in views if v["vmss"] is not None]

    return Response(200, {"value": ctx.run(p["subscription"], action, commit=False)})


def list_vms(ctx: Ctx, p: dict[str, str]) -> Response:
    view = ctx.run(p["subscription"], lambda call: _view(call, p["resource_group"], p["name"]), commit=False)
    return Response(200, {"value": [rest_model.vm_view(view["vmss"], i) for i in view["instances"]]})


def _instance(view: dict[str, Any], instance_id: str) -> dict[str, Any]:
    found: dict[str, Any] | None = next((i for i in view["instances"] if str(i["instance_id"]) == instance_id), None)
    if found is None:
        vmss = view["vmss"]
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.Compute/virtualMachineScaleSets/{vmss['name']}/virtualMachines/{instance_id}' "
            f"under resource group '{vmss['id'].split('/')[4]}' was not found.",
        )
    return found


def get_vm(ctx: Ctx, p: dict[str, str]) -> Response:
    """One instance; ``$expand=instanceView`` adds ``properties.instanceView`` as Azure does."""

    def action(call: Call) -> tuple[dict[str, Any], str]:
        return _view(call, p["resource_group"], p["name"]), _now(call)

    view, now = ctx.run(p["subscription"], action, commit=False)
    instance = _instance(view, p["instance_id"])
    vm = rest_model.vm_view(view["vmss"], instance)
    if (ctx.request.param("$expand") or "").lower() == "instanceview":
        vm["properties"]["instanceView"] = rest_model.vm_instance_view(view["vmss"], instance, now)
    return Response(200, vm)


def vm_instance_view(ctx: Ctx, p: dict[str, str]) -> Response:
    def action(call: Call) -> tuple[dict[str, Any], str]:
        return _view(call, p["resource_group"], p["name"]), _now(call)

    view, now = ctx.run(p["subscription"], action, commit=False)
    return Response(200, rest_model.vm_instance_view(view["vmss"], _instance(view, p["instance_id"]), now))


def scale_set_instance_view(ctx: Ctx, p: dict[str, str]) -> Response:
    """``GET …/instanceView``: statuses and counts, and the ``orchestrationServices`` of automatic repairs (AR-8)."""

    def action(call: Call) -> tuple[dict[str, Any], str, list[dict[str, str]]]:
        view = _view(call, p["resource_group"], p["name"])
        return view, _now(call), scale_set_services(call, p["resource_group"], p["name"])

    view, now, services = ctx.run(p["subscription"], action, commit=False)
    body = rest_model.scale_set_instance_view(view["vmss"], view["instances"], now)
    if services:
        body["orchestrationServices"] = services
    return Response(200, body)


def _instance_ids(ctx: Ctx, required: bool) -> list[str] | None:
    """``{"instanceIds": [...]}`` of a POST body (VirtualMachineScaleSetVMInstanceIDs / ...RequiredIDs)."""
    ids = ctx.request.json().get("instanceIds")
    if ids is None and not required:
        return None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ArmError(
            400,
            "InvalidParameter",
            'instanceIds: give a non-empty list of instance ids (strings such as "0").',
            target="instanceIds",
        )
    return list(ids)


def _names(view: dict[str, Any], ids: list[str]) -> list[str]:
    return [str(_instance(view, iid)["name"]) for iid in ids]


# -- rolling upgrades ------------------------------------------------------------------------------


def start_os_upgrade(ctx: Ctx, p: dict[str, str]) -> Response:
    sub, rg, name = p["subscription"], p["resource_group"], p["name"]

    def action(call: Call) -> tuple[str, lro.Operation]:
        vmss = _model(call, rg, name)
        if active_run(call, rg, name) is not None:
            raise ArmError(
                409,
                "OperationNotAllowed",
                f"Operation 'osRollingUpgrade' is not allowed on Virtual Machine Scale Set '{vmss['name']}' "
                "since another rolling upgrade operation is in progress.",
            )
        started = _now(call)
        result = start_os_rolling_upgrade(call, rg, name, wait=False, fail_on_fault=False)
        latest = (result.get("after") or {}).get("latest_run")
        run_id = latest["run_id"] if result.get("changed") and latest else None
        if run_id is not None and ctx.instant:
            finish_active_run(call, rg, name)
        return vmss["location"], lro.Operation("os" if run_id is not None else "noop", rg, name, run_id, started)

    location, op = ctx.run(sub, action)
    return Response(202, None, _lro_headers(ctx, sub, location, op))


def start_extension_upgrade(ctx: Ctx, p: dict[str, str]) -> Response:
    """``POST …/extensionRollingUpgrade`` (azure-behaviour-2 EX-1): 202 with the LRO headers; with nothing to
    upgrade the operation succeeds at once and no run is recorded. Another run going on is 409 (EX-5, CF-1)."""
    sub, rg, name = p["subscription"], p["resource_group"], p["name"]

    def action(call: Call) -> tuple[str, lro.Operation]:
        vmss = _view(call, rg, name)["vmss"]
        run = active_run(call, rg, name)
        if run is not None:
            raise ArmError(409, "OperationNotAllowed", another_run_message(EXTENSION_OPERATION, vmss["name"]))
        started = _now(call)
        result = start_extension_rolling_upgrade(call, rg, name, wait=False, fail_on_fault=False)
        latest = (result.get("after") or {}).get("latest_run")
        run_id = latest["run_id"] if result.get("changed") and latest else None
        if run_id is not None and ctx.instant:
            finish_active_run(call, rg, name)
        return vmss["location"], lro.Operation("extension" if run_id is not None else "noop", rg, name, run_id, started)

    location, op = ctx.run(sub, action)
    return Response(202, None, _lro_headers(ctx, sub, location, op))


# -- automatic repairs (azure-behaviour-2 §8) ----------------------------------------------------------------


def set_orchestration_service_state(ctx: Ctx, p: dict[str, str]) -> Response:
    """``POST …/setOrchestrationServiceState`` (AR-9): Suspend or Resume AutomaticRepairs; 202 with LRO headers."""
    sub, rg, name = p["subscription"], p["resource_group"], p["name"]
    body = ctx.request.json()
    service, action = body.get("serviceName"), body.get("action")
    if service != "AutomaticRepairs":
        raise ArmError(
            400,
            "InvalidParameter",
            f"serviceName: {service!r} is not an orchestration service this simulator runs; allowed: AutomaticRepairs",
            target="serviceName",
        )
    if action not in ("Suspend", "Resume"):
        raise ArmError(400, "InvalidParameter", f"action: {action!r} is not allowed; allowed: Suspend, Resume",
                       target="action")  # fmt: skip

    def run(call: Call) -> tuple[str, lro.Operation]:
        vmss = _view(call, rg, name)["vmss"]
        ensure_scale_set(call, rg, name, orchestration_service="suspended" if action == "Suspend" else "running")
        return vmss["location"], lro.Operation("noop", rg, name, None, _now(call))

    location, op = ctx.run(sub, run)
    return Response(202, None, _lro_headers(ctx, sub, location, op))


def cancel_upgrade(ctx: Ctx, p: dict[str, str]) -> Response:
    sub, rg, name = p["subscription"], p["resource_group"], p["name"]

    def action(call: Call) -> tuple[str, lro.Operation]:
        vmss = _view(call, rg, name)["vmss"]
        run = active_run(call, rg, name)
        if run is None:
            raise ArmError(409, "OperationNotAllowed", NO_RUN_TO_CANCEL)
        started = _now(call)
        cancel_rolling_upgrade(call, rg, name, wait=ctx.instant, fail_if_idle=True)
        return vmss["location"], lro.Operation("cancel", rg, name, run["run_id"], started)

    location, op = ctx.run(sub, action)
    return Response(202, None, _lro_headers(ctx, sub, location, op))


def approve_upgrade(ctx: Ctx, p: dict[str, str]) -> Response:
    """``approveRollingUpgrade``: without ``instanceIds`` every instance is approved (Azure's API reference;
    design D11), which the engine reduces to those still waiting under ``osRollingUpgradeDeferral``."""
    sub, rg, name = p["subscription"], p["resource_group"], p["name"]
    wanted = _instance_ids(ctx, required=False)

    def action(call: Call) -> tuple[str, lro.Operation]:
        view = _view(call, rg, name)
        if wanted is not None:
            _names(view, wanted)  # an unknown id is the 404 of that VM, before anything changes
        started = _now(call)
        approve_rolling_upgrade(call, rg, name, instance_ids=wanted, wait=False)
        return view["vmss"]["location"], lro.Operation("noop", rg, name, None, started)

    location, op = ctx.run(sub, action)
    return Response(202, None, _lro_headers(ctx, sub, location, op))


def manual_upgrade(ctx: Ctx, p: dict[str, str]) -> Response:
    """``manualupgrade``: bring these instances to the scale set's current model (the vmss module's
    ``update_instances``; azure-behaviour §4, Manual mode)."""
    sub, rg, name = p["subscription"], p["resource_group"], p["name"]
    ids = _instance_ids(ctx, required=True) or []

    def action(call: Call) -> tuple[str, lro.Operation]:
        view = _view(call, rg, name)
        names = _names(view, ids)
        started = _now(call)
        result = ensure_scale_set(call, rg, name, update_instances=names)
        run_id = (result.get("after") or {}).get("rolling_upgrade_started")
        if run_id is not None and ctx.instant:
            finish_active_run(call, rg, name)
        kind: lro.OpKind = "model" if run_id is not None else "noop"
        return view["vmss"]["location"], lro.Operation(kind, rg, name, run_id, started)

    location, op = ctx.run(sub, action)
    return Response(202, None, _lro_headers(ctx, sub, location, op))


def latest_upgrade(ctx: Ctx, p: dict[str, str]) -> Response:
    rg, name = p["resource_group"], p["name"]

    def action(call: Call) -> dict[str, Any] | None:
        try:
            return latest_run(call, rg, name)  # the scale set read once, not its whole view as _view builds it
        except NotFound:
            raise not_found(rg, name) from None

    latest = ctx.run(p["subscription"], action, commit=False)
    if latest is None:
        raise ArmError(404, "NotFound", f"There is no rolling upgrade of Virtual Machine Scale Set '{name}' to show.")
    return Response(200, latest)


def os_upgrade_history(ctx: Ctx, p: dict[str, str]) -> Response:
    rg, name = p["resource_group"], p["name"]

    def action(call: Call) -> list[dict[str, Any]]:
        _view(call, rg, name)
        return upgrade_history(call, rg, name)["history"]

    items = ctx.run(p["subscription"], action, commit=False)
    return Response(200, page(ctx, items))


def page(ctx: Ctx, items: list[Any]) -> dict[str, Any]:
    """One page of ``items`` from ``$skiptoken`` on, with an absolute ``nextLink`` when more follow."""
    token = ctx.request.param("$skiptoken") or "0"
    if not token.isdigit():
        raise ArmError(
            400, "InvalidParameter", f"$skiptoken: {token!r} is not a token this endpoint issued.", target="$skiptoken"
        )
    start, size = int(token), ctx.settings.page_size
    body: dict[str, Any] = {"value": items[start : start + size]}
    if start + size < len(items):
        query = {"api-version": ctx.api_version, "$skiptoken": str(start + size)}
        body["nextLink"] = ctx.url(ctx.request.path, **query)
    return body


# -- operations ------------------------------------------------------------------------------------


def _operation_status(call: Call, op: lro.Operation) -> tuple[str, str | None, str | None, dict[str, Any] | None]:
    if op.kind == "reimage" and op.until is not None:
        # The reimage's new OS disks are in place at ``until`` (_engine/reimages.py); the clock decides.
        done = format_timestamp(call.store.now()) >= op.until
        return ("Succeeded" if done else "InProgress"), op.started, op.until, None
    if op.kind in ("put", "delete", "noop") or op.run_id is None:
        return "Succeeded", op.started, op.started, None
    run: RunStatus | None = run_status(call, op.resource_group, op.name, op.run_id)
    if run is None:
        raise ArmError(404, "OperationNotFound", "The operation's rolling upgrade no longer exists.")
    if op.kind == "cancel":
        return ("InProgress" if run["active"] else "Succeeded"), op.started, run["end"], None
    if run["active"]:
        return "InProgress", run["start"], None, None
    status = _OS_STATUS.get(run["code"], "Succeeded")
    error = run["error"]
    if status == "Canceled" and not error:
        error = error_object("OperationCanceled", "The rolling upgrade was cancelled.")
    return status, run["start"], run["end"], error


def operation(ctx: Ctx, p: dict[str, str]) -> Response:
    op_id = p["operation"]
    op = lro.decode(ctx.settings.files.token_key, op_id)
    status, start, end, error = ctx.run(p["subscription"], lambda call: _operation_status(call, op), commit=False)
    body = lro.status_body(op_id, status, start, end, error)
    if ctx.request.param("monitor") == "true" and status == "InProgress":
        location = ctx.url(ctx.request.path, **{"api-version": ctx.api_version, "monitor": "true"})
        return Response(202, None, {"Location": location, "Retry-After": lro.RETRY_AFTER})
    headers = {"Retry-After": lro.RETRY_AFTER} if status == "InProgress" else {}
    return Response(200, body, headers)
