# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extension rolling upgrades (azure-behaviour-2 §7): what one instance's upgrade does.

The run itself is an ordinary run of kind ``extension`` (``run_start.start_run``), driven by the
orchestrator like an OS upgrade: the scale set's rolling policy, batches, the pre- and post-batch checks,
the health wait, Azure's error codes (EX-3, EX-4), and the scale set's one rolling-upgrade slot (EX-5).
Only the work done on an instance differs: no new OS disk and no change of model, just the extensions
that are behind moving to their released version.

SIMULATOR CHOICE: an instance's extension upgrade takes ``reimage_duration`` per extension behind (EX-3:
several are upgraded one extension at a time) and it reports healthy ``boot_duration`` later, the timeline
of a model update (design.md, precise points).

The platform starts such runs by itself: _engine/extension_platform.py (EX-2).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from collections.abc import Iterable

from ansible_collections.azsim.vmss.plugins.module_utils._model.extension_versions import install, outdated
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Instance, Record


def upgrade_duration(record: Record, instance: Instance, step: int, names: list[str] | None = None) -> int:
    """How long the instance's extension upgrade takes: ``step`` (``reimage_duration``) for each extension behind.

    azure-behaviour-2 EX-3: "several extensions with pending upgrades are upgraded individually, one extension
    at a time"; DOC-AEU: each is applied on its own and one failing does not stop the others
    (``upgrade_extensions``). At least one step: the instance was a candidate because one was behind.
    """
    return step * max(1, len(outdated(record, instance, names)))


def upgrade_extensions(
    record: Record, instance: Instance, failing: Iterable[str], names: list[str] | None = None
) -> bool:
    """Move the instance's outdated extensions to their released version; True when one failed.

    An extension that fails (fault ``extension_failure``, an expired credential) keeps its old version:
    EX-3 "failed upgrades are rolled back and retried later", so a later run takes it again.
    """
    behind = set(outdated(record, instance, names))
    failed = behind & set(failing)
    install(record, instance, behind - failed)
    # New state dicts, not the old ones changed: instances loaded by the fleet share equal ones (_model/fleet.py).
    instance["extensions"] = [
        {"name": state["name"], "provisioning_state": "Failed" if state["name"] in failed else "Succeeded"}
        if state["name"] in behind
        else state
        for state in instance["extensions"]
    ]
    instance["provisioning_state"] = (
        "Failed" if any(s["provisioning_state"] != "Succeeded" for s in instance["extensions"]) else "Succeeded"
    )
    return bool(failed)
