"""Identifiers: short, random, typed by prefix so logs read well."""

import secrets


def new_id(prefix: str) -> str:
    """`prefix-` + 12 lowercase hex characters from the OS's cryptographic RNG."""
    return f"{prefix}-{secrets.token_hex(6)}"


def new_token() -> str:
    return secrets.token_urlsafe(24)
