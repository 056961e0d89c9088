"""Decompression bombs and mislabelled containers reach real nodes (issue 16): a native node and a JSON node
behind the wirecompat adapter each decode job audio with the bounded decoder, so a 0.5 MB FLAC of 3 h of
silence ends its utterance with PAYLOAD_TOO_LARGE (once: not retried), a FLAC declared as Ogg Opus with
INVALID_AUDIO, and the session carries on with the next utterance. Real scheduler, node and adapter on
ephemeral ports, the real models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from lingua.v1 import admin_pb2, admin_pb2_grpc, common_pb2, node_pb2
from tests.helpers.bombs import silence_flac
from tests.helpers.legacy_node import LegacyNode
from tests.helpers.mesh import Conversation, outcome_index, running_node, running_scheduler, speech_wav, wav_audio
from wirecompat.config import CompatSettings
from wirecompat.server import CompatServer

pytestmark = pytest.mark.models
SENTENCE = "I am here on vacation with my family."


def _cases(pipeline) -> list[tuple[common_pb2.Audio, int | None]]:  # type: ignore[no-untyped-def]
    good = wav_audio(speech_wav(pipeline, SENTENCE))
    bomb = common_pb2.Audio(data=silence_flac(), encoding=common_pb2.FLAC)
    mislabelled = common_pb2.Audio(data=silence_flac(2), encoding=common_pb2.OGG_OPUS)
    return [(bomb, common_pb2.PAYLOAD_TOO_LARGE), (good, None), (mislabelled, common_pb2.INVALID_AUDIO), (good, None)]


async def _converse(address: str, cases: list[tuple[common_pb2.Audio, int | None]]) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        conv = Conversation(channel)
        await conv.open("en", "fr")
        outcomes = []
        for index, (audio, _code) in enumerate(cases):  # one at a time: one node, one slot
            await conv.send(index, audio)
            outcomes += await conv.outcomes(1)
        await conv.close()  # read to the end: nothing extra (a retried bomb would show up as a second outcome)
    assert [outcome_index(m) for m in outcomes] == list(range(len(cases)))
    for msg, (_audio, code) in zip(outcomes, cases, strict=True):
        if code is None:
            assert msg.HasField("result") and msg.result.text_translated, msg
        else:
            assert msg.HasField("error") and msg.error.code == code, msg


async def _until_ready(address: str, node_id: str, timeout_s: float = 30) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        admin = admin_pb2_grpc.SchedulerAdminStub(channel)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not any(n.node_id == node_id and n.state == node_pb2.NODE_STATE_READY
                      for n in (await admin.ListNodes(admin_pb2.ListNodesRequest())).nodes):
            assert asyncio.get_running_loop().time() < deadline, f"node {node_id} not ready"
            await asyncio.sleep(0.05)


@pytest.fixture
async def scheduler() -> AsyncIterator[str]:
    async with running_scheduler() as sched:
        yield f"127.0.0.1:{sched.port}"


async def test_a_native_node_refuses_a_bomb_and_carries_on(scheduler: str, pipeline) -> None:
    async with running_node(scheduler, pipeline):
        await _converse(scheduler, _cases(pipeline))


async def test_a_json_node_behind_the_adapter_refuses_a_bomb_and_carries_on(scheduler: str, pipeline) -> None:
    compat = CompatServer(CompatSettings(host="127.0.0.1", port=0, scheduler=scheduler, node_max_jobs=1))
    await compat.start()
    node = LegacyNode(f"ws://127.0.0.1:{compat.port}/ws/node", pipeline)
    try:
        await node.start()
        await _until_ready(scheduler, node.node_id)
        await _converse(scheduler, _cases(pipeline))
        # The adapter refused the bad jobs itself: the JSON node only ever got the two good ones.
        assert [f["type"] for f in node.received].count("job_assign") == 2
    finally:
        await node.close()
        await compat.stop()
