"""Job records shared by every instance, with their lifecycle checked atomically in Lua.

    queued ──▶ dispatched(attempt n) ──▶ running(n) ──▶ done(n) | failed
       ▲            │   ▲                   │
       └────────────┘   └── dispatched(m > n), a re-dispatch after a lost or failed attempt

done and failed are final: a finished job is never dispatched again, and a second `done` for the same
job (a duplicate delivery of its result, or a late attempt) is refused, which is how results are
deduplicated by (job id, attempt). A request id (session:utterance) binds to the newest job for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from scheduler_svc.cluster.keys import Keys, text

STATES = ("queued", "dispatched", "running", "done", "failed")

# KEYS[1] job hash; ARGV to-state, attempt, node, origin, request id, ttl ms.
# Returns {1|0, state after, attempt after}.
_TRANSITION = """
local state = redis.call('HGET', KEYS[1], 'state')
local cur = tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0')
local to, attempt = ARGV[1], tonumber(ARGV[2])
local live = state == 'dispatched' or state == 'running'
local ok = false
if to == 'queued' then
  ok = (not state) or live
elseif to == 'dispatched' then
  ok = ((not state) or state == 'queued' or live) and attempt > cur
elseif to == 'running' then
  ok = live and attempt == cur
elseif to == 'done' then
  ok = live and attempt == cur
elseif to == 'failed' then
  ok = state ~= 'done' and state ~= 'failed'
end
if not ok then return {0, state or '', cur} end
redis.call('HSET', KEYS[1], 'state', to)
if to == 'dispatched' then
  redis.call('HSET', KEYS[1], 'attempt', attempt, 'node', ARGV[3], 'origin', ARGV[4])
  cur = attempt
end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'request', ARGV[5]) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {1, to, cur}
"""


@dataclass(frozen=True)
class Transition:
    ok: bool
    state: str
    attempt: int


class JobRecords:
    def __init__(self, redis: Redis, keys: Keys, ttl_ms: int = 3_600_000) -> None:
        self.redis, self.keys, self.ttl_ms = redis, keys, ttl_ms
        self._transition = redis.register_script(_TRANSITION)

    async def move(self, job_id: str, to: str, attempt: int = 0, node_id: str = "", origin: str = "",
                   request_id: str = "") -> Transition:
        """Move the job to `to` if the lifecycle allows it; the answer says what the record holds now."""
        if to not in STATES:
            raise ValueError(f"unknown job state {to!r}")
        ok, state, cur = await self._transition(
            keys=[self.keys.job(job_id)], args=[to, attempt, node_id, origin, request_id, self.ttl_ms])
        return Transition(bool(ok), text(state), int(cur))

    async def bind(self, request_id: str, job_id: str) -> str | None:
        """Bind a request to its newest job; returns the job bound before (None if none or the same)."""
        previous = await self.redis.set(self.keys.request(request_id), job_id, px=self.ttl_ms, get=True)
        old = text(previous) if previous else None
        return None if old == job_id else old

    async def get(self, job_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self.keys.job(job_id))
        return {text(k): text(v) for k, v in raw.items()}
