"""Pairing codes: a node asks for a code, a client opens a session with it, the session uses that node.

Codes are 6 digits from the OS's cryptographic RNG, unique among live codes, valid `ttl_s`, single use, at
most one live per node (issuing a new one revokes the old). Guessing is bounded three ways:
- per client: one that fails `max_failures` times within the window is refused until the oldest failure
  ages out. The client is the caller's gateway-stamped tenant, else its address (session_servicer.client_key);
- for the whole scheduler: at most `max_global_failures` wrong codes per window, whoever sends them (so
  rotating tenant ids or addresses buys nothing); past that every redeem waits (RATE_LIMITED);
- per code: a live code is burned after `code_max_misses` wrong guesses made anywhere while it was live, so
  a brute-forcer's chance against any one code stays below code_max_misses / 10^6.
Every operation is O(1) amortised: codes expire from a queue in issue order, failures are kept only within
the window (and so are at most max_global_failures). This process's codes live here; scaled out (redis://)
they live in Redis (`cluster.pairing.SharedPairing`) so any instance redeems a code any other issued. The
servicers use either through `PairingStore`.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Protocol

from lingua.v1 import common_pb2, node_pb2
from lingua_common.errors import LinguaError

# Six digits give 10^6 codes; refuse well before a random draw would rarely find a free one.
MAX_LIVE = 900_000


@dataclass
class _Code:
    node_id: str
    expires: float
    # PairingCodes.misses when the code was issued: its budget of wrong guesses is counted from there.
    misses_at_issue: int


class PairingCodes:
    def __init__(self, ttl_s: float = 300.0, max_failures: int = 5, failure_window_s: float = 60.0,
                 max_global_failures: int = 100, code_max_misses: int = 200) -> None:
        self.ttl_s = ttl_s
        self.max_failures = max_failures
        self.failure_window_s = failure_window_s
        self.max_global_failures = max_global_failures
        self.code_max_misses = code_max_misses
        self._codes: dict[str, _Code] = {}
        self._by_node: dict[str, str] = {}
        # (expiry, code) in issue order, which is expiry order (one ttl); entries of used codes linger.
        self._expiry: deque[tuple[float, str]] = deque()
        # Per client, its failures within the window; least recently failing client first.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        # Wrong guesses within the window from anyone, and ever.
        self._recent: deque[float] = deque()
        self.misses = 0

    def issue(self, node_id: str, now: float | None = None) -> tuple[str, float]:
        """A fresh code for `node_id` (its previous one is revoked) and its expiry (monotonic seconds)."""
        now = time.monotonic() if now is None else now
        self._expire(now)
        self.revoke_node(node_id)
        if len(self._codes) >= MAX_LIVE:
            raise LinguaError(common_pb2.NODE_OVERLOADED, "too many live pairing codes; try again later")
        while True:  # at most 90 % taken: a free code in 10 draws on average
            code = f"{secrets.randbelow(1_000_000):06d}"
            if code not in self._codes:
                break
        expires = now + self.ttl_s
        self._codes[code] = _Code(node_id, expires, self.misses)
        self._by_node[node_id] = code
        self._expiry.append((expires, code))
        if len(self._expiry) > 2 * len(self._codes) + 1024:  # mostly used codes: rebuild in issue order
            self._expiry = deque(sorted((e.expires, c) for c, e in self._codes.items()))
        return code, expires

    def redeem(self, code: str, client: str, now: float | None = None) -> str:
        """The node id the code was issued to; the code is used up. Raises INVALID_PAIRING_CODE (or
        RATE_LIMITED while the scheduler as a whole takes no more guesses)."""
        now = time.monotonic() if now is None else now
        self._forget_failures(now)
        failures = self._failures.get(client)
        while failures and failures[0] < now - self.failure_window_s:
            failures.popleft()
        if failures is not None and len(failures) >= self.max_failures:
            retry_ms = int((failures[0] + self.failure_window_s - now) * 1000) + 1
            raise LinguaError(common_pb2.INVALID_PAIRING_CODE,
                              f"too many wrong pairing codes; wait {retry_ms / 1000:.0f} s", retry_after_ms=retry_ms)
        if len(self._recent) >= self.max_global_failures:
            retry_ms = int((self._recent[0] + self.failure_window_s - now) * 1000) + 1
            raise LinguaError(common_pb2.RATE_LIMITED, "too many wrong pairing codes were tried on this "
                              f"scheduler; wait {retry_ms / 1000:.0f} s", retry_after_ms=retry_ms)
        self._expire(now)
        entry = self._codes.get(code)
        if entry is not None and self.misses - entry.misses_at_issue >= self.code_max_misses:
            self._remove(code)  # guessed at too often while it was live: burned
            entry = None
        if entry is None:
            self.misses += 1
            self._recent.append(now)
            failures = self._failures.pop(client, None) or deque()
            failures.append(now)
            self._failures[client] = failures
            raise LinguaError(common_pb2.INVALID_PAIRING_CODE,
                              "pairing code not found or expired; ask the node for a new one")
        self._remove(code)
        return entry.node_id

    def revoke_node(self, node_id: str) -> None:
        code = self._by_node.get(node_id)
        if code is not None:
            self._remove(code)

    def live(self) -> int:
        return len(self._codes)

    def tracked_clients(self) -> int:
        return len(self._failures)

    def _remove(self, code: str) -> None:
        entry = self._codes.pop(code, None)
        if entry is not None and self._by_node.get(entry.node_id) == code:
            del self._by_node[entry.node_id]

    def _expire(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            expires, code = self._expiry.popleft()
            entry = self._codes.get(code)
            if entry is not None and entry.expires == expires:
                self._remove(code)

    def _forget_failures(self, now: float) -> None:
        cutoff = now - self.failure_window_s
        while self._recent and self._recent[0] < cutoff:
            self._recent.popleft()
        while self._failures:
            client, times = next(iter(self._failures.items()))
            if times and times[-1] >= cutoff:
                break
            del self._failures[client]


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
