"""The original prototype's session protocol on the gateway's `/ws/session`, through a real mesh.

Real scheduler, real native node with the bundled models, real gateway with tenants and keys; the client
sends frames built from the field tables of reference/original-system.md §2.2 with plain `websockets`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator

import pytest
import websockets

from gateway.legacy_session import LegacyOptions
from node_svc.agent import NodeAgent
from tests.helpers.gateway import GatewayEnv, gateway_env
from tests.helpers.legacy_client import LegacySessionClient, pcm16_16k
from tests.helpers.legacy_mount import mount_variant
from tests.helpers.mesh import running_node, speech_wav
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
async def env(pipeline) -> AsyncIterator[tuple[GatewayEnv, NodeAgent]]:
    async with gateway_env() as env, running_node(env.scheduler_address, pipeline, name="native") as node:
        yield env, node


def _session_url(env: GatewayEnv, key: str | None = None, path: str = "/ws/session") -> str:
    return f"{env.ws_url}{path}" + (f"?api_key={key}" if key else "")


async def test_json_session_init_three_utterances_out_of_order_heartbeat_bad_frames_close(
        env: tuple[GatewayEnv, NodeAgent], pipeline) -> None:
    gw, node = env
    tenant = await gw.tenant()
    wavs = [speech_wav(pipeline, s) for s in SPEECH_SENTENCES[:3]]
    done_before = gw.scheduler.mesh.registry.get(node.node_id).jobs_completed  # type: ignore[union-attr]
    async with websockets.connect(_session_url(gw, tenant.key), max_size=None) as ws:
        client = LegacySessionClient(ws)
        # Before any session: a malformed frame and a heartbeat for no session, each answered, socket open.
        await client.send('{"type": "session_init", ')
        bad = await client.next("error")
        assert bad["code"] == "INVALID_MESSAGE" and bad["message"].startswith("invalid message format"), bad
        await client.send({"type": "client_heartbeat", "session_id": "s-00000000", "timestamp": 1})
        assert (await client.next("error"))["code"] == "INVALID_SESSION"

        ack = await client.init("en", "fr", tenant_id="someone-else", enable_streaming_asr=True)
        assert ack["type"] == "session_init_ack" and ack["message"] == "session created", ack
        assert ack["session_id"] and "assigned_node_id" not in ack  # unpaired: the null field is omitted
        assert await gw.session_tenant(ack["session_id"]) == tenant.tenant_id  # from the key, not the frame

        # Three utterances, index 2 before index 1, as raw PCM16 and as WAV.
        await client.utterance(0, pcm16_16k(wavs[0]))
        await client.utterance(2, wavs[2], audio_format="wav", sample_rate=22050, manual_cut=True)
        await client.send({"type": "utterance", "session_id": client.session_id})  # missing fields
        assert (await client.next("error"))["code"] == "INVALID_MESSAGE"
        await client.utterance(1, pcm16_16k(wavs[1]))
        await client.send({"type": "dance"})
        assert (await client.next("error"))["code"] == "INVALID_MESSAGE"
        await client.heartbeat()
        beat = await client.next("server_heartbeat")
        assert beat["session_id"] == client.session_id and abs(beat["timestamp"] - time.time() * 1000) < 60_000

        results = [await client.next("translation_result", "error") for _ in range(3)]
        assert [r["type"] for r in results] == ["translation_result"] * 3, results
        assert [r["utterance_index"] for r in results] == [0, 1, 2]  # in order, whatever order they finished
        for r, sentence in zip(results, SPEECH_SENTENCES, strict=False):
            assert word_error_rate(sentence, r["text_asr"]) <= 0.2, r["text_asr"]
            assert r["text_translated"] == phrasebook()[sentence]
            assert r["session_id"] == client.session_id and r["job_id"] and r["tts_format"] == "pcm16"
            assert len(base64.b64decode(r["tts_audio"])) / 2 / 16000 > 0.5  # speech, at the original's 16 kHz
        partials = [f for f in client.frames if f["type"] == "asr_partial"]
        assert partials and {p["session_id"] for p in partials} == {client.session_id}

        closed = await client.close()
        assert closed == {"type": "session_close_ack", "session_id": client.session_id}
        assert client.session_id not in gw.scheduler.mesh.sessions
        await client.heartbeat()  # the session is gone; the connection is not
        assert (await client.next("error"))["code"] == "INVALID_SESSION"
    # A JSON session served by the native node.
    assert gw.scheduler.mesh.registry.get(node.node_id).jobs_completed == done_before + 3  # type: ignore[union-attr]


async def test_key_in_url_or_first_frame_and_nothing_without_one(env: tuple[GatewayEnv, NodeAgent]) -> None:
    gw, _ = env
    tenant = await gw.tenant()
    async with websockets.connect(_session_url(gw)) as ws:  # no key in the URL: the first frame must carry it
        client = LegacySessionClient(ws)
        ack = await client.init("en", "fr", api_key=tenant.key)
        assert ack["type"] == "session_init_ack", ack
        assert await gw.session_tenant(ack["session_id"]) == tenant.tenant_id
        # A second init on the same connection is refused; closing frees it for a new one.
        again = await client.init("en", "fr")
        assert again["code"] == "INVALID_MESSAGE", again
        await client.close()
        # The original accepted a bad pairing code silently (§15.1): here it is an error, and no session.
        refused = await client.init("en", "fr", pairing_code="000000")
        assert refused["type"] == "error" and refused["code"] == "INVALID_PAIRING_CODE", refused
        assert (await client.init("en", "fr"))["type"] == "session_init_ack"

    async with websockets.connect(_session_url(gw)) as ws:
        await ws.send(json.dumps({"type": "session_init", "client_version": "1.0.0", "platform": "web",
                                  "src_lang": "en", "tgt_lang": "fr"}))
        refused = json.loads(await ws.recv())
        assert refused["type"] == "error" and refused["code"] == "UNAUTHENTICATED", refused
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

    with pytest.raises(websockets.InvalidStatus) as denied:  # a wrong key in the URL: refused at the handshake
        async with websockets.connect(_session_url(gw, "lk_not-a-key")):
            pass
    assert denied.value.response.status_code == 401


async def test_anonymous_clients_only_by_opt_in(env: tuple[GatewayEnv, NodeAgent]) -> None:
    gw, _ = env
    tenant = await gw.tenant()
    mount_variant(gw.server, "/test/ws/session-anon",
                  LegacyOptions(key_sources=frozenset({"query"}), anonymous_tenant=tenant.tenant_id))
    mount_variant(gw.server, "/test/ws/session-query", LegacyOptions(key_sources=frozenset({"query"})))
    async with websockets.connect(_session_url(gw, path="/test/ws/session-anon")) as ws:
        client = LegacySessionClient(ws)
        ack = await client.init("en", "fr")
        assert ack["type"] == "session_init_ack", ack
        assert await gw.session_tenant(ack["session_id"]) == tenant.tenant_id  # counted against the named tenant
        assert (await client.close())["type"] == "session_close_ack"
    with pytest.raises(websockets.InvalidStatus) as denied:  # no key, no first-frame auth, no opt-in
        async with websockets.connect(_session_url(gw, path="/test/ws/session-query")):
            pass
    assert denied.value.response.status_code == 401
