"""Bounds on what clients and nodes can make the scheduler hold (issue 16), without gRPC: the utterance-index
window, field limits, one reader per session, the outbox cap, offline nodes forgotten, install watches capped,
and a lone scheduler stopping with an outcome for every utterance."""

from __future__ import annotations

import asyncio

import pytest

from lingua.v1 import common_pb2, node_pb2, session_pb2
from lingua_common.errors import LinguaError
from scheduler_svc import limits
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.drain import drain_alone
from scheduler_svc.installs import InstallRequests
from scheduler_svc.mesh import Mesh, NodeLink
from scheduler_svc.registry import NodeState
from scheduler_svc.server import scheduler_options
from scheduler_svc.sessions import Outbox, Superseded
from tests.unit.test_mesh import assigns, drain, new_mesh, ok, register, utterance


def outcome_indices(messages: list[session_pb2.ServerMessage]) -> list[int]:
    return [m.result.utterance_index if m.HasField("result") else m.error.utterance_index for m in messages
            if m.HasField("result") or (m.HasField("error") and m.error.HasField("utterance_index"))]


async def test_indices_beyond_the_window_are_refused_without_touching_the_order() -> None:
    mesh, session = new_mesh(max_queued_per_session=4, result_grace_ms=10)
    a = register(mesh, "a", max_jobs=8)
    for index in (2**63, 2**64 - 1, 4, 0, 0):  # the last 0 is a duplicate
        mesh.submit_utterance(session, utterance(index))
    refused = [m.error for m in drain(session)]
    assert [e.code for e in refused] == [common_pb2.INVALID_MESSAGE] * 4
    assert not any(e.HasField("utterance_index") for e in refused)  # none of them is in the order
    assert [e.details["utterance_index"] for e in refused] == [str(2**63), str(2**64 - 1), "4", "0"]
    assert session.buffer.pending == 0 and list(session.jobs) == [0]
    # The window moves with what was delivered: after 0, indices up to 4 are welcome.
    [job0] = assigns(a)
    mesh.job_result("a", ok(job0))
    assert outcome_indices(drain(session)) == [0]
    assert mesh.submit_utterance(session, utterance(4)) is True
    assert mesh.submit_utterance(session, utterance(5)) is False
    [job4] = assigns(a)
    mesh.job_result("a", ok(job4))
    await asyncio.sleep(0.05)  # the 10 ms grace runs out: 1..3 were never sent, and only they time out
    out = drain(session)
    assert [m.error.code for m in out[:4]] == [common_pb2.INVALID_MESSAGE] + [common_pb2.RESULT_TIMEOUT] * 3
    assert outcome_indices(out) == [1, 2, 3, 4] and out[4].HasField("result") and len(out) == 5


async def test_over_long_fields_are_typed_errors_in_the_order() -> None:
    mesh, session = new_mesh()
    register(mesh, "a")
    mesh.submit_utterance(session, utterance(0, dialect="x" * 1000))
    [msg] = drain(session)
    assert msg.error.code == common_pb2.INVALID_MESSAGE and msg.error.utterance_index == 0
    assert "dialect is 1000 characters" in msg.error.message
    with pytest.raises(LinguaError) as bad_open:
        mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr", tenant_id="t" * 129))
    assert bad_open.value.code == common_pb2.INVALID_MESSAGE
    glossary = common_pb2.Persona(glossary=["term"] * (limits.GLOSSARY_TERMS + 1))
    with pytest.raises(LinguaError):
        mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr", persona=glossary))
    with pytest.raises(LinguaError) as long_language:
        mesh.open_session(session_pb2.OpenSessionRequest(src_lang="e" * 10_000, tgt_lang="fr"))
    assert len(str(long_language.value)) < 200  # the message never echoes the whole field


async def test_a_node_past_the_model_limits_is_refused_and_its_record_keeps_no_token() -> None:
    mesh = Mesh(SchedulerSettings(ready_after_heartbeats=0))
    link = register(mesh, "a")
    record = mesh.registry.nodes[link.node_id]
    assert isinstance(record.description, node_pb2.NodeRegister) and record.description.auth_token == ""
    assert record.description.installed_models  # what admin listings show is kept
    flood = [node_pb2.InstalledModel(model_id=f"m{i}", kind=node_pb2.MODEL_KIND_ASR, languages=["en"])
             for i in range(limits.NODE_MODELS + 1)]
    with pytest.raises(LinguaError) as refused:
        mesh.register_node(node_pb2.NodeRegister(installed_models=flood), NodeLink(""))
    assert refused.value.code == common_pb2.INVALID_MESSAGE
    with pytest.raises(LinguaError):
        mesh.node_heartbeat(link.node_id, node_pb2.NodeHeartbeat(capabilities_changed=True, installed_models=flood))
    assert len(record.description.installed_models) == 3  # the refused update changed nothing


async def test_offline_nodes_are_forgotten_after_the_ttl() -> None:
    mesh = Mesh(SchedulerSettings(ready_after_heartbeats=0, offline_node_ttl_s=60))
    gone = register(mesh, "gone")
    register(mesh, "stays")
    mesh.node_disconnected(gone)
    offline_at = mesh.registry.nodes["gone"].offline_since
    assert mesh.forget_offline(now=offline_at + 59) == 0
    assert mesh.forget_offline(now=offline_at + 61) == 1
    assert set(mesh.registry.nodes) == {"stays"} and "gone" not in mesh.trackers
    assert mesh.registry.counts_by_state()["offline"] == 0 and mesh.registry.live_count() == 1
    assert mesh.index.capable_ids("en", "fr", 0) == ["stays"]
    # It comes back later: a fresh registration under its old id.
    back = register(mesh, "gone")
    assert mesh.registry.nodes[back.node_id].state is NodeState.READY


async def test_a_new_reader_takes_over_and_the_old_one_gets_nothing_more() -> None:
    outbox = Outbox()
    first = outbox.attach()
    outbox.put_nowait(session_pb2.ServerMessage(heartbeat=session_pb2.ServerHeartbeat(timestamp_ms=1)))
    assert (await outbox.get(first)).heartbeat.timestamp_ms == 1  # type: ignore[union-attr]
    waiting = asyncio.create_task(outbox.get(first))
    await asyncio.sleep(0)
    second = outbox.attach()
    with pytest.raises(Superseded):
        await waiting
    outbox.put_nowait(session_pb2.ServerMessage(heartbeat=session_pb2.ServerHeartbeat(timestamp_ms=2)))
    with pytest.raises(Superseded):
        await outbox.get(first)
    assert (await outbox.get(second)).heartbeat.timestamp_ms == 2  # type: ignore[union-attr]
    assert not outbox.detach(first) and outbox.detach(second) and not outbox.reading


async def test_a_client_that_does_not_read_is_cut_off_with_client_too_slow() -> None:
    mesh, session = new_mesh(max_buffered_messages=4, max_outbox_messages=8, max_queued_per_session=100)
    a = register(mesh, "a", max_jobs=100)
    for i in range(20):
        mesh.submit_utterance(session, utterance(i))
    for job in assigns(a):
        mesh.job_result("a", ok(job))
    await asyncio.sleep(0)  # the mesh ends the session once the overflowing call returned
    out = [session.outbox.get_nowait() for _ in range(session.outbox.qsize())]
    assert outcome_indices([m for m in out if m is not None]) == list(range(8))
    assert out[8] is not None and out[8].error.code == common_pb2.CLIENT_TOO_SLOW
    assert "from 8 on" in out[8].error.message and out[9:] == [None]
    assert session.closed and session.session_id not in mesh.sessions and not mesh.jobs
    assert mesh.registry.nodes["a"].reserved == set()


async def test_unfinished_install_watches_are_capped_and_expire() -> None:
    installs = InstallRequests(ttl_s=3600, max_watches=3)
    watches = [installs.order("node", f"model-{i}", "1")[0] for i in range(5)]
    assert len(installs) == 3
    watches[-1].created -= 7200  # ordered two hours ago and never answered
    installs.order("node", "another", "1")
    assert len(installs) == 3


async def test_stopping_alone_gives_every_utterance_an_outcome_before_the_sessions_end() -> None:
    mesh, session = new_mesh(retry_after_ms=500)
    a = register(mesh, "a", max_jobs=1)
    for i in (0, 1, 3):  # 0 runs, 1 waits for the slot, 2 never comes
        mesh.submit_utterance(session, utterance(i))
    [job0] = assigns(a)
    stopping = asyncio.create_task(drain_alone(mesh, timeout_s=0.3))
    await asyncio.sleep(0.05)
    mesh.submit_utterance(session, utterance(4))  # arrives while stopping: refused in its place
    mesh.job_result("a", ok(job0))  # the running one finishes in time; 1 starts on the freed slot
    [job1] = assigns(a)
    report = await stopping  # 1 and 3 do not finish in time
    out = drain(session)
    assert outcome_indices(out) == [0, 1, 2, 3, 4]
    codes = [m.error.code for m in out if m.HasField("error")]
    assert out[0].HasField("result")
    assert codes == [common_pb2.SESSION_CLOSED, common_pb2.RESULT_TIMEOUT, common_pb2.SESSION_CLOSED,
                     common_pb2.SESSION_CLOSED, common_pb2.SESSION_CLOSED]  # the last one: the session ended
    assert not out[-1].error.HasField("utterance_index")
    assert session.closed and session.ended_by_server and report.sessions == 1
    cancels = [m for m in [a.outbox.get_nowait() for _ in range(a.outbox.qsize())] if m is not None]
    assert [m.job_cancel.job_id for m in cancels if m.HasField("job_cancel")] == [job1.job_id]


def test_the_grpc_server_reads_at_most_an_utterance_and_bounds_streams_per_connection() -> None:
    options = dict(scheduler_options(SchedulerSettings()))
    assert options["grpc.max_receive_message_length"] == 12 * 1024 * 1024
    assert options["grpc.max_receive_message_length"] > 60 * 48_000 * 2 * 2 + 64 * 1024  # 60 s, 48 kHz stereo PCM16
    assert options["grpc.max_send_message_length"] == 64 * 1024 * 1024
    assert options["grpc.max_concurrent_streams"] == 10_000
    assert dict(scheduler_options(SchedulerSettings(max_utterance_s=120)))["grpc.max_receive_message_length"] == (
        23 * 1024 * 1024)
    assert dict(scheduler_options(SchedulerSettings(max_receive_mb=4)))["grpc.max_receive_message_length"] == (
        4 * 1024 * 1024)
