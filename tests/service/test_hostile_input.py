"""Hostile clients against a real scheduler process: huge utterance indices, a client that never reads, a
message over the receive limit. Each gets a typed error, the scheduler answers a health check within 100 ms
during and after, and its memory stays bounded. No node is needed: with none connected every utterance that
enters the order ends at once as NO_AVAILABLE_NODE, which is all these tests need to produce outcomes.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import grpc
import pytest

from lingua.v1 import admin_pb2, admin_pb2_grpc, common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import error_from_rpc
from tests.helpers.mesh import is_outcome, outcome_index, read_to_end, scheduler_process

PCM = common_pb2.Audio(data=bytes(320), encoding=common_pb2.PCM16, sample_rate_hz=16000)  # 10 ms
HEALTHY_S = 0.1
RSS_MARGIN_MB = 50


def utterance_msg(index: int) -> session_pb2.ClientMessage:
    return session_pb2.ClientMessage(utterance=session_pb2.Utterance(utterance_index=index, audio=PCM))


async def next_message(call: object) -> session_pb2.ServerMessage:
    msg = await asyncio.wait_for(call.read(), 10)  # type: ignore[attr-defined]
    assert msg is not grpc.aio.EOF
    return msg  # type: ignore[no-any-return]


async def test_huge_utterance_indices_are_refused_and_the_scheduler_stays_responsive(tmp_path: Path) -> None:
    # A 200 ms grace: before the window existed, the first huge index made the gap timer build a
    # RESULT_TIMEOUT for every index below it 200 ms later, on the event loop.
    async with scheduler_process(tmp_path / "scheduler.log", result_grace_ms=200) as sched:
        async with grpc.aio.insecure_channel(sched.address) as channel:
            rss_before = sched.rss_mb
            call = session_pb2_grpc.SessionServiceStub(channel).Converse()
            await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en",
                                                                                           tgt_lang="en")))
            assert (await next_message(call)).HasField("opened")
            await call.write(utterance_msg(0))
            first = await next_message(call)
            assert first.error.code == common_pb2.NO_AVAILABLE_NODE and first.error.utterance_index == 0

            rng = random.Random(16)
            hostile = [2**63, 2**64 - 1, 0] + [rng.randrange(65, 2**64) for _ in range(997)]
            checks: list[float] = []
            for start in range(0, len(hostile), 100):
                for index in hostile[start:start + 100]:
                    await call.write(utterance_msg(index))
                refused = [await next_message(call) for _ in range(100)]
                assert [m.error.code for m in refused] == [common_pb2.INVALID_MESSAGE] * 100
                assert [m.error.details["utterance_index"] for m in refused] == [
                    str(i) for i in hostile[start:start + 100]]
                assert not any(m.error.HasField("utterance_index") for m in refused)  # never in the order
                checks.append(await sched.health_check_s(channel))
            # Past the grace, when the old gap timer would have frozen the loop: still answering at once.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 1.0
            while loop.time() < deadline:
                checks.append(await sched.health_check_s(channel))
            # The session carries on: the next index in order gets its own outcome.
            await call.write(utterance_msg(1))
            after = await next_message(call)
            assert after.error.code == common_pb2.NO_AVAILABLE_NODE and after.error.utterance_index == 1
            rss_after = sched.rss_mb
            await call.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest()))
            await call.done_writing()
            rest = await read_to_end(call)
    assert [m for m in rest if is_outcome(m) or m.HasField("error")] == []
    assert [m.WhichOneof("kind") for m in rest] == ["closed"]
    assert max(checks) < HEALTHY_S, sorted(checks)[-5:]
    assert rss_after - rss_before < RSS_MARGIN_MB, (rss_before, rss_after)


async def test_a_client_that_stops_reading_is_ended_with_client_too_slow(tmp_path: Path) -> None:
    async with scheduler_process(tmp_path / "scheduler.log", max_outbox_messages=200,
                                 max_buffered_messages=50) as sched:
        # No BDP probing: the stream's flow-control window stays small, so the scheduler's writes soon block
        # on a client that does not read, and what follows piles up in the session's outbox.
        async with grpc.aio.insecure_channel(sched.address, options=[("grpc.http2.bdp_probe", 0)]) as channel, \
                grpc.aio.insecure_channel(sched.address) as probe:
            rss_before = sched.rss_mb
            call = session_pb2_grpc.SessionServiceStub(channel).Converse()
            await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en",
                                                                                           tgt_lang="en")))
            for index in range(5_000):  # never reading
                await call.write(utterance_msg(index))
                if index % 500 == 0:
                    assert await sched.health_check_s(probe) < HEALTHY_S
            # The scheduler ends the session (and its stream) instead of buffering without end.
            admin = admin_pb2_grpc.SchedulerAdminStub(probe)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while (await admin.ListSessions(admin_pb2.ListSessionsRequest())).sessions:
                assert loop.time() < deadline, "the session that is not read was not ended"
                await asyncio.sleep(0.05)
            rss_after = sched.rss_mb
            assert await sched.health_check_s(probe) < HEALTHY_S
            everything = await read_to_end(call)
            status = await call.code()
    assert everything[0].HasField("opened")
    outcomes = [m for m in everything if is_outcome(m)]
    assert [outcome_index(m) for m in outcomes] == list(range(len(outcomes)))  # each once, in order
    assert all(m.error.code == common_pb2.NO_AVAILABLE_NODE for m in outcomes)
    last = everything[-1]
    assert last.error.code == common_pb2.CLIENT_TOO_SLOW and not last.error.HasField("utterance_index")
    assert f"from {len(outcomes)} on" in last.error.message
    assert len(everything) == len(outcomes) + 2 and status == grpc.StatusCode.OK
    assert rss_after - rss_before < RSS_MARGIN_MB, (rss_before, rss_after)


async def test_a_message_over_the_receive_limit_is_refused_and_the_rest_carries_on(tmp_path: Path) -> None:
    async with scheduler_process(tmp_path / "scheduler.log") as sched:
        async with grpc.aio.insecure_channel(sched.address, options=[
                ("grpc.max_send_message_length", 64 * 1024 * 1024)]) as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            # 60 s of 48 kHz stereo PCM16, the largest utterance allowed, fits under the default 12 MiB ...
            biggest = common_pb2.Audio(data=bytes(60 * 48_000 * 4), encoding=common_pb2.PCM16,
                                       sample_rate_hz=48_000, channels=2)
            with pytest.raises(grpc.aio.AioRpcError) as fits:
                await stub.Translate(session_pb2.TranslateRequest(audio=biggest, src_lang="en", tgt_lang="en"))
            assert error_from_rpc(fits.value).code == common_pb2.NO_AVAILABLE_NODE  # read, checked, no node
            # ... 13 MiB does not: gRPC refuses it before anything is decoded.
            huge = common_pb2.Audio(data=bytes(13 * 1024 * 1024), encoding=common_pb2.PCM16, sample_rate_hz=16000)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Translate(session_pb2.TranslateRequest(audio=huge, src_lang="en", tgt_lang="en"))
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert await sched.health_check_s(channel) < HEALTHY_S
            with pytest.raises(grpc.aio.AioRpcError) as long_tenant:
                await stub.OpenSession(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="en",
                                                                      tenant_id="t" * 10_000))
            err = error_from_rpc(long_tenant.value)
            assert err.code == common_pb2.INVALID_MESSAGE and "tenant_id is 10000 characters" in err.message
