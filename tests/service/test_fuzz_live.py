"""Bounded fuzzing of live servers (issue 16): random protobuf messages (Utterance, AudioChunk, whole
ClientMessages, NodeMessage) sent to a real scheduler and to the gateway's public gRPC port, random grpc-web
bodies, random JSON frames on `/v1/stream`, `/ws/session` and the adapter's `/ws/node`. Every answer is a typed
error (never INTERNAL / UNKNOWN, no crash, no hang: each exchange has a deadline) and every server still answers
its health check afterwards.

Hypothesis (derandomized, few examples, no deadline) runs in a worker thread; each example's exchange runs on
the test's event loop, where the servers live."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
import websockets
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import given
from hypothesis import strategies as st

from lingua.v1 import common_pb2, node_pb2, node_pb2_grpc, session_pb2, session_pb2_grpc
from tests.helpers.fuzz import NODE_FIELDS, SESSION_FIELDS, STREAM_FIELDS, ci, frames, json_values, messages
from tests.helpers.gateway import GatewayEnv, gateway_env
from wirecompat.config import CompatSettings
from wirecompat.server import CompatServer

EXCHANGE_S = 60  # no exchange may hang longer than this
BAD_STATUS = (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)
BAD_CODES = (common_pb2.INTERNAL, common_pb2.ERROR_CODE_UNSPECIFIED)
BAD_NAMES = ("INTERNAL", "INTERNAL_ERROR", "ERROR_CODE_UNSPECIFIED")
# What the grpc.aio client itself reports when it was still sending into a call the server had already ended
# (after refusing its first message, say): the client's own failure, not a status the server sent.
CLIENT_SIDE = "Internal error from Core"


async def _assert_server_status(call: Any) -> None:
    code, details = await call.code(), await call.details()
    assert code not in BAD_STATUS or details == CLIENT_SIDE, (code, details)


@dataclass
class Live:
    env: GatewayEnv
    compat: CompatServer
    key: str
    loop: asyncio.AbstractEventLoop

    exchanges: int = 0

    def run(self, exchange: Callable[[], Awaitable[None]]) -> None:
        """From Hypothesis' thread: run one exchange on the servers' loop, within its deadline."""
        asyncio.run_coroutine_threadsafe(asyncio.wait_for(exchange(), EXCHANGE_S), self.loop).result()
        self.exchanges += 1

    async def fuzz(self, test: Callable[[], None], at_least: int) -> None:
        """Run a Hypothesis test (in a worker thread: its exchanges run here), then check it really ran."""
        before = self.exchanges
        await asyncio.to_thread(test)
        assert self.exchanges - before >= at_least, self.exchanges - before
        await _healthy(self)


@pytest.fixture(scope="module")
async def live() -> AsyncIterator[Live]:
    async with gateway_env(max_ws_frame_kb=64) as env:
        compat = CompatServer(CompatSettings(host="127.0.0.1", port=0, scheduler=env.scheduler_address))
        await compat.start()
        try:
            yield Live(env, compat, (await env.tenant()).key, asyncio.get_running_loop())
        finally:
            await compat.stop()


async def _healthy(live: Live) -> None:
    for address in (live.env.scheduler_address, live.env.grpc_address):
        async with grpc.aio.insecure_channel(address) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, address
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(f"{live.env.http_url}/healthz")).status_code == 200
        assert (await http.get(f"http://127.0.0.1:{live.compat.port}/health")).status_code == 200


def _check_server_message(msg: session_pb2.ServerMessage) -> None:
    if msg.HasField("error"):
        assert msg.error.code not in BAD_CODES and msg.error.message, msg


async def _converse(address: str, metadata: tuple[tuple[str, str], ...], sent: list[session_pb2.ClientMessage]) -> None:
    opening = session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr"))
    closing = session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest())
    async with grpc.aio.insecure_channel(address) as channel:
        # A request iterator: what the server ends early is not a client-side write failure.
        call = session_pb2_grpc.SessionServiceStub(channel).Converse(iter([opening, *sent, closing]),
                                                                       metadata=metadata)
        try:
            while (msg := await call.read()) is not grpc.aio.EOF:
                _check_server_message(msg)
        except grpc.aio.AioRpcError:
            pass  # its status is checked below
        await _assert_server_status(call)


client_messages = st.one_of(
    messages(session_pb2.Utterance.DESCRIPTOR).map(lambda u: session_pb2.ClientMessage(utterance=u)),
    messages(session_pb2.AudioChunk.DESCRIPTOR).map(lambda c: session_pb2.ClientMessage(audio_chunk=c)),
    messages(session_pb2.ClientMessage.DESCRIPTOR))


async def test_random_session_messages_to_the_scheduler_and_the_gateway(live: Live) -> None:
    auth = (("authorization", f"Bearer {live.key}"),)

    @ci(25)
    @given(st.lists(client_messages, min_size=1, max_size=4), st.booleans())
    def exchange(sent: list[session_pb2.ClientMessage], via_gateway: bool) -> None:
        address, metadata = (live.env.grpc_address, auth) if via_gateway else (live.env.scheduler_address, ())
        live.run(lambda: _converse(address, metadata, sent))

    await live.fuzz(exchange, 20)


async def _node_stream(address: str, sent: list[node_pb2.NodeMessage]) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        # A request iterator: what the server ends early is not a client-side write failure.
        call = node_pb2_grpc.NodeServiceStub(channel).Connect(iter(sent))
        try:
            while (msg := await call.read()) is not grpc.aio.EOF:
                if msg.HasField("error"):
                    assert msg.error.code not in BAD_CODES, msg
        except grpc.aio.AioRpcError:
            pass  # its status is checked below
        await _assert_server_status(call)


async def test_random_node_messages_to_the_scheduler(live: Live) -> None:
    register = node_pb2.NodeMessage(register=node_pb2.NodeRegister(version="fuzz", max_concurrent_jobs=1))

    @ci(30)
    @given(st.booleans(), st.lists(messages(node_pb2.NodeMessage.DESCRIPTOR), min_size=1, max_size=5))
    def exchange(registered_first: bool, sent: list[node_pb2.NodeMessage]) -> None:
        live.run(lambda: _node_stream(live.env.scheduler_address, [register, *sent] if registered_first else sent))

    await live.fuzz(exchange, 20)


def _grpc_web_body(payload: bytes, lie: int) -> bytes:
    return b"\x00" + max(0, len(payload) + lie).to_bytes(4, "big") + payload


async def test_random_grpc_web_bodies_to_the_gateway(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.env.http_url, timeout=30) as http:
        async def post(method: str, body: bytes) -> None:
            reply = await http.post(f"/lingua.v1.SessionService/{method}", content=body, headers={
                "Authorization": f"Bearer {live.key}", "Content-Type": "application/grpc-web+proto"})
            assert reply.status_code == 200, reply.text
            status = reply.headers.get("grpc-status") or reply.content.split(b"grpc-status:")[-1][:4].strip()
            assert int(status) not in (2, 13), reply.content[-300:]  # UNKNOWN, INTERNAL

        @ci(40)
        @given(st.sampled_from(["PushAudio", "OpenSession", "CloseSession", "Translate", "Converse", "Nope"]),
               st.one_of(st.binary(max_size=200), messages(session_pb2.PushAudioRequest.DESCRIPTOR).map(
                   lambda m: m.SerializeToString())),
               st.integers(-2, 2))
        def exchange(method: str, payload: bytes, lie: int) -> None:
            live.run(lambda: post(method, _grpc_web_body(payload, lie)))

        await live.fuzz(exchange, 20)


async def _ws(url: str, sent: list[Any], first: dict[str, Any] | None = None) -> None:
    """Send frames; every frame that comes back within a short read window is checked, then the connection
    must still be open (nothing a client sends closes it)."""
    async with websockets.connect(url, max_size=2**22) as ws:
        if first is not None:
            await ws.send(json.dumps(first))
        for frame in sent:
            await ws.send(frame if isinstance(frame, bytes) else json.dumps(frame))
        await ws.send(json.dumps({"type": "__fuzz_marker__"}))  # answered with an error: all before it are in
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("type") == "error":
                code = reply.get("code") or reply.get("error", {}).get("code")
                assert code not in BAD_NAMES, reply
                if "__fuzz_marker__" in json.dumps(reply):
                    break
        await ws.ping()


async def test_random_json_frames_on_the_websocket_doors(live: Live) -> None:
    stream = f"{live.env.ws_url}/v1/stream?api_key={live.key}"
    session = f"{live.env.ws_url}/ws/session?api_key={live.key}"
    any_json = json_values.filter(lambda v: not isinstance(v, dict) or v.get("type") != "__fuzz_marker__")

    @ci(25)
    @given(st.lists(frames(["start", "audio", "end_utterance", "stop"], STREAM_FIELDS) | any_json, max_size=4),
           st.lists(frames(["session_init", "utterance", "audio_chunk", "client_heartbeat", "session_close"],
                           SESSION_FIELDS) | any_json, max_size=4))
    def exchange(on_stream: list[Any], on_session: list[Any]) -> None:
        live.run(lambda: _ws(stream, on_stream))
        live.run(lambda: _ws(session, on_session))

    await live.fuzz(exchange, 20)


async def _json_node(url: str, sent: list[Any]) -> None:
    register = {"type": "node_register", "node_id": "", "version": "fuzz", "platform": "linux",
                "installed_models": [], "hardware": {"cpu_cores": 2}}
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps(register))
        ack = json.loads(await ws.recv())
        assert ack["type"] == "node_register_ack", ack
        for frame in sent:
            await ws.send(json.dumps(frame))
        await ws.ping()  # still connected: bad frames are logged and skipped


async def test_random_json_frames_from_a_json_node(live: Live) -> None:
    url = f"ws://127.0.0.1:{live.compat.port}/ws/node"

    @ci(25)
    @given(st.lists(frames(["node_heartbeat", "job_result", "asr_partial", "job_ack", "node_error",
                            "MODEL_NOT_AVAILABLE", "request_pairing_code"], NODE_FIELDS) | json_values, max_size=5))
    def exchange(sent: list[Any]) -> None:
        live.run(lambda: _json_node(url, sent))

    await live.fuzz(exchange, 20)
