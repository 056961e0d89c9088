"""Pairing codes: a node asks for a code, a client opens a session with it, the session uses that node.

Codes are 6 digits from the OS's cryptographic RNG, unique among live codes, valid `ttl_s`, single use.
A client (keyed by its address or tenant) that fails `max_failures` times within a minute is refused
until the oldest failure ages out. This process's codes live here; scaled out (redis://) they live in
Redis (`cluster.pairing.SharedPairing`) so any instance redeems a code any other issued. The servicers
use either through `PairingStore`.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from lingua.v1 import common_pb2, node_pb2
from lingua_common.errors import LinguaError


@dataclass
class _Code:
    node_id: str
    expires: float


class PairingCodes:
    def __init__(self, ttl_s: float = 300.0, max_failures: int = 5, failure_window_s: float = 60.0) -> None:
        self.ttl_s = ttl_s
        self.max_failures = max_failures
        self.failure_window_s = failure_window_s
        self._codes: dict[str, _Code] = {}
        self._failures: dict[str, deque[float]] = {}

    def issue(self, node_id: str, now: float | None = None) -> tuple[str, float]:
        """A fresh code for `node_id` and its expiry (monotonic seconds)."""
        now = time.monotonic() if now is None else now
        self._expire(now)
        if len(self._codes) >= 900_000:
            raise LinguaError(common_pb2.NODE_OVERLOADED, "too many live pairing codes; try again later")
        while True:
            code = f"{secrets.randbelow(1_000_000):06d}"
            if code not in self._codes:
                break
        self._codes[code] = _Code(node_id, now + self.ttl_s)
        return code, now + self.ttl_s

    def redeem(self, code: str, client: str, now: float | None = None) -> str:
        """The node id the code was issued to; the code is used up. Raises INVALID_PAIRING_CODE."""
        now = time.monotonic() if now is None else now
        failures = self._failures.setdefault(client, deque())
        while failures and now - failures[0] > self.failure_window_s:
            failures.popleft()
        if len(failures) >= self.max_failures:
            retry_ms = int((failures[0] + self.failure_window_s - now) * 1000) + 1
            raise LinguaError(common_pb2.INVALID_PAIRING_CODE,
                              f"too many wrong pairing codes; wait {retry_ms / 1000:.0f} s", retry_after_ms=retry_ms)
        self._expire(now)
        entry = self._codes.pop(code, None)
        if entry is None:
            failures.append(now)
            raise LinguaError(common_pb2.INVALID_PAIRING_CODE,
                              "pairing code not found or expired; ask the node for a new one")
        if not failures:
            self._failures.pop(client, None)
        return entry.node_id

    def revoke_node(self, node_id: str) -> None:
        for code in [c for c, e in self._codes.items() if e.node_id == node_id]:
            del self._codes[code]

    def live(self) -> int:
        return len(self._codes)

    def _expire(self, now: float) -> None:
        for code in [c for c, e in self._codes.items() if e.expires <= now]:
            del self._codes[code]


class PairingStore(Protocol):
    async def issue(self, node_id: str) -> tuple[str, int]:
        """A fresh code for `node_id` and its expiry (unix ms)."""

    async def redeem(self, code: str, client: str) -> str:
        """The node id the code was issued to (used up); raises INVALID_PAIRING_CODE."""

    async def live(self) -> int: ...


class LocalPairing:
    """PairingStore over this process's PairingCodes (memory:// state)."""

    def __init__(self, codes: PairingCodes) -> None:
        self.codes = codes

    async def issue(self, node_id: str) -> tuple[str, int]:
        code, expires = self.codes.issue(node_id)
        return code, unix_ms(expires)

    async def redeem(self, code: str, client: str) -> str:
        return self.codes.redeem(code, client)

    async def live(self) -> int:
        return self.codes.live()


def unix_ms(monotonic_s: float) -> int:
    return int((time.time() + monotonic_s - time.monotonic()) * 1000)


def code_message(code: str, expires_unix_ms: int) -> node_pb2.SchedulerMessage:
    return node_pb2.SchedulerMessage(pairing_code=node_pb2.PairingCode(code=code, expires_at_unix_ms=expires_unix_ms))
