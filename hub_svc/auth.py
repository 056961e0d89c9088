"""Bearer tokens for the hub: operators publish and deprecate; reads may be token-gated too."""

from __future__ import annotations

import hmac

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError


def bearer(header: str | None) -> str:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return ""


def require(expected: str, presented: str, what: str) -> None:
    """Raise unless `presented` is `expected` (constant-time). An empty `expected` means `what` is disabled
    for operators (publishing) - callers decide which tokens may be empty."""
    if not expected:
        raise LinguaError(common_pb2.PERMISSION_DENIED, f"{what} is disabled: the hub has no operator token set")
    if not hmac.compare_digest(expected.encode(), presented.encode()):
        raise LinguaError(common_pb2.UNAUTHENTICATED, f"{what} needs a valid bearer token")


def may_read(read_token: str, presented: str) -> None:
    if read_token and not hmac.compare_digest(read_token.encode(), presented.encode()):
        raise LinguaError(common_pb2.UNAUTHENTICATED, "this hub needs a bearer token to read")
