"""Who may call the gateway, how often, and how much: the one interface every front door uses.

    access = await Access.from_settings(settings)       # or Access.in_memory() for embedded use and tests
    who = await access.authorize_request(api_key, client_ip)   # UNAUTHENTICATED / RATE_LIMITED
    async with access.session(who):                      # QUOTA_EXCEEDED when the tenant's sessions are full
        await access.add_audio_seconds(who, 2.5)         # QUOTA_EXCEEDED past the tenant's seconds per day
    await access.close()

Database calls run in worker threads, never on the event loop. A looked-up key is trusted for
`key_cache_ttl_s` (default 1 s) before the database is asked again, so a revocation, an expiry or a quota
change takes effect within that time. Rate limits and session counts live in this process, or in Redis when
a redis:// URL is configured (several gateway processes then share one budget per tenant). A client that keeps
presenting bad keys is throttled before any lookup (gateway/authguard.py; per process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway import keys
from gateway.authguard import FailedAuthThrottle
from gateway.config import GatewaySettings
from gateway.quotas import MemorySessionSlots, Quota, RedisSessionSlots, SessionSlots
from gateway.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from gateway.tenants import KeyMatch, TenantStore, now_ms, utc_day
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError

log = logging.getLogger(__name__)

# Cached key lookups kept at most (a flood of made-up keys must not grow memory without bound).
_CACHE_MAX = 10_000
# A daily total no forced count is refused at.
_NO_LIMIT = 1e18


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the tenant a key belongs to, the key, and the tenant's quota when looked up."""

    tenant_id: str
    key_id: str
    quota: Quota


def default_quota(settings: GatewaySettings) -> Quota:
    return Quota(settings.default_requests_per_second, settings.default_burst,
                 settings.default_max_concurrent_sessions, settings.default_audio_seconds_per_day)


def _unauthenticated(why: str) -> LinguaError:
    return LinguaError(common_pb2.UNAUTHENTICATED,
                       f"{why}: send a valid API key as `Authorization: Bearer <key>` (lingua tenant key issue)")


class Access:
    """Authentication, rate limit and quotas over a TenantStore, a RateLimiter and SessionSlots.

    The constructor takes ready parts (it does no I/O); `from_settings` builds them from GatewaySettings and
    `in_memory` makes a throwaway one. Access owns what it is given and closes it in `close()`.
    """

    def __init__(self, store: TenantStore, limiter: RateLimiter, slots: SessionSlots, *,
                 key_cache_ttl_s: float = 1.0, redis: Redis | None = None, lease_ttl_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, throttle: FailedAuthThrottle | None = None) -> None:
        self.store, self.limiter, self.slots = store, limiter, slots
        self.throttle = throttle if throttle is not None else FailedAuthThrottle()
        self.key_cache_ttl_s = key_cache_ttl_s
        self._redis, self._lease_ttl_s, self._clock = redis, lease_ttl_s, clock
        self._cache: dict[str, tuple[float, KeyMatch | None]] = {}  # key hash -> (looked up at, match)
        self._lookups: dict[str, asyncio.Future[KeyMatch | None]] = {}  # in flight, shared by concurrent callers
        self._renewer: asyncio.Task[None] | None = None

    @classmethod
    async def from_settings(cls, settings: GatewaySettings) -> Access:
        """Open the tenants database (migrating it) and, with a redis_url, connect to Redis (fails fast)."""
        store = await asyncio.to_thread(TenantStore, settings.database_url(), default_quota(settings))
        throttle = FailedAuthThrottle(settings.auth_failures_per_client, settings.auth_failures_per_key,
                                      max_entries=settings.max_throttle_entries)
        if settings.redis_url in ("", "memory://"):
            return cls(store, MemoryRateLimiter(max_buckets=settings.max_throttle_entries), MemorySessionSlots(),
                       key_cache_ttl_s=settings.key_cache_ttl_s, throttle=throttle)
        redis = Redis.from_url(settings.redis_url)
        try:
            await redis.ping()
        except Exception:
            await redis.aclose()
            await asyncio.to_thread(store.close)
            raise
        slots = RedisSessionSlots(redis, settings.redis_prefix, settings.session_lease_ttl_s)
        return cls(store, RedisRateLimiter(redis, settings.redis_prefix), slots,
                   key_cache_ttl_s=settings.key_cache_ttl_s, redis=redis, lease_ttl_s=settings.session_lease_ttl_s,
                   throttle=throttle)

    open = from_settings  # the name the gateway server uses

    @classmethod
    def in_memory(cls, quota: Quota | None = None, *, key_cache_ttl_s: float = 1.0) -> Access:
        """Everything in this process: an in-memory SQLite database, in-memory limits (embedded use, tests)."""
        store = TenantStore("sqlite://", quota or default_quota(GatewaySettings()))
        return cls(store, MemoryRateLimiter(), MemorySessionSlots(), key_cache_ttl_s=key_cache_ttl_s)

    # ---- who ----------------------------------------------------------------------------------------

    async def authenticate(self, api_key: str | None) -> Principal:
        """The caller's tenant, or UNAUTHENTICATED for a missing, unknown, revoked or expired key."""
        if not api_key:
            raise _unauthenticated("missing API key")
        match = await self._lookup(api_key)
        if match is None:
            raise _unauthenticated("unknown API key")
        if match.key.revoked_ms:
            raise _unauthenticated(f"API key {match.key.key_id} was revoked")
        if match.key.expires_ms and match.key.expires_ms <= now_ms():
            raise _unauthenticated(f"API key {match.key.key_id} has expired")
        return Principal(match.key.tenant_id, match.key.key_id, match.quota)

    async def _lookup(self, api_key: str) -> KeyMatch | None:
        if not keys.well_formed(api_key):
            return None
        digest = keys.key_hash(api_key)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < self.key_cache_ttl_s:
            return cached[1]
        lookup = self._lookups.get(digest)
        if lookup is None:  # a burst with a cold cache asks the database once, not once per request
            lookup = asyncio.ensure_future(asyncio.to_thread(self.store.find_key, api_key))
            self._lookups[digest] = lookup
            lookup.add_done_callback(lambda done: self._looked_up(digest, now, done))
        # Shielded: one caller giving up must not cancel the lookup the others wait for.
        return await asyncio.shield(lookup)

    def _looked_up(self, digest: str, at: float, done: asyncio.Future[KeyMatch | None]) -> None:
        self._lookups.pop(digest, None)
        if done.cancelled() or done.exception() is not None:
            return
        if len(self._cache) >= _CACHE_MAX:
            self._cache = {d: c for d, c in self._cache.items() if at - c[0] < self.key_cache_ttl_s}
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
        self._cache[digest] = (at, done.result())

    # ---- how often ----------------------------------------------------------------------------------

    async def admit(self, principal: Principal) -> None:
        """Take one request from the tenant's token bucket, or RATE_LIMITED with retry_after_ms."""
        quota = principal.quota
        wait_s = await self.limiter.acquire(principal.tenant_id, quota.requests_per_second, quota.burst)
        if wait_s > 0:
            retry_ms = max(1, math.ceil(wait_s * 1000))
            raise LinguaError(common_pb2.RATE_LIMITED,
                              f"tenant {principal.tenant_id} is over its rate of {quota.requests_per_second:g} "
                              f"requests/s (burst {quota.burst}); retry after {retry_ms} ms",
                              retry_after_ms=retry_ms)

    async def authorize_request(self, api_key: str | None, client: str = "") -> Principal:
        """authenticate, then admit: what every request does first. `client` (the caller's address) is what
        failed attempts are throttled by, together with the key's prefix: RATE_LIMITED once either failed too
        often, before the key is even looked up."""
        if api_key:
            self.throttle.check(client, api_key)
        try:
            principal = await self.authenticate(api_key)
        except LinguaError as exc:
            if api_key and exc.code == common_pb2.UNAUTHENTICATED:
                self.throttle.failed(client, api_key)
            raise
        self.throttle.succeeded(api_key or "")
        await self.admit(principal)
        return principal

    # ---- how much -----------------------------------------------------------------------------------

    def session(self, principal: Principal) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold one of the tenant's concurrent-session slots for the `async with` block; QUOTA_EXCEEDED on
        entry when all are taken."""
        return self._session(principal)

    @contextlib.asynccontextmanager
    async def _session(self, principal: Principal) -> AsyncIterator[None]:
        self._start_renewer()
        tenant_id = principal.tenant_id
        lease = await self.slots.acquire(tenant_id, principal.quota.max_concurrent_sessions)
        try:
            yield
        finally:
            # Shielded: a cancelled session must still give its slot back (or, with Redis, let it lapse).
            await asyncio.shield(self.slots.release(tenant_id, lease))

    async def add_audio_seconds(self, principal: Principal, seconds: float, *, force: bool = False) -> None:
        """Count audio against the tenant's seconds per UTC day; QUOTA_EXCEEDED (nothing counted) when it would
        go past the quota. `force`: count it whatever the total (audio already forwarded, measured after the
        fact); later audio is then refused."""
        if seconds <= 0:
            return
        limit = _NO_LIMIT if force else principal.quota.audio_seconds_per_day
        total = await asyncio.to_thread(self.store.add_audio, principal.tenant_id, seconds, limit, utc_day())
        if total is None:
            to_midnight_ms = (86_400 - int(time.time()) % 86_400) * 1000
            raise LinguaError(common_pb2.QUOTA_EXCEEDED,
                              f"tenant {principal.tenant_id}: {seconds:.1f} s more audio would pass its {limit} "
                              "audio seconds per day (UTC); the count starts again at midnight UTC",
                              retry_after_ms=to_midnight_ms)

    # ---- lifecycle ----------------------------------------------------------------------------------

    def _start_renewer(self) -> None:
        if isinstance(self.slots, RedisSessionSlots) and self._renewer is None:
            self._renewer = asyncio.get_running_loop().create_task(self._renew_leases())

    async def _renew_leases(self) -> None:
        assert isinstance(self.slots, RedisSessionSlots)
        while True:
            await asyncio.sleep(self._lease_ttl_s / 3)
            try:
                await self.slots.renew()
            except Exception:  # Redis away for a moment: the next round tries again before the leases lapse
                log.warning("could not renew session leases in Redis", exc_info=True)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        try:
            await self.slots.close()
            await self.limiter.close()
        finally:
            if self._redis is not None:
                await self._redis.aclose()
            await asyncio.to_thread(self.store.close)
