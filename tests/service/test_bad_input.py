"""Bad input gets the documented error code, and the session keeps working after each."""

from __future__ import annotations

import os

import grpc
import pytest

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import error_from_rpc
from tests.helpers.mesh import (
    Conversation,
    outcome_index,
    running_node,
    running_scheduler,
    speech_wav,
    wav_audio,
)

pytestmark = pytest.mark.models


async def test_bad_utterances_get_typed_errors_and_the_session_carries_on(pipeline) -> None:
    good = wav_audio(speech_wav(pipeline, "I am here on vacation with my family."))
    # Over max_utterance_s (60 s) but under the gRPC receive limit (12 MiB), so it is read and refused by name.
    too_long_pcm = common_pb2.Audio(data=bytes(61 * 16000 * 2), encoding=common_pb2.PCM16, sample_rate_hz=16000)
    cases = [
        (common_pb2.Audio(data=os.urandom(4000), encoding=common_pb2.WAV), common_pb2.INVALID_AUDIO, {}),
        (common_pb2.Audio(data=os.urandom(4000), encoding=common_pb2.OGG_OPUS), common_pb2.INVALID_AUDIO, {}),
        (common_pb2.Audio(data=b"", encoding=common_pb2.PCM16, sample_rate_hz=16000), common_pb2.INVALID_AUDIO, {}),
        (good, common_pb2.UNSUPPORTED_LANGUAGE, {"tgt_lang": "xx"}),
        (good, common_pb2.UNSUPPORTED_LANGUAGE, {"src_lang": "not a language"}),
        (too_long_pcm, common_pb2.PAYLOAD_TOO_LARGE, {}),
        (common_pb2.Audio(data=b"\x01\x02\x03", encoding=common_pb2.PCM16, sample_rate_hz=16000),
         common_pb2.INVALID_AUDIO, {}),
    ]
    async with running_scheduler() as sched, running_node(f"127.0.0.1:{sched.port}", pipeline):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            conv = Conversation(channel)
            await conv.open("en", "fr")
            index = 0
            outcomes = []
            for audio, _code, extra in cases:
                await conv.send(index, audio, **extra)
                await conv.send(index + 1, good)  # the session still works after each bad one
                index += 2
                # One pair at a time: an instant error for a later index would otherwise start the
                # result_grace_ms clock for earlier utterances still queued behind one busy node.
                outcomes += await conv.outcomes(2)
            await conv.close()
    assert [outcome_index(m) for m in outcomes] == list(range(index))
    for n, (_audio, code, _extra) in enumerate(cases):
        bad, after = outcomes[2 * n], outcomes[2 * n + 1]
        assert bad.HasField("error"), bad
        assert bad.error.code == code, (n, bad.error)
        assert bad.error.message
        assert after.HasField("result"), after
        assert after.result.text_translated == "Je suis ici en vacances avec ma famille."


async def test_no_node_means_no_available_node_not_a_hang() -> None:
    async with running_scheduler() as sched:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            audio = common_pb2.Audio(data=bytes(32000), encoding=common_pb2.PCM16, sample_rate_hz=16000)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.Translate(session_pb2.TranslateRequest(audio=audio, src_lang="en", tgt_lang="fr"),
                                     timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    err = error_from_rpc(info.value)
    assert err.code == common_pb2.NO_AVAILABLE_NODE
    assert err.retry_after_ms > 0


async def test_messages_out_of_protocol_get_errors_without_closing_the_stream() -> None:
    async with running_scheduler() as sched:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            call = session_pb2_grpc.SessionServiceStub(channel).Converse()
            # Audio before open: INVALID_SESSION, the stream stays usable.
            await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance()))
            first = await call.read()
            assert first.error.code == common_pb2.INVALID_SESSION
            await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
                src_lang="en", tgt_lang="fr")))
            opened = await call.read()
            assert opened.opened.message == "session created"
            await call.write(session_pb2.ClientMessage(heartbeat=session_pb2.ClientHeartbeat(timestamp_ms=1)))
            beat = await call.read()
            assert beat.heartbeat.timestamp_ms > 1
            await call.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest()))
            closed = await call.read()
            assert closed.closed.session_id == opened.opened.session_id
