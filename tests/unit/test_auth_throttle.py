"""Failed-authentication throttling and bounded rate-limit buckets at the gateway (no servers; a fake clock)."""

from __future__ import annotations

import pytest

from gateway import keys
from gateway.access import Access
from gateway.authguard import FailedAuthThrottle, client_address, grpc_peer_host
from gateway.quotas import MemorySessionSlots
from gateway.ratelimit import MemoryRateLimiter
from gateway.tenants import TenantStore
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError
from tests.helpers.gateway import quota


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bad_key(n: int, prefix: str = "lk_badbadbad") -> str:
    return f"{prefix}{n:040d}"


def test_a_client_past_its_failures_is_refused_until_its_bucket_refills() -> None:
    clock = Clock()
    throttle = FailedAuthThrottle(failures_per_client=3, failures_per_key=100, window_s=60.0, clock=clock)
    for n in range(3):
        throttle.check("10.0.0.1", bad_key(n))
        throttle.failed("10.0.0.1", bad_key(n))
    with pytest.raises(LinguaError) as refused:
        throttle.check("10.0.0.1", bad_key(99))
    assert refused.value.code == common_pb2.RATE_LIMITED and 0 < refused.value.retry_after_ms <= 20_000
    throttle.check("10.0.0.2", bad_key(99))  # another client is not affected
    clock.now += refused.value.retry_after_ms / 1000
    throttle.check("10.0.0.1", bad_key(99))  # one attempt refilled


def test_a_key_prefix_past_its_failures_is_refused_from_any_client_but_a_known_key_is_not() -> None:
    clock = Clock()
    throttle = FailedAuthThrottle(failures_per_client=100, failures_per_key=2, clock=clock)
    real = keys.generate()
    throttle.succeeded(real)  # it authenticated a moment ago
    guesses = [real[: keys.PREFIX_LEN] + "x" * 40, real[: keys.PREFIX_LEN] + "y" * 40]
    for n, guess in enumerate(guesses):
        throttle.failed(f"10.1.0.{n}", guess)
    with pytest.raises(LinguaError):
        throttle.check("10.9.9.9", real[: keys.PREFIX_LEN] + "z" * 40)
    throttle.check("10.9.9.9", real)  # the working key is not locked out by the guesses
    clock.now += 601  # ... unless it has not authenticated for known_key_ttl_s
    for n, guess in enumerate(guesses):
        throttle.failed(f"10.1.0.{n}", guess)
    with pytest.raises(LinguaError):
        throttle.check("10.9.9.9", real)


def test_the_throttle_stays_bounded_under_distinct_clients_and_keys() -> None:
    clock = Clock()
    throttle = FailedAuthThrottle(failures_per_client=5, failures_per_key=5, max_entries=100, clock=clock)
    for n in range(5000):
        throttle.failed(f"10.{n // 256 % 256}.{n % 256}.{n // 65536}", keys.KEY_PREFIX + f"{n:09d}" + "q" * 40)
        throttle.succeeded(keys.KEY_PREFIX + f"{n:045d}")
        clock.now += 0.001
    assert len(throttle.by_client) <= 100 and len(throttle.by_key) <= 100 and len(throttle) <= 300


async def test_memory_rate_limiter_buckets_are_capped_and_full_ones_pruned() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock, max_buckets=100)
    for n in range(1000):
        await limiter.acquire(f"tn_{n}", rate=10.0, burst=5)
    assert len(limiter) <= 100
    clock.now += 10  # every bucket has refilled: the same as none, so the next overflow drops them all
    for n in range(101):
        await limiter.acquire(f"tn_new_{n}", rate=10.0, burst=5)
    assert len(limiter) <= 100
    assert await limiter.acquire("tn_new_100", rate=10.0, burst=5) == 0.0  # the newest survive


async def test_access_counts_bad_keys_and_refuses_with_rate_limited_before_the_lookup() -> None:
    store = TenantStore("sqlite://", quota())
    throttle = FailedAuthThrottle(failures_per_client=2, failures_per_key=10)
    access = Access(store, MemoryRateLimiter(), MemorySessionSlots(), throttle=throttle)
    try:
        tenant = store.create_tenant("t", quota())
        _, good = store.issue_key(tenant.tenant_id)
        assert (await access.authorize_request(good, "10.0.0.1")).tenant_id == tenant.tenant_id
        for n in range(2):
            with pytest.raises(LinguaError) as unknown:
                await access.authorize_request(bad_key(n), "10.0.0.1")
            assert unknown.value.code == common_pb2.UNAUTHENTICATED
        with pytest.raises(LinguaError) as limited:
            await access.authorize_request(bad_key(3), "10.0.0.1")
        assert limited.value.code == common_pb2.RATE_LIMITED and limited.value.retry_after_ms > 0
        assert (await access.authorize_request(good, "10.0.0.1")).tenant_id == tenant.tenant_id  # known key
        with pytest.raises(LinguaError) as missing:  # no key at all is not a guess: never throttled
            await access.authorize_request(None, "10.0.0.1")
        assert missing.value.code == common_pb2.UNAUTHENTICATED
    finally:
        await access.close()


def test_client_addresses() -> None:
    assert client_address("127.0.0.1", "1.2.3.4", ()) == "127.0.0.1"  # nobody trusted: the peer
    assert client_address("10.0.0.9", "1.2.3.4, 10.0.0.8", ("10.0.0.9", "10.0.0.8")) == "1.2.3.4"
    assert client_address("10.0.0.9", None, ("10.0.0.9",)) == "10.0.0.9"
    assert grpc_peer_host("ipv4:127.0.0.1:5555") == "127.0.0.1"
    assert grpc_peer_host("ipv6:[::1]:5555") == "::1"
    assert grpc_peer_host("unix:/tmp/x") == "unix:/tmp/x"
