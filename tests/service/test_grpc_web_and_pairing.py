"""grpc-web style sessions (OpenSession / PushAudio / Subscribe / CloseSession) and pairing, over gRPC."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import error_from_rpc
from tests.helpers.mesh import (
    is_outcome,
    outcome_index,
    read_to_end,
    running_node,
    running_scheduler,
    speech_wav,
    wav_audio,
)

pytestmark = pytest.mark.models

HELLO = "Good morning, how are you today?"


async def _next_outcome(stream: grpc.aio.UnaryStreamCall) -> session_pb2.ServerMessage:
    while True:
        msg = await asyncio.wait_for(stream.read(), 60)
        assert msg is not grpc.aio.EOF
        if msg.HasField("result") or msg.HasField("error"):
            return msg


async def test_unary_session_survives_a_dropped_subscribe_and_resumes(pipeline) -> None:
    audio = wav_audio(speech_wav(pipeline, HELLO))
    async with running_scheduler() as sched, running_node(f"127.0.0.1:{sched.port}", pipeline):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            opened = await stub.OpenSession(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="en"))
            sub = stub.Subscribe(session_pb2.SubscribeRequest(session_id=opened.session_id,
                                                              resume_token=opened.resume_token))
            pushed = await stub.PushAudio(session_pb2.PushAudioRequest(utterance=session_pb2.Utterance(
                session_id=opened.session_id, utterance_index=0, audio=audio)))
            assert pushed.accepted and pushed.utterance_index == 0
            first = await _next_outcome(sub)
            assert first.result.utterance_index == 0 and "morning" in first.result.text_asr.lower()
            sub.cancel()  # the browser tab lost its connection
            # Audio keeps coming, streamed as chunks; the result is produced while nobody listens.
            pcm = common_pb2.Audio(data=audio.data[44:], encoding=common_pb2.PCM16,
                                   sample_rate_hz=pipeline.tts.sample_rate)
            half = len(pcm.data) // 2 // 2 * 2
            for seq, (part, final) in enumerate(((pcm.data[:half], False), (pcm.data[half:], True))):
                chunk = session_pb2.AudioChunk(session_id=opened.session_id, seq=seq, is_final=final,
                                               audio=common_pb2.Audio(data=part, encoding=common_pb2.PCM16,
                                                                      sample_rate_hz=pcm.sample_rate_hz))
                reply = await stub.PushAudio(session_pb2.PushAudioRequest(audio_chunk=chunk))
            assert reply.utterance_index == 1  # sealed by is_final, numbered by the scheduler
            await asyncio.sleep(3)
            with pytest.raises(grpc.aio.AioRpcError) as bad_token:
                await stub.Subscribe(session_pb2.SubscribeRequest(
                    session_id=opened.session_id, resume_token="wrong")).read()
            assert error_from_rpc(bad_token.value).code == common_pb2.INVALID_SESSION
            resumed = stub.Subscribe(session_pb2.SubscribeRequest(session_id=opened.session_id,
                                                                  resume_token=opened.resume_token))
            second = await _next_outcome(resumed)
            assert second.result.utterance_index == 1 and "morning" in second.result.text_asr.lower()
            closed = await stub.CloseSession(session_pb2.CloseSessionRequest(session_id=opened.session_id))
            assert closed.session_id == opened.session_id
            assert await resumed.read() is grpc.aio.EOF


async def test_pairing_code_binds_a_session_to_its_node(pipeline) -> None:
    audio = wav_audio(speech_wav(pipeline, HELLO))
    async with running_scheduler() as sched:
        address = f"127.0.0.1:{sched.port}"
        async with running_node(address, pipeline, name="other"), running_node(address, pipeline, name="mine") as mine:
            code = await mine.request_pairing_code()
            assert len(code.code) == 6 and code.code.isdigit()
            async with grpc.aio.insecure_channel(address) as channel:
                stub = session_pb2_grpc.SessionServiceStub(channel)
                paired = await stub.Translate(session_pb2.TranslateRequest(
                    audio=audio, src_lang="en", tgt_lang="en", pairing_code=code.code))
                assert paired.node_id == mine.node_id
                with pytest.raises(grpc.aio.AioRpcError) as reused:
                    await stub.Translate(session_pb2.TranslateRequest(audio=audio, src_lang="en", tgt_lang="en",
                                                                      pairing_code=code.code))
                assert error_from_rpc(reused.value).code == common_pb2.INVALID_PAIRING_CODE
                # A Converse session paired with a fresh code keeps every job on that node.
                code2 = await mine.request_pairing_code()
                call = stub.Converse()
                await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
                    src_lang="en", tgt_lang="en", pairing_code=code2.code)))
                opened = (await call.read()).opened
                assert opened.assigned_node_id == mine.node_id
                for i in range(3):
                    await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
                        session_id=opened.session_id, utterance_index=i, audio=audio)))
                outcomes = []
                while len(outcomes) < 3:
                    msg = await asyncio.wait_for(call.read(), 60)
                    if is_outcome(msg):
                        outcomes.append(msg)
                await call.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest()))
                await call.done_writing()
                rest = await read_to_end(call)
    assert [m.WhichOneof("kind") for m in rest if is_outcome(m) or m.HasField("closed")] == ["closed"]
    assert [m.result.node_id for m in outcomes] == [mine.node_id] * 3


async def test_a_resumed_subscribe_takes_over_while_the_old_stream_is_still_open(pipeline) -> None:
    audio = wav_audio(speech_wav(pipeline, HELLO))
    async with running_scheduler(result_grace_ms=60_000) as sched, running_node(f"127.0.0.1:{sched.port}", pipeline):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            opened = await stub.OpenSession(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="en"))
            subscribe = session_pb2.SubscribeRequest(session_id=opened.session_id, resume_token=opened.resume_token)

            async def push(index: int) -> None:
                reply = await stub.PushAudio(session_pb2.PushAudioRequest(utterance=session_pb2.Utterance(
                    session_id=opened.session_id, utterance_index=index, audio=audio)))
                assert reply.accepted

            old = stub.Subscribe(subscribe)
            await push(0)
            old_outcomes = [await _next_outcome(old)]
            await push(2)  # in flight across the takeover; its outcome waits in order for 1
            new = stub.Subscribe(subscribe)  # the client resumes while its old stream is still open
            old_outcomes += [m for m in await read_to_end(old) if is_outcome(m)]  # it ends, given nothing more
            await push(1)
            new_outcomes = [await _next_outcome(new), await _next_outcome(new)]
            await stub.CloseSession(session_pb2.CloseSessionRequest(session_id=opened.session_id))
            new_outcomes += [m for m in await read_to_end(new) if is_outcome(m)]
    assert [outcome_index(m) for m in old_outcomes] == [0]
    assert [outcome_index(m) for m in new_outcomes] == [1, 2]
    assert all(m.HasField("result") for m in old_outcomes + new_outcomes)


async def test_pairing_guesses_are_capped_scheduler_wide_and_a_guessed_at_code_is_burned(pipeline) -> None:
    async with running_scheduler(pairing_max_global_failures=30, pairing_code_max_misses=20,
                                 pairing_failure_window_s=2) as sched:
        address = f"127.0.0.1:{sched.port}"
        async with running_node(address, pipeline) as node, grpc.aio.insecure_channel(address) as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)

            async def redeem(code: str, tenant: str) -> common_pb2.Error | session_pb2.OpenSessionResponse:
                try:
                    return await stub.OpenSession(session_pb2.OpenSessionRequest(
                        src_lang="en", tgt_lang="en", tenant_id=tenant, pairing_code=code))
                except grpc.aio.AioRpcError as exc:
                    return error_from_rpc(exc)

            first = (await node.request_pairing_code()).code
            second = (await node.request_pairing_code()).code  # one live code per node: the first is revoked
            revoked = await redeem(first, "tenant-0")
            assert isinstance(revoked, common_pb2.Error) and revoked.code == common_pb2.INVALID_PAIRING_CODE
            wrong = "000000" if second != "000000" else "000001"
            # Every guess from a new tenant, so no per-client throttle applies: the scheduler-wide cap does.
            misses = [await redeem(wrong, f"rotated-{i}") for i in range(29)]
            assert {m.code for m in misses if isinstance(m, common_pb2.Error)} == {common_pb2.INVALID_PAIRING_CODE}
            assert all(isinstance(m, common_pb2.Error) for m in misses)
            capped = await redeem(second, "alice")  # even the right code waits while the cap is reached
            assert isinstance(capped, common_pb2.Error) and capped.code == common_pb2.RATE_LIMITED
            assert 0 < capped.retry_after_ms <= 2_001
            third = (await node.request_pairing_code()).code
            await asyncio.sleep(capped.retry_after_ms / 1000)  # the window the cap counts over passes
            burned = await redeem(second, "alice")  # 30 wrong guesses while it was live: burned
            assert isinstance(burned, common_pb2.Error) and burned.code == common_pb2.INVALID_PAIRING_CODE
            paired = await redeem(third, "alice")  # issued after those guesses: its budget is whole
            assert isinstance(paired, session_pb2.OpenSessionResponse) and paired.assigned_node_id == node.node_id
