# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is PRIVATE to the collection: it may change at any time. Do not use it from other
# collections or standalone modules.

from __future__ import annotations


class ModuleDocFragment:
    # The descriptions of the attributes every module declares. Use it with ACTION_GROUP and either
    # CHANGES_STORE or INFO_MODULE; a module states its own idempotent (and any deviation) itself.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    # Every module is in the action group azsim.vmss.vmss (meta/runtime.yml).
    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/azsim.vmss.vmss) in C(module_defaults) to set defaults for this module, for example O(store).
    support: full
    membership:
      - azsim.vmss.vmss
"""

    # Modules with an action plugin of the same name (plugins/action/, plugin_utils/_module_action.py).
    IN_WORKER = r"""
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - "With a local connection (a C(localhost) play or C(delegate_to: localhost)) and without C(become) or C(async),
        the whole task runs on the controller inside Ansible's worker, without starting a module process; the
        result is the same. Set the variable C(azsim_vmss_in_process=false) to run the module as its own process,
        with the host's Python interpreter; a value that is not a boolean fails the task."
"""

    # Modules that write the store. A module whose diff is not the full before and after overrides diff_mode.
    CHANGES_STORE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - The whole task runs on the store inside a transaction that is rolled back, so the result (and C(changed))
        is what a real run would return, and nothing is written. On a store that does not exist yet the task runs on one
        made for it, which is removed again.
  diff_mode:
    support: full
    details:
      - Returns C(diff) with the managed resource before and after the task, also in check mode.
"""

    # Read-only modules (community.crypto's INFO_MODULE with IDEMPOTENT_NOT_MODIFY_STATE).
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state; the virtual clock does not move.
"""

    # Modules whose second identical call changes nothing.
    IDEMPOTENT = r"""
options: {}
attributes:
  idempotent:
    support: full
"""
