# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The glue between Ansible and the pure core for a module that writes: module_glue.py's, opening a ``Store``.

A read-only module builds module_glue.py's ``AzsimModule``, which never names store.py: its AnsiballZ payload
then carries none of the store's writes, its encoder and its event queue (issue 14 item 3).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._front import module_glue
from ansible_collections.azsim.vmss.plugins.module_utils._front.module_glue import (
    COMMON_OPTIONS,
    DEFAULT_SUBSCRIPTION,
    common_argument_spec,
    scale_set_argument_spec,
)
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store

# AzsimModule, and the names the modules that write found here before module_glue.py took them.
__all__ = ["AzsimModule", "COMMON_OPTIONS", "DEFAULT_SUBSCRIPTION", "common_argument_spec", "scale_set_argument_spec"]


class AzsimModule(module_glue.AzsimModule):
    def open_store(self, path: str) -> Store:
        """A write creates a missing store and migrates it inside the call's transaction; ``read_only`` as a read."""
        return Store.open(path, mode="read" if self.read_only else "write")
