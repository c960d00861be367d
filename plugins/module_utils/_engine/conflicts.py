# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a rolling upgrade in progress refuses: Azure's 409 ``OperationNotAllowed`` (azure-behaviour-2 §9, D1).

Each rule is one function that raises ``Conflict`` (code, status 409, Azure's text) or returns; the
actions call them before they write, so a refused call changes nothing, through either front door.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections.abc import Iterable

from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import Conflict
from ansible_collections.azsim.vmss.plugins.module_utils._model.orchestration import external_id
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record
from ansible_collections.azsim.vmss.plugins.module_utils._model.run_state import Run, is_active

CODE = "OperationNotAllowed"
# The modes whose model changes reach instances by themselves, so that a run going on would miss them.
_MODEL_FOLLOWING_MODES = ("Rolling", "Automatic")


def in_progress_message(operation: str, vmss: str) -> str:
    """CF-2/CF-3 (SIMULATOR CHOICE text): a write the run in progress refuses."""
    return (
        f"Operation '{operation}' is not allowed on Virtual Machine Scale Set '{vmss}' since a rolling upgrade is in "
        "progress. Cancel the rolling upgrade or wait for it to complete."
    )


def another_run_message(operation: str, vmss: str) -> str:
    """CF-1 (SIMULATOR CHOICE text after MicrosoftDocs/azure-docs #6134): a second start while a run goes on."""
    return (
        f"Operation '{operation}' is not allowed on Virtual Machine Scale Set '{vmss}' since another rolling upgrade "
        "operation is in progress."
    )


def _conflict(message: str) -> Conflict:
    return Conflict(message, code=CODE, status=409)


def refuse_model_change(vmss: str, modes: Iterable[str], run: Run | None, operation: str = "PUT") -> None:
    """azure-behaviour-2 CF-2 and D1: a change of the VM model during a run, in mode Rolling or Automatic, is 409.

    ``modes`` are the upgrade mode before and after the change; in Manual mode (both) the change is accepted
    and touches no instance. Changes outside the VM model (capacity, the upgrade policy) never come here.
    """
    if is_active(run) and any(mode in _MODEL_FOLLOWING_MODES for mode in modes):
        raise _conflict(in_progress_message(operation, vmss))


def refuse_delete(vmss: str, run: Run | None) -> None:
    """azure-behaviour-2 CF-3: deleting the scale set while a run is active is 409; cancel first."""
    if is_active(run):
        raise _conflict(in_progress_message("DELETE", vmss))


def refuse_second_start(vmss: str, run: Run | None, operation: str = "osRollingUpgrade") -> None:
    """azure-behaviour-2 CF-1: a second start at the REST level (the module returns the run instead, D1)."""
    if is_active(run):
        raise _conflict(another_run_message(operation, vmss))


def refuse_instances_in_batch(
    vmss: str,
    run: Run | None,
    instance_ids: Iterable[str],
    operation: str,
    option: str,
    record: Record | None = None,
) -> None:
    """azure-behaviour-2 CF-4/CF-5: an instance operation (manualUpgrade, delete by scale-in) that targets an
    instance of the batch in flight is 409. ``option`` names the module option that asked for it; with
    ``record``, the message names the ids callers see (VM names on Flexible, FX-6)."""
    if not is_active(run) or run is None:
        return
    busy = [
        i if record is None else external_id(record, i)
        for i in sorted({i for i in instance_ids if i in run["flight"]}, key=int)
    ]
    if busy:
        text = (
            f"Operation '{operation}' is not allowed on Virtual Machine Scale Set '{vmss}' since instance(s) "
            f"{', '.join(busy)} are being upgraded by the rolling upgrade in progress. Cancel the rolling upgrade "
            "or wait for their batch to complete."
        )
        raise Conflict(f"{option}: {text}", code=CODE, status=409, azure_message=text)
