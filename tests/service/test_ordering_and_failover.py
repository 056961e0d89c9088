"""Ordering across nodes, and what happens when a node dies mid-job."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import grpc
import pytest

from lingua.v1 import admin_pb2, admin_pb2_grpc
from tests.helpers.mesh import (
    Conversation,
    outcome_index,
    running_node,
    running_scheduler,
    speech_wav,
    wav_audio,
)

pytestmark = pytest.mark.models

SHORT = "Thank you very much."
LONG = ("I would like to book a table for four people tonight, near the window if possible, "
        "and we would also like to see the dessert menu before we order our main course.")


async def test_ten_utterances_come_back_in_order_from_two_nodes(pipeline) -> None:
    # Long and short utterances interleaved over two single-slot nodes: short ones finish first,
    # so results reach the scheduler out of order and the reorder buffer must fix that.
    long_wav, short_wav = speech_wav(pipeline, LONG), speech_wav(pipeline, SHORT)
    # Ten jobs on two single-slot nodes sharing 2 CPU cores: give the queue and the reorder buffer
    # room, so what is tested is the order, not how fast this machine is.
    async with running_scheduler(queue_timeout_ms=120_000, result_grace_ms=120_000) as sched:
        address = f"127.0.0.1:{sched.port}"
        async with running_node(address, pipeline, name="a"), running_node(address, pipeline, name="b"):
            async with grpc.aio.insecure_channel(address) as channel:
                conv = Conversation(channel)
                await conv.open("en", "en")
                for i in range(10):
                    await conv.send(i, wav_audio(long_wav if i % 3 == 0 else short_wav))
                outcomes = await conv.outcomes(10)
                await conv.close()
        assert [outcome_index(m) for m in outcomes] == list(range(10))
        assert all(m.HasField("result") for m in outcomes), [m.error for m in outcomes if m.HasField("error")]
        assert {m.result.node_id for m in outcomes} == set(sched.mesh.registry.nodes)  # both nodes worked
        assert sched.mesh.counters["buffered_out_of_order"] > 0  # some really arrived out of order


async def _wait_for(predicate, timeout_s: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_killing_a_node_mid_job_redispatches_or_errors(pipeline) -> None:
    long_wav = speech_wav(pipeline, LONG)
    async with running_scheduler(queue_timeout_ms=120_000, result_grace_ms=120_000) as sched:
        address = f"127.0.0.1:{sched.port}"
        env = dict(os.environ, LINGUA_NODE_SCHEDULER=address, LINGUA_NODE_MAX_CONCURRENT_JOBS="1",
                   LINGUA_NODE_DISPLAY_NAME="victim")
        victim = await asyncio.create_subprocess_exec(sys.executable, "-m", "node_svc", env=env)
        try:
            async with grpc.aio.insecure_channel(address) as channel:
                admin = admin_pb2_grpc.SchedulerAdminStub(channel)

                async def victim_node() -> admin_pb2.NodeInfo | None:
                    nodes = (await admin.ListNodes(admin_pb2.ListNodesRequest())).nodes
                    return next((n for n in nodes if n.display_name == "victim"), None)

                async def victim_registered() -> bool:
                    return await victim_node() is not None

                await _wait_for(victim_registered, 120)
                async with running_node(address, pipeline, name="survivor"):
                    conv = Conversation(channel)
                    await conv.open("en", "en")
                    for i in range(4):
                        await conv.send(i, wav_audio(long_wav))

                    async def victim_busy() -> bool:
                        node = await victim_node()
                        return node is not None and node.reserved_jobs > 0

                    await _wait_for(victim_busy)
                    victim.send_signal(signal.SIGKILL)
                    outcomes = await conv.outcomes(4)
                    await conv.close()
        finally:
            if victim.returncode is None:
                victim.kill()
            await victim.wait()
    assert [outcome_index(m) for m in outcomes] == list(range(4))
    assert sched.mesh.counters["redispatched"] >= 1
    # The survivor can run every job, so the re-dispatched one ends as a result, not an error.
    assert all(m.HasField("result") for m in outcomes), [m.error for m in outcomes if m.HasField("error")]
    assert all(m.result.node_id != "" for m in outcomes)
