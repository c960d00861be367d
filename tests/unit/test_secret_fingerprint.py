# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fingerprint a store keeps of protected settings (issue 11 item 5, docs/reliability.md section 5).

It must not let the store alone confirm a cheap guess: it is scrypt (memory-hard) under a random salt of
the store's own, not an HMAC or hash whose key sits beside it. A store of schema 3 holds HMACs it cannot
convert without the secret: migrated, they are ``unknown`` and its key is gone; the next write that gives
the settings records the new fingerprint without counting a rotation, and a real rotation after it counts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from ansible_collections.azsim.vmss.plugins.module_utils._common.fingerprint import SCRYPT_N, SCRYPT_P, SCRYPT_R
from ansible_collections.azsim.vmss.plugins.modules import vm_image, vmss
from ansible_collections.azsim.vmss.tests.unit._harness import call

IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
SECRET = {"storageAccountKey": "hunter2"}


def _extension(protected: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "custom",
        "publisher": "Microsoft.Azure.Extensions",
        "type": "CustomScript",
        "type_handler_version": "2.1",
        "protected_settings": protected,
    }


def _scale_set(store: Path, protected: dict[str, Any]) -> dict[str, Any]:
    return call(
        vmss,
        {
            "store": str(store),
            "resource_group": "rg",
            "name": "web",
            "image": IMAGE,
            "instances": ["web-0"],
            "extensions": [_extension(protected)],
        },
    )


def _new_store(path: Path) -> Path:
    assert call(vm_image, {"store": str(path), "location": "eastus", **IMAGE, "version": "1.0.0"})["rc"] == 0
    result = _scale_set(path, SECRET)
    assert result["rc"] == 0, result
    return path


def _read(path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    conn = sqlite3.connect(str(path))
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        doc = json.loads(conn.execute("SELECT doc FROM scale_sets").fetchone()[0])
    finally:
        conn.close()
    return meta, doc


def _stored_fingerprint(path: Path) -> str:
    return str(_read(path)[1]["extension_secrets"]["custom"]["protected_settings_fingerprint"])


def test_the_fingerprint_is_scrypt_under_the_stores_salt_not_a_hash_or_hmac(tmp_path: Path) -> None:
    path = _new_store(tmp_path / "a.sqlite")
    meta, _doc = _read(path)
    salt = bytes.fromhex(meta["fingerprint_salt"])
    stored = _stored_fingerprint(path)
    secret = json.dumps(SECRET, sort_keys=True).encode()
    assert "fingerprint_key" not in meta
    digest = stored.rsplit(":", 1)[1]
    # Not what schema 3 kept (an HMAC under a key in the store) nor a plain or salted fast hash.
    assert digest != hmac.new(salt, secret, hashlib.sha256).hexdigest()
    assert digest not in {hashlib.sha256(secret).hexdigest(), hashlib.sha256(salt + secret).hexdigest()}
    assert digest == hashlib.scrypt(secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32).hex()
    assert stored.startswith(f"scrypt:n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}:")
    # Memory-hard at least as RFC 7914's interactive parameters, and the salt is 16 random bytes.
    assert 128 * SCRYPT_R * SCRYPT_N >= 16 * 2**20 and len(salt) == 16


def test_each_store_has_its_own_salt_so_one_secret_fingerprints_differently(tmp_path: Path) -> None:
    first, second = _new_store(tmp_path / "a.sqlite"), _new_store(tmp_path / "b.sqlite")
    assert _read(first)[0]["fingerprint_salt"] != _read(second)[0]["fingerprint_salt"]
    assert _stored_fingerprint(first) != _stored_fingerprint(second)


def test_the_same_secret_again_changes_nothing_and_a_rotation_is_seen(tmp_path: Path) -> None:
    path = _new_store(tmp_path / "a.sqlite")
    again = _scale_set(path, SECRET)
    assert again["rc"] == 0 and again["changed"] is False
    rotated = _scale_set(path, {"storageAccountKey": "correct horse"})
    assert rotated["rc"] == 0 and rotated["changed"] is True
    assert rotated["simulator"]["model_version"] == again["simulator"]["model_version"] + 1


def _as_schema_3(path: Path) -> str:
    """Turn a store back into what schema 3 kept: an HMAC under a key stored in meta. Returns the HMAC."""
    key = os.urandom(32)
    old = hmac.new(key, json.dumps(SECRET, sort_keys=True).encode(), hashlib.sha256).hexdigest()
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        doc = json.loads(conn.execute("SELECT doc FROM scale_sets").fetchone()[0])
        doc["extension_secrets"]["custom"] = {"credential_expiry": None, "protected_settings_hmac": old}
        conn.execute("UPDATE scale_sets SET doc = ?", (json.dumps(doc),))
        conn.execute("DELETE FROM meta WHERE key = 'fingerprint_salt'")
        conn.execute("INSERT INTO meta (key, value) VALUES ('fingerprint_key', ?)", (key.hex(),))
        conn.execute("PRAGMA user_version = 3")
    finally:
        conn.close()
    return old


def test_a_schema_3_store_loses_its_hmac_and_key_and_the_next_write_records_the_new_fingerprint(
    tmp_path: Path,
) -> None:
    path = _new_store(tmp_path / "a.sqlite")
    before = _scale_set(path, SECRET)
    old = _as_schema_3(path)
    # A write without the extensions option migrates: the key is gone, the old HMAC marked unknown.
    touched = call(vmss, {"store": str(path), "resource_group": "rg", "name": "web", "zones": []})
    assert touched["rc"] == 0 and touched["changed"] is False, touched
    meta, doc = _read(path)
    assert "fingerprint_key" not in meta and old not in json.dumps(doc) and old not in str(meta)
    assert doc["extension_secrets"]["custom"] == {
        "credential_expiry": None,
        "protected_settings_fingerprint": "unknown",
    }
    # The same settings: recorded, no rotation counted, no new model for the instances.
    same = _scale_set(path, SECRET)
    assert same["rc"] == 0 and same["changed"] is False, same
    assert same["simulator"]["model_version"] == before["simulator"]["model_version"]
    assert _stored_fingerprint(path).startswith("scrypt:")
    # A rotation after that is seen again.
    rotated = _scale_set(path, {"storageAccountKey": "new"})
    assert rotated["changed"] is True
    assert rotated["simulator"]["model_version"] == before["simulator"]["model_version"] + 1
