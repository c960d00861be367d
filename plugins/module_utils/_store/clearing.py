# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emptying a store: what ``vmss_reset`` and the endpoint's admin reset do.

Apart from ``store.py`` so that the modules that never empty a store do not pack it (issue 14: AnsiballZ
packs every file a module's imports name).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._store.api import Store
from ansible_collections.azsim.vmss.plugins.module_utils._store.migrations import EPOCH


def clear(store: Store) -> dict[str, int]:
    """Every resource, run and pending event gone and the clock at the start: a new store's content.

    The store's own keys (schema, fingerprint key) stay. Rows removed, by table.
    """
    tables = [
        row[0]
        for row in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('meta', 'sqlite_sequence')"
            " ORDER BY name"
        )
    ]
    store.write_events()
    removed = {}
    for table in tables:
        removed[table] = int(store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        store.conn.execute(f"DELETE FROM {table}")
    store.set_now(EPOCH)
    return removed
