"""The in-memory token bucket on an injected clock, and Access turning a refusal into RATE_LIMITED."""

from __future__ import annotations

import pytest

from gateway.access import Access, Principal
from gateway.quotas import MemorySessionSlots, Quota
from gateway.ratelimit import MemoryRateLimiter, take
from gateway.tenants import TenantStore
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


async def _admitted(limiter: MemoryRateLimiter, tenant: str, rate: float, burst: int, tries: int) -> list[float]:
    return [await limiter.acquire(tenant, rate, burst) for _ in range(tries)]


async def test_burst_then_rate() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    waits = await _admitted(limiter, "a", 2.0, 5, 8)
    assert waits[:5] == [0.0] * 5  # the whole burst at once
    assert waits[5:] == [pytest.approx(0.5)] * 3  # then one token per 1/rate s
    clock.now += 0.25
    assert await limiter.acquire("a", 2.0, 5) == pytest.approx(0.25)  # half a token so far
    clock.now += 0.25
    assert await limiter.acquire("a", 2.0, 5) == 0.0
    assert await limiter.acquire("a", 2.0, 5) == pytest.approx(0.5)
    # Over 10 s at 2/s: 20 more requests, no more.
    admitted = 0
    for _ in range(100):
        clock.now += 0.1
        admitted += await limiter.acquire("a", 2.0, 5) == 0.0
    assert admitted == 20


async def test_an_idle_bucket_refills_only_up_to_the_burst() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    await _admitted(limiter, "a", 1.0, 3, 3)
    clock.now += 3600
    waits = await _admitted(limiter, "a", 1.0, 3, 5)
    assert sum(w == 0.0 for w in waits) == 3


async def test_tenants_have_their_own_buckets() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    assert await _admitted(limiter, "a", 1.0, 2, 2) == [0.0, 0.0]
    assert await limiter.acquire("a", 1.0, 2) > 0
    assert await _admitted(limiter, "b", 1.0, 2, 2) == [0.0, 0.0]


def test_bucket_step() -> None:
    assert take(0.0, 0.0, 4.0, 10) == (0.0, 0.25)
    assert take(0.5, 0.0, 1.0, 10) == (0.5, 0.5)
    assert take(9.5, 100.0, 1.0, 10) == (9.0, 0.0)
    assert take(3.0, -5.0, 1.0, 10) == (2.0, 0.0)  # a clock going backwards refills nothing


async def test_access_admit_raises_rate_limited_with_retry_after() -> None:
    clock = FakeClock()
    store = TenantStore("sqlite://", Quota(1, 1, 1, 1))
    access = Access(store, MemoryRateLimiter(clock), MemorySessionSlots(), clock=clock)
    who = Principal("tn_x", "key_x", Quota(requests_per_second=4, burst=2, max_concurrent_sessions=1,
                                             audio_seconds_per_day=1))
    try:
        await access.admit(who)
        await access.admit(who)
        with pytest.raises(LinguaError) as limited:
            await access.admit(who)
        assert limited.value.code == common_pb2.RATE_LIMITED and limited.value.retry_after_ms == 250
        clock.now += 0.25
        await access.admit(who)
    finally:
        await access.close()


async def test_authorize_request_authenticates_then_admits() -> None:
    access = Access.in_memory(Quota(requests_per_second=0.001, burst=3, max_concurrent_sessions=1,
                                    audio_seconds_per_day=1))
    try:
        tenant = access.store.create_tenant("acme")
        _, key = access.store.issue_key(tenant.tenant_id)
        with pytest.raises(LinguaError) as nobody:
            await access.authorize_request("lk_made_up_key_xxxxxxxxxxxxxxxxxxxxxxx")
        assert nobody.value.code == common_pb2.UNAUTHENTICATED
        assert [(await access.authorize_request(key)).tenant_id for _ in range(3)] == [tenant.tenant_id] * 3
        with pytest.raises(LinguaError) as limited:
            await access.authorize_request(key)
        assert limited.value.code == common_pb2.RATE_LIMITED and limited.value.retry_after_ms > 900_000
    finally:
        await access.close()
