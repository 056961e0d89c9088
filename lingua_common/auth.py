"""Bearer tokens: reading them from an HTTP header or gRPC metadata, comparing them in constant time."""

from __future__ import annotations

import hmac
from typing import Any


def bearer(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header value; "" when there is none."""
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return ""


def metadata_bearer(context: Any) -> str:
    """The bearer token in a gRPC call's `authorization` metadata; "" when there is none."""
    return bearer(dict(context.invocation_metadata() or ()).get("authorization"))


def tokens_match(expected: str, presented: str) -> bool:
    """Constant-time comparison, so response timing does not reveal how much of a token was right."""
    return hmac.compare_digest(expected.encode(), presented.encode())
