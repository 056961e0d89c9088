"""A lone scheduler (memory://, no Redis) stopped with SIGTERM: a real scheduler process and a real node process
(the bundled models). Utterances in flight finish, one sent while it stops gets an explicit error in its place,
the session's stream ends after a last SESSION_CLOSED error, and the process exits cleanly. (What is still
unfinished at drain_timeout_ms gets an explicit error too: tests/unit/test_bounds.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from lingua.v1 import admin_pb2, admin_pb2_grpc, common_pb2, node_pb2
from tests.helpers.mesh import (
    Conversation,
    is_outcome,
    outcome_index,
    read_to_end,
    scheduler_process,
    speech_wav,
    wav_audio,
)

pytestmark = pytest.mark.models

LONG = ("I would like to book a table for four people tonight, near the window if possible, "
        "and we would also like to see the dessert menu before we order our main course.")


async def _until(check, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_sigterm_lets_in_flight_utterances_finish_and_ends_every_session_with_an_outcome_each(
        pipeline, tmp_path: Path) -> None:
    audio = wav_audio(speech_wav(pipeline, LONG))
    async with scheduler_process(tmp_path / "scheduler.log", drain_timeout_ms=240_000, queue_timeout_ms=240_000,
                                 result_grace_ms=240_000) as sched:
        env = dict(os.environ, LINGUA_NODE_SCHEDULER=sched.address, LINGUA_NODE_MAX_CONCURRENT_JOBS="1",
                   LINGUA_NODE_DISPLAY_NAME="worker", LINGUA_NODE_RECONNECT_INITIAL_MS="100")
        with (tmp_path / "node.log").open("wb") as node_log:
            node = await asyncio.create_subprocess_exec(sys.executable, "-m", "node_svc", env=env,
                                                        stdout=asyncio.subprocess.DEVNULL, stderr=node_log)
        try:
            async with grpc.aio.insecure_channel(sched.address) as channel:
                admin = admin_pb2_grpc.SchedulerAdminStub(channel)
                health = health_pb2_grpc.HealthStub(channel)

                async def worker() -> admin_pb2.NodeInfo | None:
                    nodes = (await admin.ListNodes(admin_pb2.ListNodesRequest())).nodes
                    return next((n for n in nodes if n.display_name == "worker"), None)

                async def ready() -> bool:
                    info = await worker()
                    return info is not None and info.state == node_pb2.NODE_STATE_READY

                async def busy() -> bool:
                    info = await worker()
                    return info is not None and info.reserved_jobs > 0

                async def not_serving() -> bool:
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
                    return reply.status == health_pb2.HealthCheckResponse.NOT_SERVING

                await _until(ready, 180)
                conv = Conversation(channel)
                await conv.open("en", "en")
                for i in range(3):  # one runs, two wait for the node's only slot
                    await conv.send(i, audio)
                await _until(busy, 60)
                sched.proc.send_signal(signal.SIGTERM)
                await _until(not_serving, 30)
                await conv.send(3, audio)  # too late: refused in its place in the order
                everything = await read_to_end(conv.call, 300)
                status = await conv.call.code()
            returncode = await asyncio.wait_for(sched.proc.wait(), 60)
        finally:
            if node.returncode is None:
                node.kill()
            await node.wait()
    outcomes = [m for m in everything if is_outcome(m)]
    assert [outcome_index(m) for m in outcomes] == [0, 1, 2, 3]  # exactly one each, in order
    assert all(m.HasField("result") and "table" in m.result.text_asr.lower() for m in outcomes[:3]), outcomes[:3]
    assert outcomes[3].error.code == common_pb2.SESSION_CLOSED
    last = everything[-1]
    assert last.error.code == common_pb2.SESSION_CLOSED and not last.error.HasField("utterance_index")
    assert len(everything) == len(outcomes) + 1  # nothing else: no duplicate, no stray message
    assert status == grpc.StatusCode.OK
    assert returncode == 0
