"""Instance inboxes on the real Redis: acknowledged delivery, reclaim of a dead instance's entries,
dead letters after too many deliveries."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from scheduler_svc.cluster.inbox import ASSIGN, NODE, Entry, Inbox
from scheduler_svc.cluster.keys import Keys

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, Keys]]:
    prefix = f"lingua-test-{secrets.token_hex(4)}"
    client = Redis.from_url(URL)
    yield client, Keys(prefix)
    found = [k async for k in client.scan_iter(match=f"{prefix}:*")]
    if found:
        await client.delete(*found)
    await client.aclose()


def entry(job: str, kind: str = ASSIGN) -> Entry:
    return Entry("", kind, "inst-a", "n1", job, 1, b"\x00payload\xff")


async def test_entries_arrive_in_order_and_leave_when_acknowledged(redis: tuple[Redis, Keys]) -> None:
    client, keys = redis
    a, b = Inbox(client, keys, "inst-a"), Inbox(client, keys, "inst-b")
    await b.ensure_group()
    for i in range(3):
        await a.send("inst-b", entry(f"j{i}"))
    got = await b.read(block_ms=100)
    assert [(e.kind, e.origin, e.node_id, e.job_id, e.attempt, e.payload) for e in got] == [
        (ASSIGN, "inst-a", "n1", f"j{i}", 1, b"\x00payload\xff") for i in range(3)]
    await b.ack(got[0])
    assert await b.read(block_ms=50) == []
    # Handled but not acknowledged: handed out again once idle.
    again = await b.stale(idle_ms=0)
    assert [e.job_id for e in again] == ["j1", "j2"] and all(e.deliveries == 2 for e in again)
    for e in again:
        await b.ack(e)
    assert await client.xlen(keys.inbox("inst-b")) == 0


async def test_a_dead_instances_inbox_is_reclaimed_read_or_not(redis: tuple[Redis, Keys]) -> None:
    client, keys = redis
    dead, survivor = Inbox(client, keys, "inst-dead"), Inbox(client, keys, "inst-c")
    await dead.ensure_group()
    await survivor.send("inst-dead", entry("read-not-acked"))
    assert len(await dead.read(block_ms=50)) == 1  # it read this one, then died
    await survivor.send("inst-dead", entry("never-read", NODE))
    reclaimed = []
    while batch := await survivor.reclaim("inst-dead"):
        for e in batch:
            reclaimed.append(e.job_id)
            await survivor.ack(e)
    assert reclaimed == ["read-not-acked", "never-read"]
    assert await survivor.remove("inst-dead")
    assert not await client.exists(keys.inbox("inst-dead"))


async def test_an_entry_that_keeps_failing_goes_to_the_dead_letters(redis: tuple[Redis, Keys]) -> None:
    client, keys = redis
    b = Inbox(client, keys, "inst-b", max_deliveries=3)
    await b.ensure_group()
    await b.send("inst-b", entry("poison"))
    assert len(await b.read(block_ms=50)) == 1  # delivery 1, its handler crashes (no ack)
    assert [e.deliveries for e in await b.stale(idle_ms=0)] == [2]
    assert [e.deliveries for e in await b.stale(idle_ms=0)] == [3]
    assert await b.stale(idle_ms=0) == []  # the 4th delivery would exceed 3: dead-lettered instead
    [dead] = await b.dead_letters()
    assert dead.job_id == "poison" and dead.payload == b"\x00payload\xff"
    assert await client.xlen(keys.inbox("inst-b")) == 0
