"""The production model path end to end, with a real hub, scheduler and node process: the node installs its
models from the hub at start-up, the operator orders it to install the translation model it lacks, the node
advertises the new pair on its next heartbeat (no restart) and serves a job with it; then the model is removed
from the node's store under it, and a job for that pair still gets its result from another node.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from hub_svc.client import HubClient
from hub_svc.config import HubSettings
from hub_svc.importer import bundled, publish_all
from hub_svc.server import HubServer
from lingua.v1 import admin_pb2, admin_pb2_grpc, node_pb2
from lingua_common.signing import generate_key_pair
from node_svc.models import ModelStore
from node_svc.pipeline import Pipeline
from tests.helpers.mesh import Conversation, running_node, running_scheduler, speech_wav, wav_audio
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook

TOKEN = "operator-secret"
MT = "phrasebook-m2m100"


@contextlib.asynccontextmanager
async def node_process(scheduler: str, hub: str, models_dir: Path, install: str,
                       hub_public_key: str) -> AsyncIterator[None]:
    env = {**os.environ, "LINGUA_NODE_SCHEDULER": scheduler, "LINGUA_NODE_HUB": hub,
           "LINGUA_NODE_HUB_PUBLIC_KEY": hub_public_key,
           "LINGUA_NODE_MODELS_DIR": str(models_dir), "LINGUA_NODE_INSTALL": install,
           "LINGUA_NODE_DISPLAY_NAME": "store-node", "LINGUA_NODE_MAX_CONCURRENT_JOBS": "4",
           "LINGUA_NODE_CONTROL_PORT": "-1", "LINGUA_NODE_WARM_UP": "false", "LINGUA_NODE_MODULES": "",
           "LINGUA_NODE_RECONNECT_INITIAL_MS": "100",
           # Only the store's models: this test follows what the node installs (espeak-ng is the system's).
           "LINGUA_NODE_ESPEAK_VOICES": "false"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "node_svc", env=env)
    try:
        yield
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def wait_for_node(admin: admin_pb2_grpc.SchedulerAdminStub, name: str,
                        ready: bool = True, timeout_s: float = 120) -> admin_pb2.NodeInfo:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        nodes = (await admin.ListNodes(admin_pb2.ListNodesRequest())).nodes
        for n in nodes:
            if n.display_name == name and (not ready or n.state == node_pb2.NODE_STATE_READY):
                return n
        assert asyncio.get_running_loop().time() < deadline, f"node {name} not ready: {nodes}"
        await asyncio.sleep(0.2)


def pairs_of(node: admin_pb2.NodeInfo) -> set[tuple[str, str]]:
    return {(p.src_lang, p.tgt_lang) for m in node.installed_models for p in m.pairs}


async def advertised(admin: admin_pb2_grpc.SchedulerAdminStub, name: str, pair: tuple[str, str],
                     present: bool, timeout_s: float = 30) -> admin_pb2.NodeInfo:
    """The node once its advertised pairs include (or no longer include) `pair`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (pair in pairs_of(node := await wait_for_node(admin, name))) != present:
        assert asyncio.get_running_loop().time() < deadline, f"{name}: {pair} present={not present}"
        await asyncio.sleep(0.2)
    return node


async def test_publish_install_advertise_serve_then_remove(tmp_path: Path, pipeline: Pipeline) -> None:
    private_key, public_key = generate_key_pair(tmp_path / "keys")
    hub = HubServer(HubSettings(host="127.0.0.1", grpc_port=0, http_port=0, data_dir=str(tmp_path / "hub"),
                                operator_token=TOKEN, signing_key=str(private_key)))
    await hub.start()
    hub_address = f"127.0.0.1:{hub.grpc_port}"
    try:
        published = await asyncio.to_thread(publish_all, HubClient(hub_address, TOKEN), bundled())
        assert f"{MT} 1.0.0" in published
        models_dir = tmp_path / "node-models"
        async with (running_scheduler() as scheduler,
                    grpc.aio.insecure_channel(f"127.0.0.1:{scheduler.port}") as channel):
            admin = admin_pb2_grpc.SchedulerAdminStub(channel)
            address = f"127.0.0.1:{scheduler.port}"
            # The node installs what its install list names from the hub, then registers: no MT yet.
            async with node_process(address, hub_address, models_dir,
                                    "silero-vad,whisper-tiny.en,piper-en-us-joe-medium", str(public_key)):
                node = await wait_for_node(admin, "store-node")
                assert {m.model_id for m in node.installed_models} == {
                    "silero-vad", "whisper-tiny.en", "piper-en-us-joe-medium"}
                assert ("en", "fr") not in pairs_of(node)

                # The operator orders the install through the scheduler; the node fetches it from the hub.
                answer = await admin.InstallModel(admin_pb2.InstallModelRequest(
                    node_id=node.node_id, model_id=MT, wait=True, timeout_ms=120_000))
                assert answer.status.state == node_pb2.MODEL_STATE_READY, answer
                assert answer.status.done_bytes == answer.status.total_bytes > 0
                # Advertised on a heartbeat, without a restart.
                node = await advertised(admin, "store-node", ("en", "fr"), present=True)
                assert any(m.model_id == MT for m in node.installed_models)

                sentence = SPEECH_SENTENCES[0]
                audio = wav_audio(await asyncio.to_thread(speech_wav, pipeline, sentence))
                talk = Conversation(channel)
                await talk.open("en", "fr")
                await talk.send(0, audio)
                [first] = await talk.outcomes(1)
                assert first.HasField("result"), first
                assert first.result.node_id == node.node_id
                assert first.result.text_translated == phrasebook()[sentence]

                # A second node that has the pair, then the model disappears from the first node's store.
                async with running_node(address, pipeline, max_jobs=1, name="bundled-node") as other:
                    await wait_for_node(admin, "bundled-node")
                    await asyncio.to_thread(ModelStore(models_dir).remove, MT)
                    await talk.send(1, audio)
                    [second] = await talk.outcomes(1)
                    assert second.HasField("result"), second  # the client never sees the missing model
                    assert second.result.node_id == other.node_id
                    assert second.result.text_translated == phrasebook()[sentence]
                    # Either the job reached the first node (MODEL_NOT_AVAILABLE: re-dispatched, node avoided
                    # for the pair) or the node's heartbeat had already withdrawn the pair.
                    avoided = scheduler.mesh.avoidance.remaining_s(node.node_id, "en", "fr") > 0
                    withdrawn = ("en", "fr") not in pairs_of(await wait_for_node(admin, "store-node"))
                    assert avoided or withdrawn
                    # ... and the next heartbeat withdraws it in any case.
                    await advertised(admin, "store-node", ("en", "fr"), present=False)
                await talk.close()
    finally:
        await hub.stop()
