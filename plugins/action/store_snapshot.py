# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azsim.vmss.store_snapshot: in the task's worker when the connection is local (plugin_utils/_module_action.py)."""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.plugin_utils._module_action import ModuleAction


class ActionModule(ModuleAction):
    pass
