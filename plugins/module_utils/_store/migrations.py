# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store's schema, step by step: what reading.py's ``_migrate`` runs on a new or older store.

Apart from reading.py so that a call on an up-to-date store, as most are, does not compile it (issue 14).

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

from ansible_collections.azsim.vmss.plugins.module_utils._common.fingerprint import UNKNOWN

# The virtual clock of a new store starts here (2025-01-01T00:00:00Z), never at the wall clock.
EPOCH = 1735689600

# Forward migrations: MIGRATIONS[n] takes a store from schema n - 1 to n. Never edit a shipped step.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, due INTEGER NOT NULL,"
        " kind TEXT NOT NULL, subject TEXT NOT NULL, payload TEXT NOT NULL)",
        "CREATE INDEX events_due ON events (due, seq)",
        "CREATE TABLE images (kind TEXT NOT NULL, image TEXT NOT NULL, version TEXT NOT NULL,"
        " doc TEXT NOT NULL, PRIMARY KEY (kind, image, version))",
        "CREATE TABLE scale_sets (key TEXT PRIMARY KEY, subscription_id TEXT NOT NULL,"
        " resource_group TEXT NOT NULL, doc TEXT NOT NULL)",
        "CREATE TABLE instances (scale_set TEXT NOT NULL, instance_id INTEGER NOT NULL,"
        " doc TEXT NOT NULL, PRIMARY KEY (scale_set, instance_id))",
        "CREATE TABLE runs (scale_set TEXT NOT NULL, run_id INTEGER NOT NULL, kind TEXT NOT NULL,"
        " start INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (scale_set, run_id))",
        "CREATE TABLE features (subscription_id TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,"
        " PRIMARY KEY (subscription_id, name))",
        "CREATE TABLE providers (subscription_id TEXT NOT NULL, namespace TEXT NOT NULL, doc TEXT NOT NULL,"
        " PRIMARY KEY (subscription_id, namespace))",
        f"INSERT INTO meta (key, value) VALUES ('now', '{EPOCH}')",
    ],
    # History reads the newest OS runs of one scale set without decoding every run it ever had.
    2: ["CREATE INDEX runs_by_kind ON runs (scale_set, kind, start, run_id)"],
    # The ARM endpoint's resources around scale sets (resource groups, virtual networks, subnets), by
    # lower-case id; the parent column lists a group's or a network's children without decoding all.
    3: [
        "CREATE TABLE resources (id TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, parent TEXT NOT NULL,"
        " doc TEXT NOT NULL)",
        "CREATE INDEX resources_by_parent ON resources (parent, id)",
    ],
    # Fingerprints of protected settings were HMACs under a key kept in the store itself, so the store alone
    # confirmed a guess. The key goes; an old fingerprint cannot become a new one without the secret, so it is
    # marked unknown and the next write that gives the settings records the new one (docs/reliability.md §5).
    4: [
        "UPDATE scale_sets SET doc = json_set(doc, '$.extension_secrets', json((SELECT json_group_object(e.key,"
        " json_object('credential_expiry', json_extract(e.value, '$.credential_expiry'),"
        " 'protected_settings_fingerprint', CASE WHEN json_extract(e.value, '$.protected_settings_hmac') IS NULL"
        f" THEN NULL ELSE '{UNKNOWN}' END)) FROM json_each(doc, '$.extension_secrets') AS e)))"
        " WHERE json_type(doc, '$.extension_secrets') = 'object'",
        "DELETE FROM meta WHERE key = 'fingerprint_key'",
    ],
}
