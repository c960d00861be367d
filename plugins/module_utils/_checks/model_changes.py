# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requirements a change of the VM model must keep, whichever module or route makes it.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._checks.requirements import (
    ROLLING_WITHOUT_HEALTH_SOURCE,
    RequirementsNotMet,
    rolling_mode_findings,
)
from ansible_collections.azsim.vmss.plugins.module_utils._model.records import Record


def require_rolling_health_source(record: Record) -> None:
    """azure-behaviour §1: a scale set in ``mode: Rolling`` must keep its health source (Azure's 400 BadRequest).

    vmss_upgrade_policy checks this when the mode is set; this holds it when the model changes afterwards
    (removing the probe or the Application Health extension), so the only way out is to leave Rolling first.
    """
    if record["model"]["properties"]["upgradePolicy"]["mode"] != "Rolling":
        return
    findings = rolling_mode_findings(record)
    if findings:
        raise RequirementsNotMet(
            f"{ROLLING_WITHOUT_HEALTH_SOURCE} Scale set {record['model']['name']} is in upgrade mode Rolling: keep "
            "health_probe or the Application Health extension, or set another mode first with "
            "azsim.vmss.vmss_upgrade_policy; nothing was changed.",
            code="BadRequest",
            azure_message=ROLLING_WITHOUT_HEALTH_SOURCE,
            findings=findings,
        )
