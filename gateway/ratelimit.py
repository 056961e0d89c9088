"""Token bucket per tenant: `burst` requests at once, refilled at `rate` per second.

`acquire(tenant_id, rate, burst)` takes one token and returns 0.0, or takes nothing and returns how many
seconds until one is there. In memory for one gateway process; in Redis (one atomic Lua script on the Redis
clock) when several gateway processes share one budget.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis


class RateLimiter(Protocol):
    async def acquire(self, tenant_id: str, rate: float, burst: int) -> float: ...

    async def close(self) -> None: ...


def take(tokens: float, elapsed_s: float, rate: float, burst: int) -> tuple[float, float]:
    """One bucket step: (tokens left, seconds to wait) after refilling for `elapsed_s` and taking one token
    (none is taken when the wait is positive)."""
    tokens = min(float(burst), tokens + max(0.0, elapsed_s) * rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    burst: float = 0.0
    rate: float = 0.0


class MemoryRateLimiter:
    """Buckets in this process. `clock` (monotonic seconds) is injectable so tests need not sleep.

    At most `max_buckets` are kept: past that, buckets that have refilled (the same as no bucket) are pruned,
    then the least recently used ones, so memory never grows with the number of distinct callers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_buckets: int = 10_000) -> None:
        self._clock = clock
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    async def acquire(self, tenant_id: str, rate: float, burst: int) -> float:
        now = self._clock()
        bucket = self._buckets.pop(tenant_id, None)
        if bucket is None:
            bucket = _Bucket(float(burst), now, float(burst), rate)
        bucket.tokens, wait = take(bucket.tokens, now - bucket.stamp, rate, burst)
        bucket.stamp, bucket.burst, bucket.rate = now, float(burst), rate
        self._buckets[tenant_id] = bucket  # most recently used last
        if len(self._buckets) > self.max_buckets:
            self._prune(now)
        return wait

    def _prune(self, now: float) -> None:
        full = [name for name, b in self._buckets.items() if b.tokens + (now - b.stamp) * b.rate >= b.burst]
        for name in full:
            del self._buckets[name]
        while len(self._buckets) > self.max_buckets * 3 // 4:
            self._buckets.popitem(last=False)

    async def close(self) -> None:
        self._buckets.clear()


# KEYS[1] the tenant's bucket (hash: tokens, ts in µs on the Redis clock); ARGV rate, burst.
# Returns the wait in seconds as a string (Lua numbers would come back truncated to integers).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(state[1]), tonumber(state[2])
if tokens == nil or ts == nil then tokens, ts = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - ts) / 1000000 * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
-- A full bucket is the same as no bucket: let idle tenants' keys go.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisRateLimiter:
    """Buckets in Redis shared by every gateway with the same Redis and key prefix."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix
        self._acquire = redis.register_script(_ACQUIRE)

    def key(self, tenant_id: str) -> str:
        return f"{self.prefix}:bucket:{{{tenant_id}}}"

    async def acquire(self, tenant_id: str, rate: float, burst: int) -> float:
        answer = await self._acquire(keys=[self.key(tenant_id)], args=[repr(float(rate)), int(burst)])
        return float(answer)

    async def close(self) -> None:
        pass  # the Redis connection belongs to whoever made it
