"""Original-protocol (JSON) nodes through the wirecompat adapter, beside a native node, on a real mesh.

Real scheduler, gateway, native node and `/ws/node` adapter on ephemeral ports; the JSON node is an
independent client of the original node protocol (tests/helpers/legacy_node.py) that runs the real
pipeline. The scheduler is not told which nodes speak JSON: it lists, scores and fails them over as usual.
"""

from __future__ import annotations

import asyncio
import io
import platform
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc
import pytest
import websockets

from lingua.v1 import admin_pb2, admin_pb2_grpc, node_pb2
from node_svc.agent import NodeAgent
from tests.helpers.gateway import GatewayEnv, running_gateway
from tests.helpers.legacy_client import LegacySessionClient, pcm16_16k
from tests.helpers.legacy_node import LegacyNode
from tests.helpers.mesh import Conversation, outcome_index, running_node, running_scheduler, speech_wav, wav_audio
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate
from wirecompat.config import CompatSettings
from wirecompat.server import CompatServer

pytestmark = pytest.mark.models


@dataclass
class Mesh:
    env: GatewayEnv
    compat: CompatServer
    native: NodeAgent
    admin: admin_pb2_grpc.SchedulerAdminStub
    channel: grpc.aio.Channel

    @property
    def node_url(self) -> str:
        return f"ws://127.0.0.1:{self.compat.port}/ws/node"

    async def node(self, node_id: str) -> admin_pb2.NodeInfo | None:
        nodes = (await self.admin.ListNodes(admin_pb2.ListNodesRequest())).nodes
        return next((n for n in nodes if n.node_id == node_id), None)


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def mesh(pipeline) -> AsyncIterator[Mesh]:
    # A short ack timeout: a job nobody acknowledges is re-dispatched after 0.8 s (see the early node below).
    async with running_scheduler(ack_timeout_ms=800) as sched, \
            running_gateway(f"127.0.0.1:{sched.port}") as server:
        env = GatewayEnv(sched, server)
        compat = CompatServer(CompatSettings(host="127.0.0.1", port=0, scheduler=env.scheduler_address,
                                             node_max_jobs=1))
        await compat.start()
        try:
            async with running_node(env.scheduler_address, pipeline, name="native") as native, \
                    grpc.aio.insecure_channel(env.scheduler_address) as channel:
                yield Mesh(env, compat, native, admin_pb2_grpc.SchedulerAdminStub(channel), channel)
        finally:
            await compat.stop()


@pytest.fixture
async def json_node(mesh: Mesh, pipeline, request: pytest.FixtureRequest) -> AsyncIterator[LegacyNode]:
    node = LegacyNode(mesh.node_url, pipeline, **getattr(request, "param", {}))
    await node.start()

    async def ready() -> bool:
        info = await mesh.node(node.node_id)
        return info is not None and info.state == node_pb2.NODE_STATE_READY

    await _until(ready)
    yield node
    await node.close()


@pytest.fixture(scope="module")
def wavs(pipeline) -> list[bytes]:
    return [speech_wav(pipeline, s) for s in SPEECH_SENTENCES[:2]]


def _check_fr(text_asr: str, text_translated: str, sentence: str) -> None:
    assert word_error_rate(sentence, text_asr) <= 0.2, text_asr
    assert text_translated == phrasebook()[sentence]


# A seed-era node that answers slowly and never acknowledges: the adapter's JobAck keeps its jobs its own.
@pytest.mark.parametrize("json_node", [{"early": True, "think_s": 1.5}], indirect=True, ids=["early-node"])
async def test_json_node_is_listed_and_shares_jobs_with_a_native_node(mesh: Mesh, json_node: LegacyNode,
                                                                      wavs: list[bytes]) -> None:
    async def reported_usage() -> bool:
        info = await mesh.node(json_node.node_id)
        return info is not None and info.resource_usage.cpu_percent == pytest.approx(12.5)

    await _until(reported_usage)  # the node's own heartbeat numbers, relayed by the adapter
    info = await mesh.node(json_node.node_id)
    assert info is not None
    assert (info.platform, info.version, info.max_concurrent_jobs) == (platform.system().lower(), "1.0.0", 1)
    assert info.hardware.memory_mb == 16 * 1024 and info.hardware.gpus[0].name == "RTX 3060"
    assert list(info.asr_languages) == ["en"] and "fr" in info.tts_languages
    assert [(p.src_lang, p.tgt_lang) for p in info.mt_pairs] == [("en", "fr")]

    # Two utterances at once on two single-slot nodes: each node gets one.
    conv = Conversation(mesh.channel)
    await conv.open("en", "fr")
    for i, wav in enumerate(wavs):
        await conv.send(i, wav_audio(wav))
    outcomes = await conv.outcomes(2)
    await conv.close()
    assert [outcome_index(m) for m in outcomes] == [0, 1]
    assert all(m.HasField("result") for m in outcomes), outcomes
    assert {m.result.node_id for m in outcomes} == {json_node.node_id, mesh.native.node_id}
    for m, sentence in zip(outcomes, SPEECH_SENTENCES, strict=False):
        _check_fr(m.result.text_asr, m.result.text_translated, sentence)
    served = next(m.result for m in outcomes if m.result.node_id == json_node.node_id)
    with wave.open(io.BytesIO(served.tts_audio.data)) as w:  # the node's WAV, passed through as WAV
        assert w.getnframes() / w.getframerate() > 0.5
    assigned = next(f for f in json_node.received if f["type"] == "job_assign")
    assert assigned["pipeline"] == {"use_asr": True, "use_nmt": True, "use_tts": True}
    assert assigned["attempt_id"] == 1 and assigned["job_id"] == served.job_id
    assert mesh.env.scheduler.mesh.counters["redispatched"] == 0


async def test_killing_a_json_node_mid_job_fails_its_job_over_to_the_native_node(
        mesh: Mesh, json_node: LegacyNode, wavs: list[bytes]) -> None:
    redispatched = mesh.env.scheduler.mesh.counters["redispatched"]
    json_node.hold()
    conv = Conversation(mesh.channel)
    await conv.open("en", "fr")
    for i, wav in enumerate(wavs):
        await conv.send(i, wav_audio(wav))
    held = await json_node.held_job()
    await json_node.kill()  # the held job dies with the socket

    outcomes = await conv.outcomes(2)
    await conv.close()
    assert [outcome_index(m) for m in outcomes] == [0, 1]
    assert all(m.HasField("result") for m in outcomes), outcomes
    assert {m.result.node_id for m in outcomes} == {mesh.native.node_id}
    rerun = next(m.result for m in outcomes if m.result.job_id == held["job_id"])
    assert rerun.attempt_id == 2  # the same job, a new attempt on the native node
    assert mesh.env.scheduler.mesh.counters["redispatched"] > redispatched

    async def offline() -> bool:
        info = await mesh.node(json_node.node_id)
        return info is not None and info.state == node_pb2.NODE_STATE_OFFLINE

    await _until(offline, 10)


async def test_mixed_native_session_on_a_json_node_and_json_session_on_a_native_node(
        mesh: Mesh, json_node: LegacyNode, wavs: list[bytes]) -> None:
    # A native gRPC session paired with the JSON node (request_pairing_code went unanswered in the original).
    code = await json_node.request_pairing_code()
    conv = Conversation(mesh.channel)
    opened = await conv.open("en", "fr", pairing_code=code)
    assert opened.assigned_node_id == json_node.node_id
    await conv.send(0, wav_audio(wavs[0]))
    [outcome] = await conv.outcomes(1)
    await conv.close()
    assert outcome.HasField("result") and outcome.result.node_id == json_node.node_id, outcome
    _check_fr(outcome.result.text_asr, outcome.result.text_translated, SPEECH_SENTENCES[0])

    # A JSON session through the gateway, en->en: only the native node speaks English.
    native_done = (await mesh.node(mesh.native.node_id)).jobs_completed  # type: ignore[union-attr]
    key = (await mesh.env.tenant()).key
    async with websockets.connect(f"{mesh.env.ws_url}/ws/session?api_key={key}", max_size=None) as ws:
        client = LegacySessionClient(ws)
        ack = await client.init("en", "en")
        assert ack["type"] == "session_init_ack", ack
        await client.utterance(0, pcm16_16k(wavs[1]), src_lang="en", tgt_lang="en")
        result = await client.next("translation_result", "error")
        assert result["type"] == "translation_result", result
        assert word_error_rate(SPEECH_SENTENCES[1], result["text_asr"]) <= 0.2, result["text_asr"]
        assert (await client.close())["type"] == "session_close_ack"
    assert (await mesh.node(mesh.native.node_id)).jobs_completed == native_done + 1  # type: ignore[union-attr]


async def test_a_returning_node_keeps_its_id_and_nobody_takes_another_nodes_id(mesh: Mesh, pipeline) -> None:
    first = LegacyNode(mesh.node_url, pipeline)
    node_id = (await first.start())["node_id"]
    await first.close()
    again = LegacyNode(mesh.node_url, pipeline)
    ack = await again.start(node_id)  # reconnecting with the id it stored, as the Electron agent does
    assert ack == {"type": "node_register_ack", "node_id": node_id, "message": "registered", "status": "registering"}
    impostor = LegacyNode(mesh.node_url, pipeline)
    taken = await impostor.start(mesh.native.node_id)  # an id the adapter cannot vouch for: a fresh one
    assert taken["node_id"] not in (mesh.native.node_id, node_id)
    native = await mesh.node(mesh.native.node_id)
    assert native is not None and native.state == node_pb2.NODE_STATE_READY  # undisturbed
    await again.close()
    await impostor.close()
