"""Rate limits and session quotas shared through the real Redis by several gateway processes.

Every test uses its own key prefix and deletes its keys at the end, so runs never collide.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gateway.access import Access
from gateway.config import GatewaySettings
from gateway.quotas import Quota, RedisSessionSlots
from gateway.ratelimit import RedisRateLimiter
from gateway.tenants import TenantStore
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[2]

# One gateway-like process: builds Access from settings (the same Redis and prefix as the others), says
# "ready", then on a line from stdin calls authorize_request `tries` times, `pause_s` apart; or ("hold") holds
# a session until killed.
WORKER = r"""
import asyncio, json, sys
from gateway.access import Access
from gateway.config import GatewaySettings
from lingua_common.errors import LinguaError

async def main(db_url, redis_url, prefix, key, mode, tries, pause_s):
    settings = GatewaySettings(db_url=db_url, redis_url=redis_url, redis_prefix=prefix, session_lease_ttl_s=1.0)
    access = await Access.from_settings(settings)
    try:
        who = await access.authenticate(key)  # the key is looked up before the start, as a warm gateway has it
        if mode == "hold":
            async with access.session(who):
                print("holding", flush=True)
                await asyncio.sleep(3600)
        print("ready", flush=True)
        sys.stdin.readline()
        admitted, retry_ms = 0, []
        for _ in range(int(tries)):
            try:
                await access.authorize_request(key)
                admitted += 1
            except LinguaError as exc:
                retry_ms.append(exc.retry_after_ms)
            await asyncio.sleep(float(pause_s))
        print(json.dumps({"admitted": admitted, "retry_after_ms": retry_ms}), flush=True)
    finally:
        await access.close()

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    name = f"lingua-test-gw-{secrets.token_hex(6)}"
    yield name
    found = [k async for k in redis.scan_iter(match=f"{name}:*")]
    if found:
        await redis.delete(*found)


def _tenant(tmp_path: Path, quota: Quota) -> tuple[str, str, str]:
    """A tenant with one key in a fresh SQLite file every process opens: (db url, tenant id, key)."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    store = TenantStore(url, quota)
    try:
        tenant = store.create_tenant("acme")
        _, key = store.issue_key(tenant.tenant_id)
        return url, tenant.tenant_id, key
    finally:
        store.close()


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WORKER, *args], cwd=ROOT, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)))


async def _line(proc: subprocess.Popen[str], timeout_s: float = 60) -> str:
    assert proc.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout_s)
    assert line, f"worker exited early with {proc.wait()}"
    return line.strip()


async def test_redis_bucket_burst_then_rate_shared_by_two_limiters(redis: Redis, prefix: str) -> None:
    first, second = RedisRateLimiter(redis, prefix), RedisRateLimiter(redis, prefix)
    waits = [await (first if i % 2 else second).acquire("tn_a", 2.0, 4) for i in range(6)]
    assert waits[:4] == [0.0] * 4
    assert 0.4 < waits[4] <= 0.5 and 0.4 < waits[5] <= 0.5  # a refusal takes no token
    assert await first.acquire("tn_b", 2.0, 4) == 0.0  # another tenant, another bucket
    assert 0 < await redis.pttl(first.key("tn_a")) <= 3000  # an idle bucket's key goes away
    await asyncio.sleep(waits[5] + 0.05)
    assert await second.acquire("tn_a", 2.0, 4) == 0.0
    assert await first.acquire("tn_a", 2.0, 4) > 0.4


@pytest.mark.slow
async def test_two_gateway_processes_share_one_budget(tmp_path: Path, prefix: str) -> None:
    # Together the two send ~130 requests/s for about a second: about 3x the budget of burst + 1 s at the rate.
    rate, burst, tries = 20.0, 20, 60
    db_url, _tenant_id, key = _tenant(tmp_path, Quota(rate, burst, 5, 100))
    workers = [_spawn(db_url, REDIS_URL, prefix, key, "hammer", str(tries), "0.015") for _ in range(2)]
    try:
        for w in workers:
            assert await _line(w) == "ready"
        started = time.monotonic()
        for w in workers:
            assert w.stdin is not None
            w.stdin.write("go\n")
            w.stdin.flush()
        results = [json.loads(await _line(w)) for w in workers]
        elapsed = time.monotonic() - started
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
            w.wait()
    admitted = sum(r["admitted"] for r in results)
    refused = [ms for r in results for ms in r["retry_after_ms"]]
    budget = burst + rate * elapsed  # the most one shared bucket can let through in that time
    # About 3x the budget; a loaded machine stretches the run (and so the budget), hence the margin.
    assert admitted + len(refused) == 2 * tries and 2 * tries >= 2 * budget
    assert burst <= admitted <= budget + 1 and abs(admitted - budget) <= 0.1 * budget, (admitted, budget, results)
    assert all(r["admitted"] > 0 for r in results)  # both processes drew on the one budget
    assert refused and all(0 < ms <= 1000 / rate for ms in refused)
    print(f"two processes, {2 * tries} tries: admitted {admitted}, budget {budget:.1f} ({elapsed:.2f} s)")


@pytest.mark.slow
async def test_session_quota_is_shared_and_a_crashed_gateways_sessions_lapse(tmp_path: Path, prefix: str,
                                                                           redis: Redis) -> None:
    db_url, tenant_id, key = _tenant(tmp_path, Quota(100, 100, 1, 100))
    settings = GatewaySettings(db_url=db_url, redis_url=REDIS_URL, redis_prefix=prefix, session_lease_ttl_s=1.0)
    here = await Access.from_settings(settings)
    holder = _spawn(db_url, REDIS_URL, prefix, key, "hold", "0", "0")
    try:
        who = await here.authenticate(key)
        assert await _line(holder) == "holding"
        # Well past the lease TTL: the holder keeps renewing, so its session still counts.
        for _ in range(3):
            with pytest.raises(LinguaError) as full:
                async with here.session(who):
                    pytest.fail("a second session got in while the other gateway holds one")
            assert full.value.code == common_pb2.QUOTA_EXCEEDED
            await asyncio.sleep(0.8)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed = time.monotonic()
        while True:  # no renewals any more: the crashed gateway's lease lapses within its TTL
            try:
                async with here.session(who):
                    assert isinstance(here.slots, RedisSessionSlots) and await here.slots.held(tenant_id) == 1
                break
            except LinguaError as exc:
                assert exc.code == common_pb2.QUOTA_EXCEEDED
                assert time.monotonic() - killed < 3.0, "the dead gateway's session never lapsed"
                await asyncio.sleep(0.1)
        assert await here.slots.held(tenant_id) == 0  # released on leaving the block
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        await here.close()


async def test_redis_session_slots_release_and_close(redis: Redis, prefix: str) -> None:
    a, b = RedisSessionSlots(redis, prefix, ttl_s=5), RedisSessionSlots(redis, prefix, ttl_s=5)
    first = await a.acquire("tn_a", 2)
    await b.acquire("tn_a", 2)
    with pytest.raises(LinguaError) as full:
        await a.acquire("tn_a", 2)
    assert full.value.code == common_pb2.QUOTA_EXCEEDED
    await a.release("tn_a", first)
    assert await a.held("tn_a") == 1
    await a.acquire("tn_a", 2)
    await b.close()  # a gateway shutting down gives back what it holds
    assert await a.held("tn_a") == 1
    await a.renew()
    assert 4000 < await redis.pttl(a.key("tn_a")) <= 5000
