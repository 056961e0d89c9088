"""Token bucket per tenant: `burst` requests at once, refilled at `rate` per second.

`acquire(tenant_id, rate, burst)` takes one token and returns 0.0, or takes nothing and returns how many
seconds until one is there. In memory for one gateway process; in Redis (one atomic Lua script on the Redis
clock) when several gateway processes share one budget.
"""

from __future__ import annotations

import time
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


class MemoryRateLimiter:
    """Buckets in this process. `clock` (monotonic seconds) is injectable so tests need not sleep."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    async def acquire(self, tenant_id: str, rate: float, burst: int) -> float:
        now = self._clock()
        bucket = self._buckets.get(tenant_id)
        if bucket is None:
            bucket = self._buckets[tenant_id] = _Bucket(float(burst), now)
        bucket.tokens, wait = take(bucket.tokens, now - bucket.stamp, rate, burst)
        bucket.stamp = now
        return wait

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
