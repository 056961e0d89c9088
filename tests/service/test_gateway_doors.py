"""Each front door of the gateway translates the same Piper-spoken phrasebook WAV through a real mesh.

Real scheduler, real node with the bundled models, real gateway (HTTP + public gRPC) on ephemeral ports;
clients are raw HTTP (httpx), a real WebSocket client, and grpc.aio — nothing in between is simulated.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import wave
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import websockets

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import error_from_rpc
from tests.helpers.gateway import GatewayEnv, gateway_env
from tests.helpers.grpcweb import GrpcWebClient, Reply
from tests.helpers.mesh import running_node, speech_wav
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate

pytestmark = pytest.mark.models

SENTENCE = SPEECH_SENTENCES[0]


@pytest.fixture(scope="module")
async def env(pipeline) -> AsyncIterator[GatewayEnv]:
    async with gateway_env() as env:
        async with running_node(env.scheduler_address, pipeline):
            yield env


@pytest.fixture(scope="module")
def wav(pipeline) -> bytes:
    return speech_wav(pipeline, SENTENCE)


def _wav(data: bytes) -> common_pb2.Audio:
    return common_pb2.Audio(data=data, encoding=common_pb2.WAV)


def _check(text_asr: str, text_translated: str) -> None:
    assert word_error_rate(SENTENCE, text_asr) <= 0.2, text_asr
    assert text_translated == phrasebook()[SENTENCE]


async def test_rest_translates_an_uploaded_wav(env: GatewayEnv, wav: bytes) -> None:
    key = (await env.tenant()).key
    async with httpx.AsyncClient(base_url=env.http_url, timeout=120) as http:
        response = await http.post("/v1/speech/translate", headers={"Authorization": f"Bearer {key}"},
                                   files={"audio": ("hello.wav", wav, "audio/wav")},
                                   data={"src_lang": "en", "tgt_lang": "fr", "features": "{}"})
        assert response.status_code == 200, response.text
        body = response.json()
        _check(body["text_asr"], body["text_translated"])
        assert body["session_id"] and body["tts_sample_rate_hz"] > 0
        speech = base64.b64decode(body["tts_audio_b64"])
        assert len(speech) / 2 / body["tts_sample_rate_hz"] > 0.8
        assert body["timings"]["total_ms"] > 0 and "tts_voice" in body["extras"]
        # No audio field: a clear 400, not a 500.
        missing = await http.post("/v1/speech/translate", headers={"Authorization": f"Bearer {key}"},
                                  data={"src_lang": "en"})
        assert missing.status_code == 400 and missing.json()["error"]["code"] == "INVALID_MESSAGE"
        unknown = await http.post("/v1/speech/translate", headers={"Authorization": f"Bearer {key}"},
                                  files={"audio": ("a.wav", wav, "audio/wav")}, data={"features": '["x_ray"]'})
        assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "UNSUPPORTED_FEATURE"


async def _ws_next(ws: websockets.ClientConnection, *types: str, timeout_s: float = 90) -> dict[str, object]:
    """The next frame of one of `types` (partials and events in between are skipped)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
        if frame["type"] in types:
            return frame  # type: ignore[no-any-return]


async def test_websocket_survives_malformed_frames_then_translates(env: GatewayEnv, wav: bytes) -> None:
    tenant = await env.tenant()
    key = tenant.key
    with wave.open(io.BytesIO(wav)) as w:
        rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    async with websockets.connect(f"{env.ws_url}/v1/stream?api_key={key}", max_size=None) as ws:
        # Every kind of bad input gets a typed error frame; the connection stays open.
        for bad, code in (("{not json", "INVALID_MESSAGE"), ('{"type": "dance"}', "INVALID_MESSAGE"),
                          ('{"type": "audio", "data": "AAAA"}', "INVALID_SESSION"),
                          (b"\x00\x00" * 100, "INVALID_SESSION"),
                          ('{"type": "start", "sample_rate_hz": 3}', "INVALID_MESSAGE"),
                          ("x" * (env.max_ws_frame_bytes + 1), "PAYLOAD_TOO_LARGE")):
            await ws.send(bad)
            frame = await _ws_next(ws, "error", timeout_s=10)
            assert frame["code"] == code, (bad[:40], frame)
        await ws.send(json.dumps({"type": "start", "src_lang": "en", "tgt_lang": "fr",
                                  "sample_rate_hz": rate, "tenant_id": "someone-else"}))
        started = await _ws_next(ws, "started", "error")
        assert started["type"] == "started" and started["session_id"], started
        assert await env.session_tenant(str(started["session_id"])) == tenant.tenant_id  # stamped by the gateway
        # Audio as base64 JSON and as binary frames, then sealed by end_utterance.
        half = len(pcm) // 4 * 2
        await ws.send(json.dumps({"type": "audio", "data": base64.b64encode(pcm[:half]).decode()}))
        await ws.send(pcm[half:])
        await ws.send('{"type": "oops"}')  # bad frame mid-session: error, session carries on
        assert (await _ws_next(ws, "error", timeout_s=10))["code"] == "INVALID_MESSAGE"
        await ws.send(json.dumps({"type": "end_utterance"}))
        partial = await _ws_next(ws, "asr_partial", "result", "error")
        assert partial["type"] == "asr_partial", partial
        result = await _ws_next(ws, "result", "error")
        assert result["type"] == "result" and result["utterance_index"] == 0, result
        _check(str(result["text_asr"]), str(result["text_translated"]))
        assert base64.b64decode(str(result["tts_audio_b64"]))
        await ws.send(json.dumps({"type": "stop"}))
        stopped = await _ws_next(ws, "stopped", "error", timeout_s=30)
        assert stopped == {"type": "stopped", "session_id": started["session_id"]}
        # The same connection can start again after stop.
        await ws.send(json.dumps({"type": "start", "src_lang": "en", "tgt_lang": "fr"}))
        again = await _ws_next(ws, "started", "error", timeout_s=10)
        assert again["type"] == "started" and again["session_id"] != started["session_id"]


@pytest.mark.parametrize("text", [False, True], ids=["grpc-web+proto", "grpc-web-text"])
async def test_grpc_web_session_open_push_subscribe_close(env: GatewayEnv, wav: bytes, text: bool) -> None:
    key = (await env.tenant()).key
    async with httpx.AsyncClient(timeout=120) as http:
        client = GrpcWebClient(http, env.http_url, key, text=text)
        opened_reply = await client.unary("OpenSession", session_pb2.OpenSessionRequest(
            src_lang="en", tgt_lang="fr", streaming_asr=True))
        assert opened_reply.status == 0, opened_reply.trailers
        opened = opened_reply.parse(session_pb2.OpenSessionResponse)
        sub_reply = Reply()
        outcomes: list[session_pb2.ServerMessage] = []

        async def subscribe() -> None:
            request = session_pb2.SubscribeRequest(session_id=opened.session_id, resume_token=opened.resume_token)
            async for payload in client.stream("Subscribe", request, sub_reply):
                msg = session_pb2.ServerMessage.FromString(payload)
                if msg.HasField("result") or msg.HasField("error") or msg.HasField("closed"):
                    outcomes.append(msg)

        reader = asyncio.create_task(subscribe())
        pushed = await client.unary("PushAudio", session_pb2.PushAudioRequest(utterance=session_pb2.Utterance(
            session_id=opened.session_id, utterance_index=0, audio=_wav(wav))))
        assert pushed.status == 0 and pushed.parse(session_pb2.PushAudioResponse).accepted
        for _ in range(600):
            if outcomes:
                break
            await asyncio.sleep(0.2)
        assert outcomes and outcomes[0].HasField("result"), outcomes
        _check(outcomes[0].result.text_asr, outcomes[0].result.text_translated)
        closed = await client.unary("CloseSession", session_pb2.CloseSessionRequest(session_id=opened.session_id))
        assert closed.status == 0 and closed.parse(session_pb2.CloseSessionResponse).session_id == opened.session_id
        await asyncio.wait_for(reader, 30)
        assert sub_reply.status == 0  # the stream ended with OK trailers once the session closed
        # Translate (one-shot) over the same protocol.
        one = await client.unary("Translate", session_pb2.TranslateRequest(
            audio=_wav(wav), src_lang="en", tgt_lang="fr"))
        assert one.status == 0, one.trailers
        response = one.parse(session_pb2.TranslateResponse)
        _check(response.text_asr, response.text_translated)
        bidi = await client.unary("Converse", session_pb2.ClientMessage())
        assert bidi.status == grpc.StatusCode.UNIMPLEMENTED.value[0]


async def test_public_grpc_translate_and_converse(env: GatewayEnv, wav: bytes) -> None:
    tenant = await env.tenant()
    auth = (("authorization", f"Bearer {tenant.key}"),)
    async with grpc.aio.insecure_channel(env.grpc_address) as channel:
        stub = session_pb2_grpc.SessionServiceStub(channel)
        one = await stub.Translate(session_pb2.TranslateRequest(
            audio=_wav(wav), src_lang="en", tgt_lang="fr", tenant_id="someone-else"),
            metadata=auth, timeout=120)
        _check(one.text_asr, one.text_translated)
        call = stub.Converse(metadata=auth)
        await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
            src_lang="en", tgt_lang="fr", tenant_id="someone-else")))
        opened = await asyncio.wait_for(call.read(), 10)
        assert opened.HasField("opened"), opened
        session_id = opened.opened.session_id
        assert await env.session_tenant(session_id) == tenant.tenant_id  # stamped by the gateway
        # A message naming another session is refused in-stream; the stream carries on.
        await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
            session_id="s-not-mine", utterance_index=0, audio=_wav(wav))))
        refused = await asyncio.wait_for(call.read(), 10)
        assert refused.error.code == common_pb2.INVALID_SESSION and refused.error.utterance_index == 0, refused
        for i in range(2):
            await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
                utterance_index=i, audio=_wav(wav))))
        results = []
        while len(results) < 2:
            msg = await asyncio.wait_for(call.read(), 90)
            assert msg is not grpc.aio.EOF
            assert not msg.HasField("error"), msg
            if msg.HasField("result"):
                results.append(msg.result)
        assert [r.utterance_index for r in results] == [0, 1]  # both results over the one held stream
        for r in results:
            _check(r.text_asr, r.text_translated)
        await call.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest(session_id=session_id)))
        closed = await asyncio.wait_for(call.read(), 10)
        assert closed.HasField("closed")
        assert await call.read() is grpc.aio.EOF
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.Translate(session_pb2.TranslateRequest(src_lang="en", tgt_lang="fr"))
        assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert error_from_rpc(missing.value).code == common_pb2.UNAUTHENTICATED

