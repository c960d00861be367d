# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every kind of event the virtual clock can run, and the function that runs it.

One explicit table rather than registration on import, so that what moves when the clock moves can
be read in one place.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._model import features
from ansible_collections.azsim.vmss.plugins.module_utils._engine import platform
from ansible_collections.azsim.vmss.plugins.module_utils._engine.clock import Handler

HANDLERS: dict[str, Handler] = {
    # Automatic OS upgrades the platform starts (azure-behaviour §4) and the runs' own timelines (§3).
    platform.EVENT_KIND: platform.on_platform_rollout,
    "run_step": platform.on_run_step,
    # Feature and provider registration (§6): a transition completes when its event falls due.
    features.FEATURE_EVENT: features.on_feature_state,
    features.PROVIDER_EVENT: features.on_provider_state,
}
