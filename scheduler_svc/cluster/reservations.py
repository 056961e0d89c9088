"""Reserved slots per node, shared by every instance: a node never gets more jobs than it allows.

One sorted set per node; a member is `job|attempt|instance`, its score the time (Redis clock, ms) at
which the reservation lapses on its own (the job's deadline), so a crashed instance cannot hold a slot
for ever. Reserving is one Lua script: drop lapsed members, then add only while below the node's max.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from redis.asyncio import Redis

from scheduler_svc.cluster.keys import Keys

# Lua prelude: `now`, the Redis clock in ms (one clock for every instance).
NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS[1] reservations of the node; ARGV member, max jobs, ttl ms. Returns 1 (reserved) or 0 (full).
_RESERVE = NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
"""

# KEYS[1] reservations of the node; ARGV instance id. Drops that instance's members; returns how many.
_RELEASE_INSTANCE = """
local suffix = '|' .. ARGV[1]
local dropped = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, -string.len(suffix)) == suffix then
    redis.call('ZREM', KEYS[1], member)
    dropped = dropped + 1
  end
end
return dropped
"""


def member(job_id: str, attempt: int, instance_id: str) -> str:
    return f"{job_id}|{attempt}|{instance_id}"


def parse_member(raw: str) -> tuple[str, int, str]:
    job_id, attempt, instance_id = raw.split("|", 2)
    return job_id, int(attempt), instance_id


class Reservations:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis, self.keys = redis, keys
        self._reserve = redis.register_script(_RESERVE)
        self._release_instance = redis.register_script(_RELEASE_INSTANCE)

    async def reserve(self, node_id: str, member: str, max_jobs: int, ttl_ms: int) -> bool:
        """Take a slot on the node unless it already has max_jobs live reservations (idempotent per member)."""
        return bool(await self._reserve(keys=[self.keys.reserved(node_id)], args=[member, max_jobs, max(1, ttl_ms)]))

    async def release(self, node_id: str, member: str) -> None:
        await self.redis.zrem(self.keys.reserved(node_id), member)

    async def release_instance(self, node_ids: Iterable[str], instance_id: str) -> int:
        """Drop every reservation a dead instance held (its jobs are re-dispatched or gone)."""
        dropped = 0
        for node_id in node_ids:
            dropped += int(await self._release_instance(keys=[self.keys.reserved(node_id)], args=[instance_id]))
        return dropped

    async def holders(self, node_ids: list[str]) -> dict[str, list[str]]:
        """The live reservation members of each node (lapsed ones are left for the next reserve to drop)."""
        now_ms = int(time.time() * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            for node_id in node_ids:
                pipe.zrangebyscore(self.keys.reserved(node_id), now_ms, "+inf")
            answers = await pipe.execute()
        return {n: [m.decode() for m in a] for n, a in zip(node_ids, answers, strict=True)}
