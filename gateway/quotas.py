"""A tenant's quota, and the concurrent-session slots it allows (in this process, or shared through Redis).

Session slots in Redis are leases in one sorted set per tenant: a member is a lease id, its score the time
(Redis clock, ms) at which it lapses. The gateway holding a lease renews it every third of the TTL; a crashed
gateway stops renewing, so its sessions stop counting once their leases lapse.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError


@dataclass(frozen=True)
class Quota:
    requests_per_second: float
    burst: int
    max_concurrent_sessions: int
    audio_seconds_per_day: int

    def check(self) -> Quota:
        """Itself, or INVALID_MESSAGE when a limit is not positive (to stop a tenant, revoke its keys)."""
        if not (self.requests_per_second > 0 and self.burst >= 1 and self.max_concurrent_sessions >= 1
                and self.audio_seconds_per_day >= 1):
            raise LinguaError(common_pb2.INVALID_MESSAGE,
                              f"quota limits must be positive (rate > 0, burst, sessions, audio seconds >= 1): {self}")
        return self

    def updated(self, requests_per_second: float = 0, burst: int = 0, max_concurrent_sessions: int = 0,
                audio_seconds_per_day: int = 0) -> Quota:
        """This quota with every non-zero argument replacing its field (0 = keep)."""
        return Quota(requests_per_second or self.requests_per_second, burst or self.burst,
                     max_concurrent_sessions or self.max_concurrent_sessions,
                     audio_seconds_per_day or self.audio_seconds_per_day)


def sessions_full(tenant_id: str, limit: int) -> LinguaError:
    return LinguaError(common_pb2.QUOTA_EXCEEDED,
                       f"tenant {tenant_id} already has its {limit} concurrent session(s); end one first")


class SessionSlots(Protocol):
    async def acquire(self, tenant_id: str, limit: int) -> str:
        """A lease id for one more session, or QUOTA_EXCEEDED when `limit` are already held."""
        ...

    async def release(self, tenant_id: str, lease: str) -> None: ...

    async def close(self) -> None: ...


class MemorySessionSlots:
    """Counts per tenant in this process (one gateway process, or the embedded mesh)."""

    def __init__(self) -> None:
        self._held: dict[str, set[str]] = {}

    async def acquire(self, tenant_id: str, limit: int) -> str:
        held = self._held.setdefault(tenant_id, set())
        if len(held) >= limit:
            raise sessions_full(tenant_id, limit)
        lease = secrets.token_hex(8)
        held.add(lease)
        return lease

    async def release(self, tenant_id: str, lease: str) -> None:
        held = self._held.get(tenant_id)
        if held is not None:
            held.discard(lease)
            if not held:
                del self._held[tenant_id]

    def held(self, tenant_id: str) -> int:
        return len(self._held.get(tenant_id, ()))

    async def close(self) -> None:
        self._held.clear()


# Lua prelude: `now`, the Redis clock in ms (one clock for every gateway).
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS[1] the tenant's leases; ARGV lease id, limit, ttl ms. Returns 1 (granted) or 0 (full).
_ACQUIRE = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""

# KEYS[1] the tenant's leases; ARGV ttl ms, then lease ids. Extends those that have not lapsed yet.
_RENEW = _NOW + """
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do
  if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[i]) == 1 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return 0
"""


class RedisSessionSlots:
    """Session slots shared by every gateway using the same Redis and key prefix. Call `renew()` every third
    of `ttl_s` (Access does) or sessions lapse after ttl_s."""

    def __init__(self, redis: Redis, prefix: str, ttl_s: float = 30.0) -> None:
        self.redis, self.prefix, self.ttl_ms = redis, prefix, max(1, int(ttl_s * 1000))
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._held: dict[str, str] = {}  # lease id -> tenant id

    def key(self, tenant_id: str) -> str:
        return f"{self.prefix}:sessions:{{{tenant_id}}}"

    async def acquire(self, tenant_id: str, limit: int) -> str:
        lease = secrets.token_hex(8)
        if not await self._acquire(keys=[self.key(tenant_id)], args=[lease, limit, self.ttl_ms]):
            raise sessions_full(tenant_id, limit)
        self._held[lease] = tenant_id
        return lease

    async def release(self, tenant_id: str, lease: str) -> None:
        self._held.pop(lease, None)  # first, so a failed ZREM still lets the lease lapse
        await self.redis.zrem(self.key(tenant_id), lease)

    async def renew(self) -> None:
        by_tenant: dict[str, list[str]] = {}
        for lease, tenant_id in self._held.items():
            by_tenant.setdefault(tenant_id, []).append(lease)
        for tenant_id, leases in by_tenant.items():  # one key per call: fine on Redis Cluster too
            await self._renew(keys=[self.key(tenant_id)], args=[self.ttl_ms, *leases])

    async def held(self, tenant_id: str) -> int:
        """Live leases of a tenant across every gateway (for tests and metrics)."""
        key = self.key(tenant_id)
        now_s, now_us = await self.redis.time()
        return int(await self.redis.zcount(key, now_s * 1000 + now_us // 1000 + 1, "+inf"))

    async def close(self) -> None:
        for lease, tenant_id in list(self._held.items()):
            await self.release(tenant_id, lease)
