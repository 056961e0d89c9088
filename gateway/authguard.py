"""Failed-authentication throttling: a client that keeps presenting bad API keys is refused before any lookup.

Two families of token buckets, each `failures` deep and refilled at `failures` per `window_s`: one per client
address (the peer, or the first untrusted hop of X-Forwarded-For when the peer is a trusted proxy such as
Envoy), one per key prefix (the clear first characters of a key, which name one key in the database). A bad
key (unknown, revoked or expired) takes a token from both; an empty bucket refuses further attempts from that
address, or with that prefix, with RATE_LIMITED and a retry delay (HTTP 429 + Retry-After, gRPC
RESOURCE_EXHAUSTED) without asking the database. A key that authenticated recently is remembered (by its hash)
and is never refused for other clients' failures, so an attacker cannot lock a working key out by guessing
with its prefix, nor lock out a NAT's other users whose keys are known.

Memory is bounded: at most `max_entries` buckets per family and remembered keys; full buckets (no recent
failures) are pruned first, then the oldest. Per gateway process (not shared through Redis).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gateway import keys
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class _Buckets:
    """Failure buckets by name, capped at `max_entries` (LRU order; full ones pruned first)."""

    def __init__(self, depth: int, window_s: float, max_entries: int, clock: Callable[[], float]) -> None:
        self.depth, self.rate, self.max_entries, self._clock = float(depth), depth / window_s, max_entries, clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, bucket: _Bucket, now: float) -> float:
        return min(self.depth, bucket.tokens + (now - bucket.stamp) * self.rate)

    def wait_s(self, name: str) -> float:
        """0 when `name` may try again now, else seconds until it may."""
        bucket = self._buckets.get(name)
        if bucket is None:
            return 0.0
        tokens = self._level(bucket, self._clock())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def fail(self, name: str) -> None:
        now = self._clock()
        bucket = self._buckets.pop(name, None)
        tokens = self.depth if bucket is None else self._level(bucket, now)
        self._buckets[name] = _Bucket(max(0.0, tokens - 1.0), now)
        if len(self._buckets) > self.max_entries:
            self._prune(now)

    def _prune(self, now: float) -> None:
        for name in [n for n, b in self._buckets.items() if self._level(b, now) >= self.depth]:
            del self._buckets[name]  # refilled: the same as no bucket
        while len(self._buckets) > self.max_entries * 3 // 4:
            self._buckets.popitem(last=False)  # the least recently failed


def client_address(peer: str, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """The address to throttle: the peer, or (when the peer is a trusted proxy) the last X-Forwarded-For hop
    that is not one."""
    trusted = set(trusted_proxies)
    if peer not in trusted or not forwarded_for:
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if hop not in trusted:
            return hop[:64]
    return peer


def grpc_peer_host(peer: str) -> str:
    """The host of a gRPC peer string: `ipv4:1.2.3.4:5`, `ipv6:[::1]:5`, `unix:/path`."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        host = rest.rsplit(":", 1)[0] if rest.startswith("[") else rest
        host = host.strip("[]")
        try:
            return str(ipaddress.ip_address(host.split("%", 1)[0]))
        except ValueError:
            return host[:64]
    return peer[:64]


class FailedAuthThrottle:
    def __init__(self, failures_per_client: int = 30, failures_per_key: int = 10, window_s: float = 60.0,
                 max_entries: int = 10_000, known_key_ttl_s: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.by_client = _Buckets(failures_per_client, window_s, max_entries, clock)
        self.by_key = _Buckets(failures_per_key, window_s, max_entries, clock)
        self.max_entries, self.known_key_ttl_s, self._clock = max_entries, known_key_ttl_s, clock
        self._known: OrderedDict[str, float] = OrderedDict()  # key hash -> when it last authenticated

    def _known_key(self, api_key: str) -> bool:
        seen = self._known.get(keys.key_hash(api_key))
        return seen is not None and self._clock() - seen < self.known_key_ttl_s

    def check(self, client: str, api_key: str) -> None:
        """RATE_LIMITED when this client or this key's prefix failed too often lately (and the key is not one
        that authenticated recently)."""
        if self._known_key(api_key):
            return
        wait = max(self.by_client.wait_s(client), self.by_key.wait_s(keys.prefix_of(api_key)))
        if wait > 0:
            retry_ms = max(1, math.ceil(wait * 1000))
            raise LinguaError(common_pb2.RATE_LIMITED,
                              f"too many failed API key attempts from this client; retry after {retry_ms} ms",
                              retry_after_ms=retry_ms)

    def failed(self, client: str, api_key: str) -> None:
        self.by_client.fail(client)
        if keys.well_formed(api_key):  # a malformed key names no row: the client's bucket is enough
            self.by_key.fail(keys.prefix_of(api_key))

    def succeeded(self, api_key: str) -> None:
        digest = keys.key_hash(api_key)
        self._known.pop(digest, None)
        self._known[digest] = self._clock()
        while len(self._known) > self.max_entries:
            self._known.popitem(last=False)

    def __len__(self) -> int:
        """Entries held (tests and the abuse bench check this stays bounded)."""
        return len(self.by_client) + len(self.by_key) + len(self._known)
