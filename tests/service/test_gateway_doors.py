"""Each front door of the gateway translates the same Piper-spoken phrasebook WAV through a real mesh.

Real scheduler, real node with the bundled models, real gateway (HTTP + public gRPC) on ephemeral ports;
clients are raw HTTP (httpx), a real WebSocket client, and grpc.aio — nothing in between is simulated.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
import websockets

from gateway.json_codec import result_json
from gateway.ws_frames import Start, parse_text, server_frame
from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import error_from_rpc
from tests.helpers.gateway import GatewayEnv, gateway_env
from tests.helpers.grpcweb import GrpcWebClient, Reply
from tests.helpers.mesh import running_node, speech_wav
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate

pytestmark = pytest.mark.models

SENTENCE = SPEECH_SENTENCES[0]
# make test installs them (scripts/ensure_languages.sh); without root they may be missing.
_NO_APERTIUM = shutil.which("espeak-ng") is None or not Path("/usr/share/apertium/modes/eng-spa.mode").is_file()


@pytest.fixture(scope="module")
async def env(pipeline) -> AsyncIterator[GatewayEnv]:
    async with gateway_env() as env:
        async with running_node(env.scheduler_address, pipeline):
            yield env


@pytest.fixture(scope="module")
async def languages_env(languages_pipeline) -> AsyncIterator[GatewayEnv]:
    """A node as `lingua up` builds it (multilingual Whisper, Apertium, espeak-ng): detection and two-way."""
    if _NO_APERTIUM:
        pytest.skip("apertium-eng-spa or espeak-ng is missing (scripts/ensure_languages.sh installs them)")
    async with gateway_env() as env:
        async with running_node(env.scheduler_address, languages_pipeline):
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
        # How it was translated; nothing was detected (the source was named).
        assert body["detected_lang"] == "" and body["pivot_lang"] == "", body
        assert body["tier"] == "demo" and body["mt_engine"], body
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
        assert result["tier"] == "demo" and result["mt_engine"] and result["detected_lang"] == "", result
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



async def test_languages_through_rest_grpc_web_and_public_grpc(env: GatewayEnv) -> None:
    """GET /v1/languages, grpc-web and public gRPC ListLanguages give the scheduler's answer, behind a key."""
    key = (await env.tenant()).key
    async with grpc.aio.insecure_channel(env.scheduler_address) as channel:  # what the mesh itself says
        truth = await session_pb2_grpc.SessionServiceStub(channel).ListLanguages(
            session_pb2.ListLanguagesRequest(), timeout=10)
    # The fixture node: whisper tiny.en, the phrasebook MT (en<->fr, a demo model), Piper joe (English;
    # French cross-lingual). ASR hears English only, so en->fr is all it serves, and not two-way.
    (en_fr,) = [p for p in truth.pairs if (p.src_lang, p.tgt_lang) == ("en", "fr")]
    assert en_fr.tier == common_pb2.TRANSLATION_TIER_DEMO and en_fr.nodes == 1 and not en_fr.two_way, en_fr
    assert en_fr.engine and en_fr.voice and en_fr.voice_quality, en_fr
    expected = {
        "pairs": [{"src_lang": p.src_lang, "tgt_lang": p.tgt_lang,
                   "tier": ["", "neural", "rule_based", "pivot", "demo"][p.tier],
                   "engine": p.engine, "voice": p.voice, "voice_quality": p.voice_quality, "pivot_lang": p.pivot_lang,
                   "nodes": p.nodes, "two_way": p.two_way} for p in truth.pairs],
        "detectable_languages": list(truth.detectable_languages),
    }
    async with httpx.AsyncClient(base_url=env.http_url, timeout=30) as http:
        rest = await http.get("/v1/languages", headers={"Authorization": f"Bearer {key}"})
        assert rest.status_code == 200, rest.text
        assert rest.json() == expected
        (rest_en_fr,) = [p for p in rest.json()["pairs"] if (p["src_lang"], p["tgt_lang"]) == ("en", "fr")]
        assert rest_en_fr["tier"] == "demo" and rest_en_fr["nodes"] == 1 and rest_en_fr["two_way"] is False
        for headers in ({}, {"Authorization": "Bearer lk_not-a-real-key"}):
            refused = await http.get("/v1/languages", headers=headers)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "UNAUTHENTICATED", refused.text
        for text in (False, True):
            reply = await GrpcWebClient(http, env.http_url, key, text=text).unary(
                "ListLanguages", session_pb2.ListLanguagesRequest())
            assert reply.status == 0, reply.trailers
            assert reply.parse(session_pb2.ListLanguagesResponse) == truth
        no_key = await GrpcWebClient(http, env.http_url, None).unary(
            "ListLanguages", session_pb2.ListLanguagesRequest())
        assert no_key.status == grpc.StatusCode.UNAUTHENTICATED.value[0]
        assert no_key.error().code == common_pb2.UNAUTHENTICATED
        document = (await http.get("/openapi.json")).json()
        assert "/v1/languages" in document["paths"]
        grpc_web_methods = document["paths"]["/lingua.v1.SessionService/{method}"]["post"]["parameters"][0]
        assert "ListLanguages" in grpc_web_methods["schema"]["enum"]
    async with grpc.aio.insecure_channel(env.grpc_address) as channel:
        stub = session_pb2_grpc.SessionServiceStub(channel)
        public = await stub.ListLanguages(session_pb2.ListLanguagesRequest(),
                                          metadata=(("authorization", f"Bearer {key}"),), timeout=10)
        assert public == truth
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.ListLanguages(session_pb2.ListLanguagesRequest(), timeout=10)
        assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_start_frames_for_auto_and_two_way_and_the_new_result_fields() -> None:
    """No mesh: the WebSocket `start` frame passes src "auto" and two-way on; results carry how they were made."""
    auto = parse_text(json.dumps({"type": "start", "src_lang": "auto", "tgt_lang": "en"}))
    assert isinstance(auto, Start) and (auto.request.src_lang, auto.request.tgt_lang) == ("auto", "en")
    assert auto.request.mode == session_pb2.SESSION_MODE_ONE_WAY
    two = parse_text(json.dumps({"type": "start", "mode": "two_way", "lang_a": "en", "lang_b": "es"}))
    assert isinstance(two, Start)
    assert (two.request.mode, two.request.lang_a, two.request.lang_b) == (session_pb2.SESSION_MODE_TWO_WAY, "en", "es")
    result = common_pb2.TranslationResult(src_lang="de", tgt_lang="fr", detected_lang="de", mt_engine="apertium+m2m",
                                          tier=common_pb2.TRANSLATION_TIER_PIVOT, pivot_lang="en")
    frame = server_frame(session_pb2.ServerMessage(result=result))
    assert frame is not None and frame["type"] == "result"
    assert {k: frame[k] for k in ("detected_lang", "mt_engine", "tier", "pivot_lang")} == {
        "detected_lang": "de", "mt_engine": "apertium+m2m", "tier": "pivot", "pivot_lang": "en"}
    tiers = {common_pb2.TRANSLATION_TIER_NEURAL: "neural", common_pb2.TRANSLATION_TIER_RULE_BASED: "rule_based",
             common_pb2.TRANSLATION_TIER_DEMO: "demo", common_pb2.TRANSLATION_TIER_UNSPECIFIED: ""}
    for tier, name in tiers.items():
        assert result_json(session_pb2.TranslateResponse(tier=tier))["tier"] == name  # type: ignore[arg-type]


async def test_auto_detect_over_rest_and_two_way_over_the_websocket(languages_env: GatewayEnv, wav: bytes) -> None:
    """English speech, src "auto" (REST) and a two-way en<->es session (WebSocket): the node hears English and
    Apertium translates it into Spanish; both results say what was heard and how it was translated."""
    env = languages_env
    key = (await env.tenant()).key
    async with httpx.AsyncClient(base_url=env.http_url, timeout=120) as http:
        headers = {"Authorization": f"Bearer {key}"}
        offered = (await http.get("/v1/languages", headers=headers)).json()
        (en_es,) = [p for p in offered["pairs"] if (p["src_lang"], p["tgt_lang"]) == ("en", "es")]
        assert (en_es["tier"], en_es["engine"], en_es["two_way"], en_es["nodes"]) == ("rule_based", "apertium", True, 1)
        assert {"en", "es"} <= set(offered["detectable_languages"])
        response = await http.post("/v1/speech/translate", headers=headers,
                                   files={"audio": ("hello.wav", wav, "audio/wav")},
                                   data={"src_lang": "auto", "tgt_lang": "es"})
        assert response.status_code == 200, response.text
        auto = response.json()
    assert word_error_rate(SENTENCE, auto["text_asr"]) <= 0.2, auto["text_asr"]
    assert (auto["detected_lang"], auto["src_lang"], auto["tgt_lang"]) == ("en", "en", "es"), auto
    assert (auto["mt_engine"], auto["tier"], auto["pivot_lang"]) == ("apertium", "rule_based", ""), auto
    assert auto["text_translated"] and auto["text_translated"] != auto["text_asr"]

    with wave.open(io.BytesIO(wav)) as w:
        rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    async with websockets.connect(f"{env.ws_url}/v1/stream?api_key={key}", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "mode": "two_way", "lang_a": "es", "lang_b": "en",
                                  "sample_rate_hz": rate}))
        started = await _ws_next(ws, "started", "error")
        assert started["type"] == "started", started
        session = env.scheduler.mesh.sessions[str(started["session_id"])]
        assert (session.two_way, session.lang_a, session.lang_b) == (True, "es", "en")
        for at in range(0, len(pcm), 32_000):  # under the test gateway's 64 KiB frame limit
            await ws.send(pcm[at:at + 32_000])
        await ws.send(json.dumps({"type": "end_utterance"}))
        result = await _ws_next(ws, "result", "error")
        await ws.send(json.dumps({"type": "stop"}))
    assert result["type"] == "result", result
    assert (result["detected_lang"], result["src_lang"], result["tgt_lang"]) == ("en", "en", "es"), result
    assert (result["mt_engine"], result["tier"]) == ("apertium", "rule_based"), result
    assert result["text_translated"] == auto["text_translated"]  # Apertium is deterministic
