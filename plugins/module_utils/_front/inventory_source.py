# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The glue between the inventory plugin azsim.vmss.vmss and the core: a read of the store, as a read-only module
makes it, with the same defaults; SQLite's own errors become the collection's, which the plugin turns into Ansible's
inventory parser errors (module_utils may not import ansible.errors).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import json
import os
import sqlite3

from ansible_collections.azsim.vmss.plugins.module_utils._actions.call import Call
from ansible_collections.azsim.vmss.plugins.module_utils._actions.inventory import InventoryHost, inventory_hosts
from ansible_collections.azsim.vmss.plugins.module_utils._common.errors import StoreError
from ansible_collections.azsim.vmss.plugins.module_utils._front.ansible_module import DEFAULT_SUBSCRIPTION
from ansible_collections.azsim.vmss.plugins.module_utils._store.store import Store, default_path


def store_path(store: str | None) -> str:
    """The store every module would use: the option, else AZSIM_VMSS_STORE, else ~/.ansible/azsim/vmss.sqlite."""
    return os.path.abspath(os.path.expanduser(store or default_path()))


def subscription(subscription_id: str | None) -> str:
    """As the modules: the option, else AZURE_SUBSCRIPTION_ID, else the all-zero subscription."""
    return subscription_id or os.environ.get("AZURE_SUBSCRIPTION_ID") or DEFAULT_SUBSCRIPTION


def read_hosts(store: str | None, subscription_id: str | None, resources: list[str] | None) -> list[InventoryHost]:
    """The instances as hosts, read in one transaction that is rolled back: the store is opened as a read-only
    module opens it (never created, migrated or converted), so reading the inventory writes nothing.

    Raises the collection's errors (``AzsimError``), SQLite's included as a ``StoreError``.
    """
    path = store_path(store)
    try:
        opened = Store.open(path, mode="read")
        try:
            with opened.transaction(commit=False):
                return inventory_hosts(Call(opened, subscription(subscription_id)), resource_groups=resources)
        finally:
            opened.close()
    except sqlite3.OperationalError as exc:  # the disk or the file system, not the data
        raise StoreError(
            f"store {path}: could not be read ({exc}); if this persists, check the disk and the permissions of the "
            "store and its folder"
        ) from None
    except (sqlite3.DatabaseError, json.JSONDecodeError) as exc:
        raise StoreError(
            f"store {path}: is damaged ({type(exc).__name__}: {exc}); move it aside and let azsim.vmss create a new "
            "one, or point the store option elsewhere"
        ) from None
