"""Optional modules over gRPC: requested features fill their extras, routing respects who has them,
and switching a module off on a running node reaches the scheduler."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import grpc
import pytest

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import error_from_rpc
from lingua_common.features import FEATURE_NAMES
from node_svc.modules.manager import ModuleManager
from node_svc.pipeline import Pipeline
from tests.helpers.mesh import Conversation, running_node, running_scheduler, speech_wav, wav_audio

pytestmark = pytest.mark.models

SENTENCE = "We are looking for a good restaurant near the river."
ALL = common_pb2.Features(**dict.fromkeys(FEATURE_NAMES, True))


def plain(pipeline: Pipeline) -> Pipeline:
    """The same engines with no optional module, like a node that has none installed."""
    return Pipeline(pipeline.vad, pipeline.asr, pipeline.mt, pipeline.tts, modules=ModuleManager(enabled=[]))


async def test_every_module_fills_its_extra_and_speakers_are_remembered(pipeline) -> None:
    audio = wav_audio(speech_wav(pipeline, SENTENCE))
    persona = common_pb2.Persona(register="formal", remove_fillers=True, glossary=["Lingua"])
    async with running_scheduler() as sched, running_node(f"127.0.0.1:{sched.port}", pipeline):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            conv = Conversation(channel)
            await conv.open("en", "fr", features=ALL, persona=persona)
            await conv.send(0, audio)
            (first,) = await conv.outcomes(1)
            # Sent after the first finished, so the voice is already known to the session.
            await conv.send(1, audio)
            (second,) = await conv.outcomes(1)
            await conv.close()
    for outcome in (first, second):
        assert outcome.HasField("result"), outcome
        x = outcome.result.extras
        assert dict(x.module_errors) == {}, x.module_errors
        assert x.speaker_id == "spk-1"  # the same voice both times, recognised through the session
        assert 1.0 < x.speech_rate_wps < 6.0 and x.speech_rate_sps > x.speech_rate_wps
        assert x.emotion in {"neutral", "excited", "calm", "sad", "angry"}
        assert x.voice_style in {"whisper", "normal", "loud", "fast", "slow"}
        assert 0.6 <= x.tts_length_scale <= 1.6
        assert outcome.result.tts_audio.data
    assert second.result.extras.speaker_similarity > 0.8
    assert first.result.text_translated.startswith("Nous cherchons")


async def test_jobs_needing_a_module_only_go_to_nodes_that_have_it(pipeline) -> None:
    audio = wav_audio(speech_wav(pipeline, SENTENCE))
    emotion = common_pb2.Features(emotion_detection=True)
    async with running_scheduler() as sched:
        address = f"127.0.0.1:{sched.port}"
        async with running_node(address, plain(pipeline), name="plain") as bare, \
                running_node(address, pipeline, name="full") as full:
            async with grpc.aio.insecure_channel(address) as channel:
                stub = session_pb2_grpc.SessionServiceStub(channel)
                for _ in range(3):
                    r = await stub.Translate(session_pb2.TranslateRequest(
                        audio=audio, src_lang="en", tgt_lang="en", features=emotion))
                    assert r.node_id == full.node_id and r.extras.emotion
                # Switched off on the running node: the scheduler learns it on the next heartbeat.
                full.pipeline.modules.set_enabled("emotion_detection", False)
                try:
                    for _ in range(40):
                        node = sched.mesh.registry.nodes[full.node_id]
                        if node.caps.missing_features(1 << FEATURE_NAMES.index("emotion_detection")):
                            break
                        await asyncio.sleep(0.1)
                    with pytest.raises(grpc.aio.AioRpcError) as refused:
                        await stub.Translate(session_pb2.TranslateRequest(
                            audio=audio, src_lang="en", tgt_lang="en", features=emotion))
                    assert error_from_rpc(refused.value).code == common_pb2.UNSUPPORTED_FEATURE
                    plain_result = await stub.Translate(session_pb2.TranslateRequest(
                        audio=audio, src_lang="en", tgt_lang="en"))
                    assert plain_result.node_id in {bare.node_id, full.node_id}
                finally:
                    full.pipeline.modules.set_enabled("emotion_detection", True)


def test_control_api_lists_and_switches_modules(pipeline) -> None:
    from node_svc.control import ControlServer

    manager = ModuleManager()
    server = ControlServer(manager, 0)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}/api/modules"
        rows = json.loads(urllib.request.urlopen(base, timeout=5).read())
        assert {r["name"] for r in rows} == set(FEATURE_NAMES) and all(r["advertised"] for r in rows)
        off = urllib.request.Request(f"{base}/voice_cloning/disable", method="POST", data=b"")
        assert json.loads(urllib.request.urlopen(off, timeout=5).read())["advertised"] is False
        assert "voice_cloning" not in manager.supported()
        bad = urllib.request.Request(f"{base}/telepathy/enable", method="POST", data=b"")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(bad, timeout=5)
        assert missing.value.code == 404
    finally:
        server.stop()
