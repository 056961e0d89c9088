"""API keys: `lk_` + 32 random bytes (URL-safe base64). Only a hash of a key is ever stored.

A plain SHA-256 is enough because a key carries 256 random bits: there is nothing to brute-force that a slow
password hash would protect. A key is found by its prefix (its first characters, also shown to operators so
they can recognise it), then its hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "lk_"
# Characters of the key kept in clear: "lk_" + 9 random characters (54 bits), to find it and recognise it.
PREFIX_LEN = 12
MAX_KEY_LEN = 128


def generate() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def prefix_of(api_key: str) -> str:
    return api_key[:PREFIX_LEN]


def well_formed(api_key: str) -> bool:
    """Whether `api_key` could be one of ours (so garbage never reaches the database)."""
    return api_key.startswith(KEY_PREFIX) and PREFIX_LEN < len(api_key) <= MAX_KEY_LEN and api_key.isascii()


def matches(stored_hash: str, api_key: str) -> bool:
    return hmac.compare_digest(stored_hash.encode(), key_hash(api_key).encode())


def new_id(kind: str) -> str:
    """A public identifier: `tn_…` for tenants, `key_…` for keys."""
    return f"{kind}_{secrets.token_hex(8)}"
