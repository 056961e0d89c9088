"""Graceful shutdown of one instance of two sharing the real Redis (drain.py): it stops accepting, lets
in-flight jobs finish (its sessions' and the ones it relays for the other instance), then hands sessions
and nodes over; at the deadline it hands over what is left and the work is redone elsewhere. Over gRPC:
handed-over streams end with UNAVAILABLE, new ones are refused, health says NOT_SERVING."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from redis.asyncio import Redis

from lingua.v1 import node_pb2, node_pb2_grpc, session_pb2, session_pb2_grpc
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.drain import drain
from scheduler_svc.mesh import NodeLink
from scheduler_svc.registry import NodeState
from scheduler_svc.server import SchedulerServer
from tests.unit.test_cluster_mesh import URL, next_assign, outcomes, remote_ready, start, until
from tests.unit.test_mesh import ok, utterance

__all__ = ["start"]  # the fixture, used by name


def ended(link: NodeLink) -> Callable[[], bool]:
    """What the NodeServicer does when drain.py ends a node's stream: the node is disconnected."""
    def check() -> bool:
        while not link.outbox.empty():
            if link.outbox.get_nowait() is None:
                return True
        return False
    return check


async def test_in_flight_jobs_finish_before_sessions_and_nodes_are_handed_over(start: Callable[..., Any]) -> None:
    a, b = await start("inst-a"), await start("inst-b")
    n1 = a.node("n1", max_jobs=2)
    await until(remote_ready(b, "n1"))
    here, there = a.session(), b.session()
    a.mesh.submit_utterance(here, utterance(0))
    job_a = await until(next_assign(n1))
    b.mesh.submit_utterance(there, utterance(0))
    job_b = await until(next_assign(n1))  # relayed by a for b
    draining = asyncio.create_task(drain(a.mesh, a.bridge.relay.on_node, timeout_s=10))
    await until(lambda: b.mesh.registry.nodes["n1"].state is NodeState.DRAINING)  # nobody gives it new jobs
    a.mesh.submit_utterance(here, utterance(1))  # no outcome here: the client re-sends it after resuming
    assert a.mesh.counters["left_for_resume"] == 1 and not here.closed
    a.node_says("n1", "job_result", ok(job_a, "a"))
    [mine] = await until(outcomes(here, []))
    assert mine.result.text_translated == "a"
    await until(lambda: here.closed)
    assert here.handed_over and n1.handed_over is False  # n1 still runs b's job
    a.node_says("n1", "job_result", ok(job_b, "b"))
    await until(ended(n1))
    assert n1.handed_over
    a.mesh.node_disconnected(n1)
    report = await asyncio.wait_for(draining, 5)
    assert (report.sessions, report.nodes, report.forced_sessions, report.forced_nodes) == (1, 1, 0, 0)
    [theirs] = await until(outcomes(there, []))
    assert theirs.result.text_translated == "b"  # relayed before the node left
    # The session's record survives for the resume on b.
    resumed = await b.bridge.resume(here.session_id, here.resume_token, True)
    assert resumed.session_id == here.session_id


async def test_at_the_deadline_what_is_left_is_handed_over_and_redone(start: Callable[..., Any]) -> None:
    a, b = await start("inst-a"), await start("inst-b")
    n1, n2 = a.node("n1"), b.node("n2")
    await until(remote_ready(b, "n1"))
    await until(remote_ready(a, "n2"))
    here, there = a.session(), b.session()
    a.mesh.submit_utterance(here, utterance(0))
    b.mesh.submit_utterance(there, utterance(0))
    on_n1, on_n2 = await until(next_assign(n1)), await until(next_assign(n2))  # one job each, either way round
    assert {on_n1.session_id, on_n2.session_id} == {here.session_id, there.session_id}
    report = await drain(a.mesh, a.bridge.relay.on_node, timeout_s=0.3)
    assert (report.sessions, report.forced_sessions, report.nodes) == (1, 1, 1) and here.handed_over
    assert n1.handed_over
    # a's own job on n1 was cancelled with its session, which freed n1; b's job there was forced off it.
    assert report.forced_nodes == (on_n1.session_id == there.session_id)
    if on_n1.session_id == here.session_id:
        cancelled = [m.job_cancel.job_id for m in drain_all(n1) if m is not None and m.HasField("job_cancel")]
        assert cancelled == [on_n1.job_id]
    a.mesh.node_disconnected(n1)
    # a's session resumes on b and its client re-sends the utterance; b re-dispatches its job if it was on n1.
    resumed = await b.bridge.resume(here.session_id, here.resume_token, True)
    b.mesh.submit_utterance(resumed, utterance(0))
    b.node_says("n2", "job_result", ok(on_n2, "first"))
    mine: list[session_pb2.ServerMessage] = []
    theirs: list[session_pb2.ServerMessage] = []
    while not (outcomes(resumed, mine)() and outcomes(there, theirs)()):
        job = await until(next_assign(n2), 10)
        b.node_says("n2", "job_result", ok(job, "again"))
        await asyncio.sleep(0.05)
    assert [m.result.utterance_index for m in mine + theirs] == [0, 0]


def drain_all(link: NodeLink) -> list[node_pb2.SchedulerMessage | None]:
    out = []
    while not link.outbox.empty():
        out.append(link.outbox.get_nowait())
    return out


async def test_over_grpc_streams_end_with_unavailable_and_new_ones_are_refused() -> None:
    prefix = f"lingua-test-{secrets.token_hex(4)}"
    server = SchedulerServer(SchedulerSettings(
        host="127.0.0.1", port=0, metrics_port=-1, state_url=URL, state_prefix=prefix, instance_id="inst-a",
        cluster_heartbeat_ms=100, ready_after_heartbeats=0))
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            node = node_pb2_grpc.NodeServiceStub(channel).Connect()
            await node.write(node_pb2.NodeMessage(register=node_pb2.NodeRegister(display_name="n")))
            assert (await node.read()).HasField("registered")
            sessions = session_pb2_grpc.SessionServiceStub(channel)
            converse = sessions.Converse()
            await converse.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
                src_lang="en", tgt_lang="fr")))
            opened = (await converse.read()).opened
            report = await server.drain()
            assert report is not None and (report.sessions, report.nodes) == (1, 1)
            with pytest.raises(grpc.aio.AioRpcError) as moved:
                while True:
                    await converse.read()
            assert moved.value.code() == grpc.StatusCode.UNAVAILABLE and "resume" in str(moved.value.details())
            with pytest.raises(grpc.aio.AioRpcError) as node_moved:
                while True:  # NodeStatus DRAINING first, then the end
                    await node.read()
            assert node_moved.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "reconnect" in str(node_moved.value.details())
            health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING
            for refused in (sessions.OpenSession(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr")),
                            sessions.OpenSession(session_pb2.OpenSessionRequest(
                                resume_session_id=opened.session_id, resume_token=opened.resume_token))):
                with pytest.raises(grpc.aio.AioRpcError) as no:
                    await refused
                assert no.value.code() == grpc.StatusCode.UNAVAILABLE
            late = sessions.Converse()
            await late.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
                src_lang="en", tgt_lang="fr")))
            with pytest.raises(grpc.aio.AioRpcError) as no_stream:
                await late.read()
            assert no_stream.value.code() == grpc.StatusCode.UNAVAILABLE
            late_node = node_pb2_grpc.NodeServiceStub(channel).Connect()
            with pytest.raises(grpc.aio.AioRpcError) as no_node:
                await late_node.read()
            assert no_node.value.code() == grpc.StatusCode.UNAVAILABLE
            # The session's record is kept: another instance resumes it.
            assert await server.cluster.sessions.load(opened.session_id, opened.resume_token) is not None  # type: ignore[union-attr]
    finally:
        await server.stop(grace_s=1)
        client = Redis.from_url(URL)
        found = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if found:
            await client.delete(*found)
        await client.aclose()
