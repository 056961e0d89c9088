"""The scheduler's core without gRPC: dispatch, results, failover, ordering, timeouts."""

from __future__ import annotations

import asyncio

import pytest

from lingua.v1 import admin_pb2, common_pb2, node_pb2, session_pb2
from lingua_common.errors import LinguaError
from lingua_common.features import mask_of
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.explain import explain
from scheduler_svc.mesh import Mesh, NodeLink
from scheduler_svc.registry import NodeState
from scheduler_svc.selection import Need
from scheduler_svc.sessions import Session

PCM = common_pb2.Audio(data=bytes(16000), encoding=common_pb2.PCM16, sample_rate_hz=16000)


def register(mesh: Mesh, name: str, max_jobs: int = 1, tgt: tuple[str, ...] = ("en", "fr"),
             public: bool = True) -> NodeLink:
    link = NodeLink(node_id="")
    models = [
        node_pb2.InstalledModel(model_id="asr", kind=node_pb2.MODEL_KIND_ASR, languages=["en"]),
        node_pb2.InstalledModel(model_id="mt", kind=node_pb2.MODEL_KIND_MT,
                                pairs=[common_pb2.LanguagePair(src_lang="en", tgt_lang="fr")]),
        node_pb2.InstalledModel(model_id="tts", kind=node_pb2.MODEL_KIND_TTS, languages=list(tgt)),
    ]
    mesh.register_node(node_pb2.NodeRegister(node_id=name, installed_models=models, max_concurrent_jobs=max_jobs,
                                             accept_public_jobs=public), link)
    return link


def assigns(link: NodeLink) -> list[node_pb2.JobAssign]:
    out = []
    while not link.outbox.empty():
        msg = link.outbox.get_nowait()
        if msg is not None and msg.HasField("job_assign"):
            out.append(msg.job_assign)
    return out


def drain(session: Session) -> list[session_pb2.ServerMessage]:
    out = []
    while not session.outbox.empty():
        msg = session.outbox.get_nowait()
        if msg is not None:
            out.append(msg)
    return out


def ok(job: node_pb2.JobAssign, text: str = "bonjour") -> node_pb2.JobResult:
    return node_pb2.JobResult(job_id=job.job_id, attempt_id=job.attempt_id, success=True,
                              result=common_pb2.TranslationResult(text_asr="hello", text_translated=text),
                              processing_ms=100)


def utterance(index: int, **kw: object) -> session_pb2.Utterance:
    return session_pb2.Utterance(utterance_index=index, audio=PCM, **kw)  # type: ignore[arg-type]


def new_mesh(**kw: object) -> tuple[Mesh, Session]:
    kw.setdefault("ready_after_heartbeats", 0)
    mesh = Mesh(SchedulerSettings(**kw))  # type: ignore[arg-type]
    session = mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr"))
    return mesh, session


async def test_results_are_delivered_in_order_and_slots_are_reserved() -> None:
    mesh, session = new_mesh()
    a, b = register(mesh, "a"), register(mesh, "b")
    for i in range(3):
        mesh.submit_utterance(session, utterance(i))
    [job0], [job1] = assigns(a), assigns(b)  # one slot each: the third waits
    assert mesh.waiting and len(mesh.waiting) == 1
    mesh.job_result("b", ok(job1, "one"))
    assert drain(session) == []  # 1 is held until 0 is ready
    [job2] = assigns(b)  # the freed slot went to the waiting job
    mesh.job_result("a", ok(job0, "zero"))
    mesh.job_result("b", ok(job2, "two"))
    texts = [m.result.text_translated for m in drain(session)]
    assert texts == ["zero", "one", "two"]
    assert all(len(n.reserved) == 0 for n in mesh.registry.nodes.values())


async def test_a_lost_node_s_job_is_redispatched_and_its_stale_result_dropped() -> None:
    mesh, session = new_mesh()
    a, b = register(mesh, "a"), register(mesh, "b")
    mesh.submit_utterance(session, utterance(0))
    first = (assigns(a) + assigns(b))[0]
    victim, survivor = (a, b) if first.job_id in {j for j, _ in mesh.registry.nodes[a.node_id].reserved} else (b, a)
    mesh.node_disconnected(victim)
    assert mesh.registry.nodes[victim.node_id].state is NodeState.OFFLINE
    [retry] = assigns(survivor)
    assert retry.job_id == first.job_id and retry.attempt_id == 2
    mesh.job_result(victim.node_id, ok(first, "stale"))  # the old attempt: ignored
    assert drain(session) == []
    mesh.job_result(survivor.node_id, ok(retry, "fresh"))
    [msg] = drain(session)
    assert msg.result.text_translated == "fresh" and msg.result.attempt_id == 2
    assert mesh.counters["stale_results"] == 1


async def test_no_other_node_left_gives_an_explicit_error_for_that_index() -> None:
    mesh, session = new_mesh()
    a = register(mesh, "a")
    mesh.submit_utterance(session, utterance(0))
    assigns(a)
    mesh.node_disconnected(a)
    [msg] = drain(session)
    assert msg.error.code == common_pb2.NO_AVAILABLE_NODE and msg.error.utterance_index == 0


async def test_attempt_timeout_cancels_on_the_node_and_retries_elsewhere() -> None:
    mesh, session = new_mesh(ack_timeout_ms=300, job_timeout_base_ms=300, job_timeout_per_audio_s_ms=0)
    a, b = register(mesh, "a"), register(mesh, "b")
    mesh.submit_utterance(session, utterance(0))
    first = (assigns(a) + assigns(b))[0]
    await asyncio.sleep(0.4)
    messages = [a.outbox.get_nowait() for _ in range(a.outbox.qsize())] + \
               [b.outbox.get_nowait() for _ in range(b.outbox.qsize())]
    cancels = [m.job_cancel for m in messages if m is not None and m.HasField("job_cancel")]
    retries = [m.job_assign for m in messages if m is not None and m.HasField("job_assign")]
    assert [c.attempt_id for c in cancels] == [1] and cancels[0].job_id == first.job_id
    assert [r.attempt_id for r in retries] == [2]
    await asyncio.sleep(0.35)  # the second attempt times out too; no third node: an explicit error
    [msg] = drain(session)
    assert msg.error.code in (common_pb2.NO_AVAILABLE_NODE, common_pb2.JOB_TIMEOUT)
    assert msg.error.utterance_index == 0


async def test_non_retryable_node_error_is_forwarded_once() -> None:
    mesh, session = new_mesh()
    a = register(mesh, "a")
    register(mesh, "b")
    mesh.submit_utterance(session, utterance(0))
    jobs = assigns(a)
    node = "a" if jobs else "b"
    job = jobs[0] if jobs else assigns(mesh.links["b"])[0]
    mesh.job_result(node, node_pb2.JobResult(job_id=job.job_id, attempt_id=job.attempt_id, success=False,
                                             error=common_pb2.Error(code=common_pb2.INVALID_AUDIO, message="bad")))
    [msg] = drain(session)
    assert msg.error.code == common_pb2.INVALID_AUDIO and msg.error.message == "bad"


async def test_missing_index_becomes_result_timeout_after_the_grace() -> None:
    mesh, session = new_mesh(result_grace_ms=50)
    a = register(mesh, "a", max_jobs=4)
    mesh.submit_utterance(session, utterance(0))
    mesh.submit_utterance(session, utterance(1))
    job0, job1 = assigns(a)
    mesh.job_result("a", ok(job1, "one"))
    await asyncio.sleep(0.1)
    first, second = drain(session)
    assert first.error.code == common_pb2.RESULT_TIMEOUT and first.error.utterance_index == 0
    assert second.result.text_translated == "one"
    mesh.job_result("a", ok(job0, "late"))  # given up: never delivered
    assert drain(session) == []
    assert not mesh.jobs


async def test_language_and_feature_errors_and_reused_indices() -> None:
    mesh, session = new_mesh()
    register(mesh, "a")
    mesh.submit_utterance(session, utterance(0, tgt_lang="de"))
    mesh.submit_utterance(session, utterance(1, features=common_pb2.Features(voice_cloning=True)))
    mesh.submit_utterance(session, utterance(1))
    first, second, third = drain(session)
    assert first.error.code == common_pb2.UNSUPPORTED_LANGUAGE and first.error.utterance_index == 0
    assert second.error.code == common_pb2.UNSUPPORTED_FEATURE and second.error.utterance_index == 1
    assert third.error.code == common_pb2.INVALID_MESSAGE and not third.error.HasField("utterance_index")


async def test_busy_nodes_make_jobs_wait_then_fail_with_retry_hint() -> None:
    mesh, session = new_mesh(queue_timeout_ms=50)
    a = register(mesh, "a")
    mesh.submit_utterance(session, utterance(0))
    mesh.submit_utterance(session, utterance(1))
    [job0] = assigns(a)
    await asyncio.sleep(0.1)
    mesh.job_result("a", ok(job0))
    first, second = drain(session)
    assert first.HasField("result")
    assert second.error.code == common_pb2.NO_AVAILABLE_NODE and second.error.retry_after_ms > 0


async def test_reregistration_keeps_identity_only_with_the_token() -> None:
    mesh, _session = new_mesh()
    link = NodeLink(node_id="")
    reg = mesh.register_node(node_pb2.NodeRegister(), link)
    mesh.node_disconnected(link)
    again = mesh.register_node(node_pb2.NodeRegister(node_id=reg.node_id, auth_token=reg.auth_token), NodeLink(""))
    assert again.node_id == reg.node_id
    assert mesh.registry.nodes[reg.node_id].state is NodeState.READY
    try:
        mesh.register_node(node_pb2.NodeRegister(node_id=reg.node_id, auth_token="wrong"), NodeLink(""))
    except Exception as exc:
        assert "NODE_ID_CONFLICT" in str(exc)
    else:
        raise AssertionError("a wrong token must not take over a node id")


def _events(session: Session) -> list[session_pb2.SessionEvent]:
    return [m.event for m in drain(session) if m.HasField("event")]


async def test_paired_session_uses_its_node_and_falls_back_when_it_cannot() -> None:
    mesh, _ = new_mesh()
    a, b = register(mesh, "a", max_jobs=4), register(mesh, "b", max_jobs=4)
    mesh.pairing_requested("b")
    code = next(m.pairing_code for m in [b.outbox.get_nowait() for _ in range(b.outbox.qsize())]
                if m is not None and m.HasField("pairing_code"))
    assert len(code.code) == 6 and code.expires_at_unix_ms > 0
    session = mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr",
                                                               pairing_code=code.code), client="c1")
    assert mesh.opened(session).assigned_node_id == "b"
    for i in range(3):
        mesh.submit_utterance(session, utterance(i))
    assert len(assigns(b)) == 3 and assigns(a) == []  # b is paired even though a is as idle
    mesh.node_draining("b", "maintenance")
    mesh.submit_utterance(session, utterance(3))
    assert len(assigns(a)) == 1
    [event] = _events(session)
    assert event.kind == session_pb2.SessionEvent.KIND_FALLBACK_TO_POOL and event.node_id == "b"
    with pytest.raises(LinguaError):  # single use
        mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr", pairing_code=code.code))


@pytest.mark.parametrize("pools", ["off", "hash", "capability"])
async def test_a_private_node_serves_only_sessions_paired_with_it(pools: str) -> None:
    mesh, public_session = new_mesh(pools=pools)
    private = register(mesh, "private", max_jobs=4, public=False)
    mesh.submit_utterance(public_session, utterance(0))
    assert assigns(private) == [] and not mesh.waiting  # no public node could ever take it: an error at once
    [failed] = drain(public_session)
    assert failed.error.code == common_pb2.UNSUPPORTED_LANGUAGE and failed.error.utterance_index == 0
    explained = explain(mesh, admin_pb2.ExplainDispatchRequest(src_lang="en", tgt_lang="fr"))
    [excluded] = explained.excluded
    assert excluded.node_id == "private" and "accept_public_jobs" in " ".join(excluded.reasons)
    code, _ = mesh.pairing.issue("private")
    paired = mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr", pairing_code=code))
    mesh.submit_utterance(paired, utterance(0))
    [job] = assigns(private)
    assert job.session_id == paired.session_id
    public = register(mesh, "public", max_jobs=4)
    mesh.submit_utterance(public_session, utterance(1))
    assert {j.utterance_index for j in assigns(public)} >= {1} and assigns(private) == []


async def test_paired_jobs_wait_for_their_busy_node_and_required_pairing_never_falls_back() -> None:
    mesh, _ = new_mesh()
    a, b = register(mesh, "a"), register(mesh, "b")
    code, _ = mesh.pairing.issue("b")
    session = mesh.open_session(session_pb2.OpenSessionRequest(
        src_lang="en", tgt_lang="fr", pairing_code=code, require_paired_node=True))
    mesh.submit_utterance(session, utterance(0))
    mesh.submit_utterance(session, utterance(1))  # b has one slot: this one waits for b, not for a
    [job0] = assigns(b)
    assert assigns(a) == [] and _events(session) == []
    mesh.job_result("b", ok(job0))
    [job1] = assigns(b)
    assert job1.utterance_index == 1
    mesh.node_draining("b", "maintenance")  # not ready any more: required, so the session waits
    mesh.submit_utterance(session, utterance(2))
    assert assigns(a) == [] and len(mesh.waiting) == 1
    assert [e.kind for e in _events(session)] == [session_pb2.SessionEvent.KIND_PAIRED_NODE_UNAVAILABLE]


async def test_audio_chunks_are_sealed_on_is_final_and_after_a_pause() -> None:
    mesh, _ = new_mesh()
    a = register(mesh, "a", max_jobs=4)
    session = mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr", pause_ms=100))
    part = common_pb2.Audio(data=bytes(3200), encoding=common_pb2.PCM16, sample_rate_hz=16000)
    mesh.submit_chunk(session, session_pb2.AudioChunk(seq=0, audio=part))
    assert mesh.submit_chunk(session, session_pb2.AudioChunk(seq=1, audio=part, is_final=True)) == 0
    mesh.submit_chunk(session, session_pb2.AudioChunk(seq=2, audio=part))
    await asyncio.sleep(0.2)  # no chunk for pause_ms: sealed as the next utterance
    jobs = assigns(a)
    assert [(j.utterance_index, len(j.audio.data)) for j in jobs] == [(0, 6400), (1, 3200)]
    events = _events(session)
    assert [e.utterance_index for e in events] == [0, 1]
    mesh.job_result(a.node_id, ok(jobs[0], "bonjour"))
    mesh.submit_chunk(session, session_pb2.AudioChunk(seq=3, audio=part, is_final=True))
    [third] = assigns(a)
    assert "bonjour" in third.context_text  # the previous pair is MT context for the group


async def test_repeated_failures_degrade_a_node_and_it_gets_no_new_jobs() -> None:
    mesh, session = new_mesh(failure_threshold=2)
    a = register(mesh, "a", max_jobs=4)
    register(mesh, "b", max_jobs=4)
    for i in range(4):
        mesh.submit_utterance(session, utterance(i))
    failed_on_a = 0
    for job in assigns(a):
        mesh.job_result("a", node_pb2.JobResult(job_id=job.job_id, attempt_id=job.attempt_id, success=False,
                                                error=common_pb2.Error(code=common_pb2.INTERNAL, message="boom")))
        failed_on_a += 1
    assert failed_on_a >= 2
    assert mesh.registry.nodes["a"].state is NodeState.DEGRADED
    for i in range(2, 6):
        mesh.submit_utterance(session, utterance(i))
    assert assigns(a) == []


async def test_registering_node_waits_for_healthy_heartbeats() -> None:
    mesh = Mesh(SchedulerSettings(ready_after_heartbeats=2))
    session = mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr"))
    a = register(mesh, "a")
    assert mesh.registry.nodes["a"].state is NodeState.REGISTERING
    mesh.submit_utterance(session, utterance(0))
    assert assigns(a) == [] and len(mesh.waiting) == 1  # capable but not ready: it waits
    for _ in range(2):
        mesh.node_heartbeat("a", node_pb2.NodeHeartbeat())
    assert mesh.registry.nodes["a"].state is NodeState.READY
    assert len(assigns(a)) == 1


async def test_two_way_sessions_go_to_nodes_that_run_both_directions() -> None:
    mesh, _ = new_mesh()
    one_way = register(mesh, "one-way", max_jobs=4)
    both = NodeLink("")
    models = [node_pb2.InstalledModel(model_id="asr", kind=node_pb2.MODEL_KIND_ASR, languages=["en", "fr"]),
              node_pb2.InstalledModel(model_id="mt", kind=node_pb2.MODEL_KIND_MT,
                                      pairs=[common_pb2.LanguagePair(src_lang="en", tgt_lang="fr"),
                                             common_pb2.LanguagePair(src_lang="fr", tgt_lang="en")]),
              node_pb2.InstalledModel(model_id="tts", kind=node_pb2.MODEL_KIND_TTS, languages=["en", "fr"])]
    mesh.register_node(node_pb2.NodeRegister(node_id="both", installed_models=models, max_concurrent_jobs=1), both)
    both.node_id = "both"
    session = mesh.open_session(session_pb2.OpenSessionRequest(
        mode=session_pb2.SESSION_MODE_TWO_WAY, lang_a="en", lang_b="fr"))
    mesh.submit_utterance(session, utterance(0))
    [job] = assigns(both)
    assert (job.mode, job.lang_a, job.lang_b) == (session_pb2.SESSION_MODE_TWO_WAY, "en", "fr")
    mesh.submit_utterance(session, utterance(1))  # "both" is busy; the one-way node is no substitute
    assert assigns(one_way) == [] and len(mesh.waiting) == 1


async def test_a_node_declared_offline_for_late_heartbeats_recovers_when_they_resume() -> None:
    mesh, session = new_mesh(heartbeat_interval_ms=100, ready_after_heartbeats=1)
    a = register(mesh, "a")
    mesh.node_heartbeat("a", node_pb2.NodeHeartbeat())
    mesh.submit_utterance(session, utterance(0))
    [job] = assigns(a)
    for node in mesh.registry.expired(0.3, now=mesh.registry.nodes["a"].last_heartbeat + 1):
        mesh._node_lost(node, "no heartbeat")
    assert mesh.registry.nodes["a"].state is NodeState.OFFLINE
    [failed] = drain(session)  # its job had nowhere else to go
    assert failed.error.utterance_index == 0
    mesh.node_heartbeat("a", node_pb2.NodeHeartbeat())  # the stream was alive all along
    assert mesh.registry.nodes["a"].state is NodeState.READY
    mesh.job_result("a", ok(job))  # the old attempt's result is stale now
    assert drain(session) == []
    assert mesh.registry.counts_by_state()["ready"] == 1 and mesh.registry.counts_by_state()["offline"] == 0


async def test_an_accepted_job_that_never_finishes_times_out_and_moves() -> None:
    mesh, session = new_mesh(ack_timeout_ms=5_000, job_timeout_base_ms=200, job_timeout_per_audio_s_ms=0)
    a, b = register(mesh, "a"), register(mesh, "b")
    mesh.submit_utterance(session, utterance(0))
    [first] = assigns(a) + assigns(b)
    owner = "a" if mesh.registry.nodes["a"].reserved else "b"
    mesh.job_acked(owner, node_pb2.JobAck(job_id=first.job_id, attempt_id=1))  # accepted, then silence
    await asyncio.sleep(0.3)
    [retry] = assigns(b if owner == "a" else a)
    assert retry.attempt_id == 2
    assert mesh.registry.nodes[owner].jobs_failed == 1


def test_every_exclusion_reason_is_named() -> None:
    mesh = Mesh(SchedulerSettings(ready_after_heartbeats=0))
    register(mesh, "n", max_jobs=1)
    node = mesh.registry.nodes["n"]
    need = Need(src="de", tgt="es", features_mask=mask_of(["voice_cloning"]), tried=frozenset({"n"}))
    node.reserved.add(("busy", 1))
    mesh.registry.set_state(node, NodeState.DRAINING, "maintenance")
    reasons = mesh.selector.eligible(node, need)
    assert reasons == ["state draining (maintenance)", "no free slot (1/1 jobs reserved)", "no ASR for 'de'",
                       "no MT for de->es", "no TTS for 'es'", "lacks feature(s) voice_cloning",
                       "already tried for this job"]
    two_way = Need(src="en", tgt="fr", two_way=True)
    mesh.registry.set_state(node, NodeState.READY, "")
    node.reserved.clear()
    assert mesh.selector.eligible(node, two_way) == ["two-way: no ASR for 'fr'", "two-way: no MT for fr->en"]
