"""Pairing codes shared by every instance: a code a node got from one instance is redeemed on any other.

The same rules as `scheduler_svc.pairing.PairingCodes`, kept in Redis by two Lua scripts: 6 digits from
the OS's cryptographic RNG (drawn here, Lua has no such RNG), unique among live codes, valid `ttl_s`
(Redis clock), single use; a client that fails `max_failures` times within the window is refused until
the oldest failure ages out. A code remembers the instance that issued it, so when the node's stream
there ends only that instance's codes for it are revoked, not ones the node got since from another.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError
from scheduler_svc.cluster.keys import Keys, text
from scheduler_svc.cluster.reservations import NOW

# Codes are expired lazily, at most this many per script run.
_PURGE = """
for _, c in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 256)) do
  redis.call('HDEL', KEYS[1], c)
  redis.call('ZREM', KEYS[2], c)
end
"""

# KEYS codes (code -> node|instance), expiry (code -> ms), issued set of node|instance.
# ARGV code, node|instance, ttl ms, max live. Returns the expiry (ms), 0 (code taken) or -1 (too many).
_ISSUE = NOW + _PURGE + """
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -1 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local expires = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], expires, ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return expires
"""

# KEYS codes, expiry, failures of the client. ARGV code, max failures, window ms, nonce.
# Returns {'ok', node|instance}, {'bad', ''} or {'throttled', retry ms}.
_REDEEM = NOW + _PURGE + """
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return {'throttled', tostring(tonumber(oldest[2]) + window - now + 1)}
end
local holder = redis.call('HGET', KEYS[1], ARGV[1])
local expires = redis.call('ZSCORE', KEYS[2], ARGV[1])
if holder and expires and tonumber(expires) > now then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {'ok', holder}
end
redis.call('ZADD', KEYS[3], now, ARGV[4])
redis.call('PEXPIRE', KEYS[3], window)
return {'bad', ''}
"""

# KEYS codes, expiry, issued set. ARGV node|instance. Drops that holder's codes; returns how many.
_REVOKE = """
local dropped = 0
for _, c in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('HGET', KEYS[1], c) == ARGV[1] then
    redis.call('HDEL', KEYS[1], c)
    redis.call('ZREM', KEYS[2], c)
    dropped = dropped + 1
  end
end
redis.call('DEL', KEYS[3])
return dropped
"""

# Six digits give 10^6 codes; refuse well before a random draw would rarely find a free one.
MAX_LIVE = 900_000
_DRAWS = 20


@contextmanager
def _reachable() -> Iterator[None]:
    """A Redis outage is the client's explicit, retryable error, not a broken stream."""
    try:
        yield
    except RedisError as exc:
        raise LinguaError(common_pb2.INTERNAL, f"pairing codes are unavailable ({exc}); try again shortly",
                          retry_after_ms=2_000) from exc


class SharedPairing:
    def __init__(self, redis: Redis, keys: Keys, instance_id: str, ttl_s: float = 300.0, max_failures: int = 5,
                 failure_window_s: float = 60.0) -> None:
        self.redis, self.keys, self.instance_id = redis, keys, instance_id
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.max_failures, self.window_ms = max_failures, max(1, int(failure_window_s * 1000))
        self._issue = redis.register_script(_ISSUE)
        self._redeem = redis.register_script(_REDEEM)
        self._revoke = redis.register_script(_REVOKE)

    def _holder(self, node_id: str) -> str:
        return f"{node_id}|{self.instance_id}"

    def _script_keys(self, third: str) -> list[str]:
        return [self.keys.pairing_codes, self.keys.pairing_expiry, third]

    async def issue(self, node_id: str) -> tuple[str, int]:
        """A fresh code for `node_id` and its expiry (unix ms, Redis clock)."""
        holder = self._holder(node_id)
        for _ in range(_DRAWS):
            code = f"{secrets.randbelow(1_000_000):06d}"
            with _reachable():
                expires = int(await self._issue(keys=self._script_keys(self.keys.pairing_issued(holder)),
                                                args=[code, holder, self.ttl_ms, MAX_LIVE]))
            if expires > 0:
                return code, expires
            if expires < 0:
                break
        raise LinguaError(common_pb2.NODE_OVERLOADED, "too many live pairing codes; try again later")

    async def redeem(self, code: str, client: str) -> str:
        """The node id the code was issued to; the code is used up. Raises INVALID_PAIRING_CODE."""
        with _reachable():
            verdict, value = await self._redeem(keys=self._script_keys(self.keys.pairing_failures(client)),
                                                args=[code, self.max_failures, self.window_ms, secrets.token_hex(8)])
        verdict, value = text(verdict), text(value)
        if verdict == "ok":
            return value.rsplit("|", 1)[0]
        if verdict == "throttled":
            retry_ms = int(value)
            raise LinguaError(common_pb2.INVALID_PAIRING_CODE,
                              f"too many wrong pairing codes; wait {retry_ms / 1000:.0f} s", retry_after_ms=retry_ms)
        raise LinguaError(common_pb2.INVALID_PAIRING_CODE,
                          "pairing code not found or expired; ask the node for a new one")

    async def revoke_node(self, node_id: str) -> int:
        """Drop the codes this instance issued to `node_id` (its stream here ended)."""
        holder = self._holder(node_id)
        return int(await self._revoke(keys=self._script_keys(self.keys.pairing_issued(holder)), args=[holder]))

    async def live(self) -> int:
        return int(await self.redis.zcount(self.keys.pairing_expiry, int(time.time() * 1000), "+inf"))
