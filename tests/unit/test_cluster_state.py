"""The shared-state scripts against the real Redis on 127.0.0.1:6379: slots, job lifecycle, presence,
node view, session records. Each test uses its own key prefix and deletes its keys."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from lingua.v1 import session_pb2
from scheduler_svc.cluster.jobs import JobRecords
from scheduler_svc.cluster.keys import Keys
from scheduler_svc.cluster.nodeview import NodeView, record, snapshot
from scheduler_svc.cluster.presence import Presence
from scheduler_svc.cluster.reservations import Reservations, member
from scheduler_svc.cluster.sessions import SessionRecord, SessionRecords
from scheduler_svc.registry import NodeCaps, NodeRecord, NodeState

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def keys() -> AsyncIterator[Keys]:
    prefix = f"lingua-test-{secrets.token_hex(4)}"
    yield Keys(prefix)
    client = Redis.from_url(URL)
    found = [k async for k in client.scan_iter(match=f"{prefix}:*")]
    if found:
        await client.delete(*found)
    await client.aclose()


@pytest.fixture
async def clients() -> AsyncIterator[list[Redis]]:
    """Three separate connections, as three scheduler instances would have."""
    made = [Redis.from_url(URL) for _ in range(3)]
    yield made
    for c in made:
        await c.aclose()


async def test_three_instances_never_overbook_a_node(keys: Keys, clients: list[Redis]) -> None:
    max_jobs = 3
    slots = [Reservations(c, keys) for c in clients]

    async def instance(i: int) -> list[str]:
        won = []
        for j in range(30):
            m = member(f"job-{i}-{j}", 1, f"inst-{i}")
            if await slots[i].reserve("n1", m, max_jobs, 60_000):
                won.append(m)
        return won

    winners = await asyncio.gather(*(instance(i) for i in range(3)))
    assert sum(len(w) for w in winners) == max_jobs
    assert await clients[0].zcard(keys.reserved("n1")) == max_jobs
    # One slot frees: of 3 instances racing for it, exactly one gets it.
    freed = next(w for w in winners if w)[0]
    await slots[0].release("n1", freed)
    raced = await asyncio.gather(*(slots[i].reserve("n1", member(f"late-{i}", 1, f"inst-{i}"), max_jobs, 60_000)
                                   for i in range(3)))
    assert sorted(raced) == [False, False, True]
    assert await clients[0].zcard(keys.reserved("n1")) == max_jobs


async def test_reserve_is_idempotent_lapses_and_dead_instances_are_purged(keys: Keys, clients: list[Redis]) -> None:
    slots = Reservations(clients[0], keys)
    a = member("job-a", 1, "inst-1")
    assert await slots.reserve("n1", a, 1, 60_000)
    assert await slots.reserve("n1", a, 1, 60_000)  # the same reservation again: still one slot
    assert not await slots.reserve("n1", member("job-b", 1, "inst-2"), 1, 60_000)
    assert await slots.release_instance(["n1"], "inst-1") == 1
    assert await slots.reserve("n1", member("job-b", 1, "inst-2"), 1, 50)
    await asyncio.sleep(0.1)  # its job deadline passed: the slot frees itself
    assert await slots.reserve("n1", member("job-c", 1, "inst-3"), 1, 60_000)
    assert await slots.holders(["n1", "n2"]) == {"n1": [member("job-c", 1, "inst-3")], "n2": []}


async def test_job_lifecycle_is_checked_and_finished_jobs_stay_finished(keys: Keys, clients: list[Redis]) -> None:
    jobs = JobRecords(clients[0], keys)
    assert (await jobs.move("j1", "running", 1)).ok is False  # nothing to run yet
    assert (await jobs.move("j1", "queued")).ok
    assert (await jobs.move("j1", "dispatched", 1, "n1", "inst-1", "s1:0")).ok
    assert not (await jobs.move("j1", "dispatched", 1, "n2", "inst-1")).ok  # same attempt twice
    assert not (await jobs.move("j1", "running", 2)).ok  # an attempt that was never dispatched
    assert (await jobs.move("j1", "running", 1)).ok
    assert (await jobs.move("j1", "dispatched", 2, "n2", "inst-1")).ok  # failover
    assert not (await jobs.move("j1", "done", 1)).ok  # the stale attempt's result
    done = await jobs.move("j1", "done", 2)
    assert done.ok and done.state == "done" and done.attempt == 2
    assert not (await jobs.move("j1", "done", 2)).ok  # a duplicate delivery of the same result
    refused = await jobs.move("j1", "dispatched", 3, "n3", "inst-2")  # never re-dispatched once finished
    assert (refused.ok, refused.state, refused.attempt) == (False, "done", 2)
    assert not (await jobs.move("j1", "failed")).ok
    assert await jobs.get("j1") == {"state": "done", "attempt": "2", "node": "n2", "origin": "inst-1",
                                    "request": "s1:0"}
    with pytest.raises(ValueError):
        await jobs.move("j1", "lost")
    # A failed job is final too.
    assert (await jobs.move("j2", "dispatched", 1, "n1", "inst-1")).ok
    assert (await jobs.move("j2", "failed")).ok
    assert not (await jobs.move("j2", "dispatched", 2, "n1", "inst-1")).ok


async def test_concurrent_results_of_one_attempt_finish_it_once(keys: Keys, clients: list[Redis]) -> None:
    jobs = [JobRecords(c, keys) for c in clients]
    await jobs[0].move("j1", "dispatched", 1, "n1", "inst-1")
    answers = await asyncio.gather(*(j.move("j1", "done", 1) for j in jobs for _ in range(5)))
    assert sum(a.ok for a in answers) == 1


async def test_a_request_binds_to_its_newest_job(keys: Keys, clients: list[Redis]) -> None:
    jobs = JobRecords(clients[0], keys)
    assert await jobs.bind("s1:4", "job-a") is None
    assert await jobs.bind("s1:4", "job-a") is None  # the same job again
    assert await jobs.bind("s1:4", "job-b") == "job-a"


async def test_presence_expires_without_heartbeats(keys: Keys, clients: list[Redis]) -> None:
    a = Presence(clients[0], keys, "inst-a", ttl_ms=150)
    b = Presence(clients[1], keys, "inst-b", ttl_ms=10_000)
    await a.beat()
    await b.beat()
    assert await b.scan() == ({"inst-a", "inst-b"}, set())
    await asyncio.sleep(0.3)
    assert await b.scan() == ({"inst-b"}, {"inst-a"})
    await b.forget("inst-a")
    await b.leave()
    assert await a.scan() == (set(), {"inst-b"})


def _node(node_id: str, since_ms: int) -> NodeRecord:
    return NodeRecord(node_id=node_id, auth_token="secret", max_jobs=2, connected_since_ms=since_ms,
                      caps=NodeCaps(frozenset({"en"}), frozenset({("en", "fr")}), frozenset({"fr"}),
                                    frozenset(), 5, frozenset({"en-GB"})))


async def test_node_view_round_trip_and_newest_connection_wins(keys: Keys, clients: list[Redis]) -> None:
    a = NodeView(clients[0], keys, "inst-a", ttl_ms=10_000)
    b = NodeView(clients[1], keys, "inst-b", ttl_ms=10_000)
    await a.publish([_node("n1", since_ms=1000)])
    [snap], gone = await b.read()
    back = record(snap)
    assert gone == [] and back.owner == "inst-a" and back.state is NodeState.READY
    assert back.caps == _node("n1", 1000).caps and back.max_jobs == 2
    assert back.auth_token.startswith("sha256:") and "secret" not in str(snap)
    await b.publish([_node("n1", since_ms=2000)])  # the node reconnected to b
    await a.publish([_node("n1", since_ms=1000)])  # a's stale view must not win
    assert (await a.read())[0][0]["owner"] == "inst-b"
    await a.withdraw("n1")  # not a's any more: stays
    assert len((await a.read())[0]) == 1
    await b.withdraw("n1")
    assert await a.read() == ([], ["n1"])
    assert snapshot(back, "inst-b")["token"] == back.auth_token  # a hashed token is not hashed twice


async def test_session_records_need_the_resume_token(keys: Keys, clients: list[Redis]) -> None:
    store = SessionRecords(clients[0], keys, ttl_ms=10_000)
    request = session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr", pairing_code="123456", stream_tts=True)
    await store.save(SessionRecord("s-1", "tok", "inst-a", "n1", request))
    assert await store.load("s-1", "wrong") is None
    rec = await store.load("s-1", "tok")
    assert rec is not None and (rec.owner, rec.paired_node_id) == ("inst-a", "n1")
    assert rec.request.tgt_lang == "fr" and rec.request.stream_tts and not rec.request.pairing_code
    await store.claim("s-1", "inst-b")
    assert (await store.load("s-1", "tok")).owner == "inst-b"  # type: ignore[union-attr]
    await store.forget("s-1")
    assert await store.load("s-1", "tok") is None
