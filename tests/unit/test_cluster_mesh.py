"""Several Mesh instances sharing the real Redis, in one process and without gRPC: cross-instance
dispatch, no overbooking, failover when the instance owning a node dies, resume on another instance."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from lingua.v1 import common_pb2, node_pb2, session_pb2
from scheduler_svc import cluster
from scheduler_svc.cluster.bridge import ClusterBridge
from scheduler_svc.cluster.keys import Keys
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.mesh import Mesh, NodeLink
from scheduler_svc.registry import NodeState
from scheduler_svc.sessions import Session
from tests.unit.test_mesh import drain, ok, register, utterance

URL = "redis://127.0.0.1:6379/0"


class Instance:
    def __init__(self, mesh: Mesh, bridge: ClusterBridge) -> None:
        self.mesh, self.bridge = mesh, bridge
        self.links: dict[str, NodeLink] = {}

    def node(self, name: str, max_jobs: int = 1) -> NodeLink:
        self.links[name] = register(self.mesh, name, max_jobs)
        return self.links[name]

    def node_says(self, node_id: str, kind: str, msg: Any) -> None:
        """What NodeServicer does with a message from a node connected here."""
        if not self.bridge.from_node(node_id, kind, msg):
            getattr(self.mesh, {"job_ack": "job_acked"}.get(kind, kind))(node_id, msg)

    def session(self) -> Session:
        return self.mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr"))

    async def crash(self) -> None:
        await self.bridge.stop(leave=False)
        await self.mesh.stop()


@pytest.fixture
async def start() -> AsyncIterator[Callable[..., Any]]:
    prefix = f"lingua-test-{secrets.token_hex(4)}"
    made: list[Instance] = []

    async def make(name: str, **kw: Any) -> Instance:
        settings = SchedulerSettings(state_url=URL, state_prefix=prefix, instance_id=name, cluster_heartbeat_ms=100,
                                     ready_after_heartbeats=0, **kw)
        mesh = Mesh(settings)
        bridge = cluster.connect(settings, mesh)
        assert bridge is not None
        await bridge.start()
        mesh.start()
        made.append(Instance(mesh, bridge))
        return made[-1]

    yield make
    for inst in made:
        if inst.bridge._tasks and not all(t.done() for t in inst.bridge._tasks):
            await inst.bridge.stop()
            await inst.mesh.stop()
    client = Redis.from_url(URL)
    found = [k async for k in client.scan_iter(match=f"{prefix}:*")]
    if found:
        await client.delete(*found)
    await client.aclose()


async def until(check: Callable[[], Any], timeout_s: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)
    return value


def next_assign(link: NodeLink) -> Callable[[], node_pb2.JobAssign | None]:
    def check() -> node_pb2.JobAssign | None:
        while not link.outbox.empty():
            msg = link.outbox.get_nowait()
            if msg is not None and msg.HasField("job_assign"):
                return msg.job_assign
        return None
    return check


def remote_ready(inst: Instance, node_id: str) -> Callable[[], bool]:
    def check() -> bool:
        node = inst.mesh.registry.get(node_id)
        return node is not None and node.owner != "" and node.state is NodeState.READY
    return check


def outcomes(session: Session, into: list[session_pb2.ServerMessage]) -> Callable[[], list[Any]]:
    def check() -> list[Any]:
        into.extend(m for m in drain(session) if m.HasField("result") or m.HasField("error"))
        return into
    return check


async def test_a_job_runs_on_a_node_of_another_instance(start: Callable[..., Any]) -> None:
    a, b = await start("inst-a"), await start("inst-b")
    n1 = a.node("n1")
    await until(remote_ready(b, "n1"))
    session = b.session()
    b.mesh.submit_utterance(session, utterance(0, dialect="en-GB"))
    job = await until(next_assign(n1))  # reserved by b, forwarded through a's inbox, sent down a's stream
    assert job.session_id == session.session_id and job.dialect == "en-GB"
    a.node_says("n1", "job_ack", node_pb2.JobAck(job_id=job.job_id, attempt_id=job.attempt_id))
    a.node_says("n1", "asr_partial", common_pb2.AsrPartial(job_id=job.job_id, attempt_id=job.attempt_id, text="he"))
    a.node_says("n1", "job_result", ok(job, "bonjour"))
    got: list[session_pb2.ServerMessage] = []
    [result] = await until(outcomes(session, got))
    assert result.result.text_translated == "bonjour" and result.result.node_id == "n1"
    assert a.mesh.jobs == {} and len(a.bridge.relay) == 0  # a only relayed
    record = await b.bridge.jobs.get(job.job_id)
    assert record["state"] == "done" and record["origin"] == "inst-b"
    await until(lambda: b.mesh.registry.nodes["n1"].reserved == set())
    assert await b.bridge.reservations.holders(["n1"]) == {"n1": []}
    # The same result delivered again (at least once) is not a second outcome.
    a.bridge.relay.track(job.job_id, job.attempt_id, "n1", "inst-b")
    a.node_says("n1", "job_result", ok(job, "encore"))
    await until(lambda: b.mesh.counters["duplicate_results"] == 1)
    assert outcomes(session, [])() == []


async def test_three_instances_never_overbook_a_shared_node(start: Callable[..., Any]) -> None:
    insts = [await start(f"inst-{i}") for i in range(3)]
    link = insts[0].node("n1", max_jobs=2)
    for inst in insts[1:]:
        await until(remote_ready(inst, "n1"))
    sessions = [inst.session() for inst in insts]
    for inst, session in zip(insts, sessions, strict=True):
        for i in range(2):
            inst.mesh.submit_utterance(session, utterance(i))
    done: list[tuple[str, int]] = []
    running: dict[str, node_pb2.JobAssign] = {}
    deadline = time.monotonic() + 15
    while len(done) < 6:
        assert time.monotonic() < deadline, f"stuck after {len(done)} results"
        while (job := next_assign(link)()) is not None:
            running[job.job_id] = job
            assert len(running) <= 2, "node n1 got more jobs than its 2 slots"
        await asyncio.sleep(0.05)
        for job in list(running.values())[:1]:
            del running[job.job_id]
            insts[0].node_says("n1", "job_result", ok(job))
            done.append((job.job_id, job.attempt_id))
    for s in sessions:
        got: list[session_pb2.ServerMessage] = []
        await until(lambda s=s, got=got: len(outcomes(s, got)()) == 2)  # type: ignore[misc]
        assert [m.result.utterance_index for m in got] == [0, 1]


async def test_when_the_owner_instance_dies_its_jobs_go_elsewhere_and_its_inbox_is_reclaimed(
        start: Callable[..., Any]) -> None:
    a, b = await start("inst-a"), await start("inst-b")
    n1, n2 = a.node("n1"), b.node("n2")
    await until(remote_ready(b, "n1"))
    await a.crash()  # SIGKILL-like: no goodbye, presence still looks alive for a moment
    session = b.session()
    b.mesh.submit_utterance(session, utterance(0))
    # n1 ranks first (same score, smaller id): the assign goes to a's inbox, where nobody reads it.
    await until(lambda: b.mesh.counters["dispatched"] == 1)
    assert next_assign(n1)() is None
    job = await until(next_assign(n2))  # a's presence expired: n1 is lost, attempt 2 runs here
    assert job.attempt_id == 2
    b.node_says("n2", "job_result", ok(job, "ici"))
    got: list[session_pb2.ServerMessage] = []
    [result] = await until(outcomes(session, got))
    assert result.result.text_translated == "ici" and result.result.attempt_id == 2
    await until(lambda: b.mesh.counters["reclaimed_entries"] == 1)  # the unread assign, handed back
    keys = Keys(b.bridge.keys.prefix)
    await until(lambda: "inst-a" not in b.bridge.live)
    deadline = time.monotonic() + 5
    while await b.bridge.redis.exists(keys.inbox("inst-a")) or await b.bridge.redis.sismember(keys.instances,
                                                                                              "inst-a"):
        assert time.monotonic() < deadline, "a's inbox was not reclaimed"
        await asyncio.sleep(0.05)
    assert b.mesh.registry.nodes["n1"].state is NodeState.OFFLINE


async def test_a_session_resumes_on_another_instance(start: Callable[..., Any]) -> None:
    a, b = await start("inst-a"), await start("inst-b")
    n2 = b.node("n2")
    await until(remote_ready(a, "n2"))
    session = a.mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr", stream_tts=True))
    await asyncio.sleep(0.1)  # its record is written in the background
    await a.crash()
    with pytest.raises(Exception, match="no session"):
        await b.bridge.resume(session.session_id, "not-the-token", True)
    resumed = await b.bridge.resume(session.session_id, session.resume_token, True)
    assert resumed.session_id == session.session_id and resumed.stream_tts and resumed.tgt_lang == "fr"
    b.mesh.submit_utterance(resumed, utterance(7))  # the client re-sends from its first missing outcome
    job = await until(next_assign(n2))
    b.node_says("n2", "job_result", ok(job))
    [result] = await until(outcomes(resumed, []))
    assert result.result.utterance_index == 7
