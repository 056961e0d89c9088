"""Pairing codes shared by every instance: a code a node got from one instance is redeemed on any other.

The same rules as `scheduler_svc.pairing.PairingCodes`, kept in Redis by Lua scripts: 6 digits from the OS's
cryptographic RNG (drawn here, Lua has no such RNG), unique among live codes, valid `ttl_s` (Redis clock),
single use, one live code per node (a new one revokes the old, whichever instance issued it); a client that
fails `max_failures` times within the window is refused until the oldest failure ages out, the whole mesh
takes at most `max_global_failures` wrong codes per window (RATE_LIMITED past that), and a live code is burned
after `code_max_misses` wrong guesses made anywhere while it was live. A code remembers the instance that
issued it, so when the node's stream there ends only that instance's codes for it are revoked, not one the
node got since from another.
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

# Codes are expired lazily, at most this many per script run. KEYS[1] codes, KEYS[2] expiry, KEYS[5] misses_at.
_PURGE = """
for _, c in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 256)) do
  redis.call('HDEL', KEYS[1], c)
  redis.call('ZREM', KEYS[2], c)
  redis.call('HDEL', KEYS[5], c)
end
"""

# KEYS codes (code -> node|instance), expiry (code -> ms), issued set of node|instance, the node's code,
# misses_at (code -> misses when issued), misses (counter).
# ARGV code, node|instance, ttl ms, max live, node id. Returns the expiry (ms), 0 (code taken) or -1 (too many).
_ISSUE = NOW + _PURGE + """
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -1 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local old = redis.call('GET', KEYS[4])
if old then
  local holder = redis.call('HGET', KEYS[1], old)
  if holder and string.sub(holder, 1, #ARGV[5] + 1) == ARGV[5] .. '|' then
    redis.call('HDEL', KEYS[1], old)
    redis.call('ZREM', KEYS[2], old)
    redis.call('HDEL', KEYS[5], old)
  end
end
local expires = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], expires, ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], redis.call('GET', KEYS[6]) or '0')
redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return expires
"""

# KEYS codes, expiry, failures of the client, recent failures (anyone), misses_at, misses.
# ARGV code, max failures, window ms, nonce, max failures from anyone, misses that burn a code.
# Returns {'ok', node|instance}, {'bad', ''}, {'throttled', retry ms} or {'capped', retry ms}.
_REDEEM = NOW + _PURGE + """
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return {'throttled', tostring(tonumber(oldest[2]) + window - now + 1)}
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[5]) then
  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  return {'capped', tostring(tonumber(oldest[2]) + window - now + 1)}
end
local holder = redis.call('HGET', KEYS[1], ARGV[1])
local expires = redis.call('ZSCORE', KEYS[2], ARGV[1])
if holder and expires and tonumber(expires) > now then
  local at = tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0')
  local misses = tonumber(redis.call('GET', KEYS[6]) or '0')
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
  if misses - at < tonumber(ARGV[6]) then return {'ok', holder} end
end
redis.call('ZADD', KEYS[3], now, ARGV[4])
redis.call('PEXPIRE', KEYS[3], window)
redis.call('ZADD', KEYS[4], now, ARGV[4])
redis.call('PEXPIRE', KEYS[4], window)
redis.call('INCR', KEYS[6])
return {'bad', ''}
"""

# KEYS codes, expiry, issued set, misses_at. ARGV node|instance. Drops that holder's codes; returns how many.
_REVOKE = """
local dropped = 0
for _, c in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('HGET', KEYS[1], c) == ARGV[1] then
    redis.call('HDEL', KEYS[1], c)
    redis.call('ZREM', KEYS[2], c)
    redis.call('HDEL', KEYS[4], c)
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
                 failure_window_s: float = 60.0, max_global_failures: int = 100, code_max_misses: int = 200) -> None:
        self.redis, self.keys, self.instance_id = redis, keys, instance_id
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.max_failures, self.window_ms = max_failures, max(1, int(failure_window_s * 1000))
        self.max_global_failures, self.code_max_misses = max_global_failures, code_max_misses
        self._issue = redis.register_script(_ISSUE)
        self._redeem = redis.register_script(_REDEEM)
        self._revoke = redis.register_script(_REVOKE)

    def _holder(self, node_id: str) -> str:
        return f"{node_id}|{self.instance_id}"

    def _issue_keys(self, node_id: str) -> list[str]:
        k = self.keys
        return [k.pairing_codes, k.pairing_expiry, k.pairing_issued(self._holder(node_id)), k.pairing_node(node_id),
                k.pairing_misses_at, k.pairing_misses]

    async def issue(self, node_id: str) -> tuple[str, int]:
        """A fresh code for `node_id` (its previous one is revoked) and its expiry (unix ms, Redis clock)."""
        holder = self._holder(node_id)
        script_keys = self._issue_keys(node_id)
        for _ in range(_DRAWS):
            code = f"{secrets.randbelow(1_000_000):06d}"
            with _reachable():
                expires = int(await self._issue(keys=script_keys, args=[code, holder, self.ttl_ms, MAX_LIVE, node_id]))
            if expires > 0:
                return code, expires
            if expires < 0:
                break
        raise LinguaError(common_pb2.NODE_OVERLOADED, "too many live pairing codes; try again later")

    async def redeem(self, code: str, client: str) -> str:
        """The node id the code was issued to; the code is used up. Raises INVALID_PAIRING_CODE (RATE_LIMITED
        while the mesh as a whole takes no more guesses)."""
        k = self.keys
        with _reachable():
            verdict, value = await self._redeem(
                keys=[k.pairing_codes, k.pairing_expiry, k.pairing_failures(client), k.pairing_recent,
                      k.pairing_misses_at, k.pairing_misses],
                args=[code, self.max_failures, self.window_ms, secrets.token_hex(8), self.max_global_failures,
                      self.code_max_misses])
        verdict, value = text(verdict), text(value)
        if verdict == "ok":
            return value.rsplit("|", 1)[0]
        if verdict == "throttled":
            retry_ms = int(value)
            raise LinguaError(common_pb2.INVALID_PAIRING_CODE,
                              f"too many wrong pairing codes; wait {retry_ms / 1000:.0f} s", retry_after_ms=retry_ms)
        if verdict == "capped":
            retry_ms = int(value)
            raise LinguaError(common_pb2.RATE_LIMITED, "too many wrong pairing codes were tried on this mesh; "
                              f"wait {retry_ms / 1000:.0f} s", retry_after_ms=retry_ms)
        raise LinguaError(common_pb2.INVALID_PAIRING_CODE,
                          "pairing code not found or expired; ask the node for a new one")

    async def revoke_node(self, node_id: str) -> int:
        """Drop the codes this instance issued to `node_id` (its stream here ended)."""
        holder = self._holder(node_id)
        k = self.keys
        return int(await self._revoke(keys=[k.pairing_codes, k.pairing_expiry, k.pairing_issued(holder),
                                            k.pairing_misses_at], args=[holder]))

    async def live(self) -> int:
        return int(await self.redis.zcount(self.keys.pairing_expiry, int(time.time() * 1000), "+inf"))
