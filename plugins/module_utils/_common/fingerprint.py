# Copyright: azsim.vmss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A costly fingerprint of protected settings: enough to notice a rotation, dear to test guesses against.

The store keeps a fingerprint, never the secret, so that a change of ``protected_settings`` is seen
(it changes the scale set's model). Anyone who can read the store can still try guesses offline, so
each guess is made to cost a memory-hard KDF (scrypt, RFC 7914) with the store's own random salt: one
precomputed table serves no two stores, and every guess costs what one call costs below.

PRIVATE to the azsim.vmss collection: no interface here is guaranteed to others.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# scrypt's parameters for interactive use (Percival's paper, RFC 7914 section 2: N=2^14, r=8, p=1):
# 128 * r * N = 16 MiB of memory and about 50 ms of one core per fingerprint (measured on the 2-core
# development machine), paid once per extension with protected settings on each write.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
# The form says how it was made, so that a later version can raise the cost and still tell old ones.
PREFIX = f"scrypt:n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}:"
# What a store migrated from an older version holds for a fingerprint it had: the old one could not be
# converted without the secret (see docs/reliability.md, section 5).
UNKNOWN = "unknown"


def fingerprint(protected: Any, salt: bytes) -> str:
    """The fingerprint of ``protected`` (any JSON value) under ``salt``: the same value gives the same text."""
    secret = json.dumps(protected, sort_keys=True).encode()
    digest = hashlib.scrypt(secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 2**20, dklen=32)
    return PREFIX + digest.hex()
