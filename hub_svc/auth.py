"""Bearer tokens for the hub: operators publish and deprecate; reads may be token-gated too."""

from __future__ import annotations

from lingua.v1 import common_pb2
from lingua_common.auth import bearer, tokens_match
from lingua_common.errors import LinguaError

__all__ = ["bearer", "may_read", "require"]


def require(expected: str, presented: str, what: str) -> None:
    """Raise unless `presented` is `expected` (constant-time). An empty `expected` means `what` is disabled
    for operators (publishing) - callers decide which tokens may be empty."""
    if not expected:
        raise LinguaError(common_pb2.PERMISSION_DENIED, f"{what} is disabled: the hub has no operator token set")
    if not tokens_match(expected, presented):
        raise LinguaError(common_pb2.UNAUTHENTICATED, f"{what} needs a valid bearer token")


def may_read(read_token: str, presented: str) -> None:
    if read_token and not tokens_match(read_token, presented):
        raise LinguaError(common_pb2.UNAUTHENTICATED, "this hub needs a bearer token to read")
