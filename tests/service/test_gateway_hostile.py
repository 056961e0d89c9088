"""Hostile clients at a real gateway (issue 16): the public gRPC port's receive limit, stream cap and API-key
interceptor, failed-key throttling (429 / RESOURCE_EXHAUSTED, bounded state), decompression bombs refused by the
bounded decoder, the audio quota counting decoded seconds, and REST uploads bounded while they stream.

A real scheduler and gateway on ephemeral ports; no node is needed (what gets through ends NO_AVAILABLE_NODE)."""

from __future__ import annotations

import asyncio
import io
import socket
import struct
from collections.abc import AsyncIterator

import grpc
import httpx
import numpy as np
import pytest
import soundfile as sf

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import error_from_rpc
from tests.helpers.bombs import THREE_HOURS_S, silence_flac
from tests.helpers.gateway import GatewayEnv, gateway_env

MiB = 1024 * 1024
CLIENT_FAILURES, KEY_FAILURES, MAX_ENTRIES = 5, 3, 50


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[GatewayEnv]:
    # 127.0.0.1 is a trusted proxy here, so each test can be its own client through X-Forwarded-For.
    async with gateway_env(max_concurrent_streams=3, auth_failures_per_client=CLIENT_FAILURES,
                           auth_failures_per_key=KEY_FAILURES, max_throttle_entries=MAX_ENTRIES,
                           trusted_proxies=["127.0.0.1"], max_upload_mb=1) as env:
        yield env


def _auth(key: str, client: str = "") -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),) + ((("x-forwarded-for", client),) if client else ())


def _tone_flac(seconds: float, rate: int = 16000) -> bytes:
    t = np.arange(round(rate * seconds)) / rate
    buf = io.BytesIO()
    sf.write(buf, (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32), rate, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def _declaring(flac: bytes, seconds: int, rate: int = 16000) -> bytes:
    """The FLAC with STREAMINFO's total-samples field rewritten to claim `seconds`."""
    info = bytearray(flac)
    packed = (int.from_bytes(info[18:26], "big") & ~((1 << 36) - 1)) | (seconds * rate)
    info[18:26] = packed.to_bytes(8, "big")
    return bytes(info)


async def _translate(env: GatewayEnv, audio: common_pb2.Audio, metadata: tuple[tuple[str, str], ...]) -> grpc.RpcError:
    async with grpc.aio.insecure_channel(env.grpc_address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await session_pb2_grpc.SessionServiceStub(channel).Translate(
                session_pb2.TranslateRequest(audio=audio, src_lang="en", tgt_lang="fr"), metadata=metadata, timeout=60)
    return failed.value


async def test_a_bad_key_is_refused_before_an_oversized_body_is_read(env: GatewayEnv) -> None:
    big = common_pb2.Audio(data=bytes(20 * MiB), encoding=common_pb2.PCM16, sample_rate_hz=48000)
    for metadata in ((), _auth("lk_not_a_real_key_at_all_0000000000", "10.20.0.1")):
        refused = await _translate(env, big, metadata)  # reading the body first would be RESOURCE_EXHAUSTED
        assert refused.code() == grpc.StatusCode.UNAUTHENTICATED, refused
    key = (await env.tenant()).key
    too_big = await _translate(env, big, _auth(key, "10.20.0.2"))
    assert too_big.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, too_big
    # A full max_utterance_s of 48 kHz stereo PCM16 still fits under the default limit (12 MiB).
    minute = common_pb2.Audio(data=bytes(60 * 48000 * 4), encoding=common_pb2.PCM16, sample_rate_hz=48000, channels=2)
    fits = await _translate(env, minute, _auth(key, "10.20.0.2"))
    assert error_from_rpc(fits).code == common_pb2.NO_AVAILABLE_NODE, fits


def _server_settings(port: int) -> dict[int, int]:
    """The HTTP/2 SETTINGS the server sends a new connection (the frame is parsed by hand: 9-byte header, then
    6-byte id/value pairs)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + struct.pack(">I", 0)[1:] + bytes([4, 0]) + bytes(4))
        data = b""
        while True:
            while len(data) < 9:
                data += sock.recv(65536)
            length, kind, flags = int.from_bytes(data[:3], "big"), data[3], data[4]
            while len(data) < 9 + length:
                data += sock.recv(65536)
            payload, data = data[9:9 + length], data[9 + length:]
            if kind == 4 and not flags & 0x1:  # SETTINGS, not an ACK
                return {int.from_bytes(payload[i:i + 2], "big"): int.from_bytes(payload[i + 2:i + 6], "big")
                        for i in range(0, len(payload), 6)}


async def test_the_public_port_announces_its_stream_cap_per_connection(env: GatewayEnv) -> None:
    settings = await asyncio.to_thread(_server_settings, env.server.grpc_port)
    assert settings[0x3] == 3  # SETTINGS_MAX_CONCURRENT_STREAMS: max_concurrent_streams
    # ... and a client holding that many streams still gets its calls through, one after the other.
    key = (await env.tenant()).key
    async with grpc.aio.insecure_channel(env.grpc_address) as channel:
        stub = session_pb2_grpc.SessionServiceStub(channel)
        calls = [stub.Converse(metadata=_auth(key, "10.21.0.1")) for _ in range(3)]
        for call in calls:
            await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en",
                                                                                            tgt_lang="fr")))
            assert (await asyncio.wait_for(call.read(), 30)).HasField("opened")
        waiting = asyncio.ensure_future(stub.ListLanguages(session_pb2.ListLanguagesRequest(),
                                                           metadata=_auth(key, "10.21.0.1"), timeout=60))
        for call in calls:
            await call.done_writing()
            call.cancel()
        assert isinstance(await waiting, session_pb2.ListLanguagesResponse)


async def test_repeated_bad_keys_get_429_then_a_known_key_still_works(env: GatewayEnv) -> None:
    known, fresh = await env.tenant(), await env.tenant()
    client = {"x-forwarded-for": "10.30.0.1"}
    async with httpx.AsyncClient(base_url=env.http_url, timeout=30) as http:
        ok = await http.get("/v1/whoami", headers={"Authorization": f"Bearer {known.key}", **client})
        assert ok.status_code == 200
        for n in range(CLIENT_FAILURES):
            bad = await http.get("/v1/whoami", headers={"Authorization": f"Bearer lk_{n:09d}{'g' * 40}", **client})
            assert bad.status_code == 401, bad.text
        limited = await http.get("/v1/whoami", headers={"Authorization": "Bearer lk_" + "9" * 49, **client})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "RATE_LIMITED"
        # That client is throttled, whatever key it tries now, but one that recently worked ...
        assert (await http.get("/v1/whoami", headers={"Authorization": f"Bearer {fresh.key}", **client})
                ).status_code == 429
        assert (await http.get("/v1/whoami", headers={"Authorization": f"Bearer {known.key}", **client})
                ).status_code == 200
        # ... and another client is not affected at all.
        assert (await http.get("/v1/whoami", headers={"Authorization": f"Bearer {fresh.key}",
                                                       "x-forwarded-for": "10.30.0.2"})).status_code == 200
    # The same throttle on the public gRPC port: RESOURCE_EXHAUSTED with RATE_LIMITED and a retry delay.
    refused = await _translate(env, common_pb2.Audio(data=bytes(3200), encoding=common_pb2.PCM16,
                                                     sample_rate_hz=16000), _auth("lk_" + "8" * 49, "10.30.0.1"))
    assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_from_rpc(refused).code == common_pb2.RATE_LIMITED and error_from_rpc(refused).retry_after_ms > 0


async def test_guesses_at_one_key_prefix_from_many_clients_are_throttled(env: GatewayEnv) -> None:
    target = await env.tenant()
    prefix = target.key[:12]
    async with httpx.AsyncClient(base_url=env.http_url, timeout=30) as http:
        async def whoami(key: str, client: str) -> int:
            return (await http.get("/v1/whoami", headers={"Authorization": f"Bearer {key}",
                                                          "x-forwarded-for": client})).status_code

        assert await whoami(target.key, "10.31.0.250") == 200
        codes = [await whoami(prefix + f"{n:040d}", f"10.31.0.{n}") for n in range(KEY_FAILURES + 1)]
        assert codes == [401] * KEY_FAILURES + [429]
        assert await whoami(target.key, "10.31.0.251") == 200  # the real key, recently used, is not locked out


async def test_throttle_state_stays_bounded_under_many_clients_and_keys(env: GatewayEnv) -> None:
    throttle = env.server.access.throttle
    async with httpx.AsyncClient(base_url=env.http_url, timeout=30) as http:
        for n in range(6 * MAX_ENTRIES):
            reply = await http.get("/v1/whoami", headers={"Authorization": f"Bearer lk_{n:09d}{'z' * 40}",
                                                          "x-forwarded-for": f"10.40.{n // 250}.{n % 250}"})
            assert reply.status_code in (401, 429) and reply.json()["error"]["code"] in ("UNAUTHENTICATED",
                                                                                         "RATE_LIMITED")
    assert len(throttle.by_client) <= MAX_ENTRIES and len(throttle.by_key) <= MAX_ENTRIES
    assert (await httpx.AsyncClient().get(env.http_url + "/healthz")).status_code == 200


async def test_a_decompression_bomb_is_refused_at_the_gateway(env: GatewayEnv) -> None:
    key = (await env.tenant()).key
    bomb = silence_flac()
    refused = await _translate(env, common_pb2.Audio(data=bomb, encoding=common_pb2.FLAC), _auth(key, "10.50.0.1"))
    assert error_from_rpc(refused).code == common_pb2.PAYLOAD_TOO_LARGE, refused
    async with httpx.AsyncClient(base_url=env.http_url, timeout=60) as http:
        reply = await http.post("/v1/speech/translate", headers={"Authorization": f"Bearer {key}"},
                                files={"audio": ("bomb.flac", bomb[: MiB - 4096], "audio/flac")},
                                data={"src_lang": "en", "tgt_lang": "fr"})
        assert reply.status_code == 413 and reply.json()["error"]["code"] == "PAYLOAD_TOO_LARGE", reply.text
        # Declared FLAC, sent WAV bytes: the declared container is the one tried, so it is refused.
        wav_bytes = io.BytesIO()
        sf.write(wav_bytes, np.zeros(16000, dtype=np.float32), 16000, format="WAV", subtype="PCM_16")
        mislabelled = await http.post("/v1/speech/translate", headers={"Authorization": f"Bearer {key}"},
                                      files={"audio": ("a.flac", wav_bytes.getvalue(), "audio/flac")})
        assert mislabelled.status_code == 400 and mislabelled.json()["error"]["code"] == "INVALID_AUDIO"
        assert (await http.get("/healthz")).status_code == 200


async def test_the_audio_quota_counts_decoded_seconds_not_declared_ones(env: GatewayEnv) -> None:
    tenant = await env.tenant(audio_seconds_per_day=100)
    store = env.server.access.store
    liar = _declaring(_tone_flac(2.0), THREE_HOURS_S)  # its header says 3 h; it holds 2 s
    through = await _translate(env, common_pb2.Audio(data=liar, encoding=common_pb2.FLAC),
                               _auth(tenant.key, "10.60.0.1"))
    assert error_from_rpc(through).code == common_pb2.NO_AVAILABLE_NODE  # counted 2 s, not 10,800: admitted
    used = await asyncio.to_thread(store.audio_used, tenant.tenant_id)
    assert used == pytest.approx(2.0, abs=0.01)
    # Streamed chunks: PCM16 counted by its length, a compressed stream when its utterance ends.
    flac = _tone_flac(3.0)
    async with grpc.aio.insecure_channel(env.grpc_address) as channel:
        call = session_pb2_grpc.SessionServiceStub(channel).Converse(metadata=_auth(tenant.key, "10.60.0.1"))
        await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr")))
        assert (await asyncio.wait_for(call.read(), 30)).HasField("opened")
        pcm = common_pb2.Audio(data=bytes(16000), encoding=common_pb2.PCM16, sample_rate_hz=16000)  # 0.5 s
        await call.write(session_pb2.ClientMessage(audio_chunk=session_pb2.AudioChunk(seq=0, audio=pcm,
                                                                                      is_final=True)))
        thirds = [flac[i * len(flac) // 3:(i + 1) * len(flac) // 3] for i in range(3)]
        for seq, part in enumerate(thirds, start=1):
            await call.write(session_pb2.ClientMessage(audio_chunk=session_pb2.AudioChunk(
                seq=seq, audio=common_pb2.Audio(data=part, encoding=common_pb2.FLAC), is_final=seq == 3)))
        # A third utterance the scheduler seals after its pause (no is_final): counted when its event passes.
        halves = [flac[: len(flac) // 2], flac[len(flac) // 2:]]
        for seq, part in enumerate(halves, start=4):
            await call.write(session_pb2.ClientMessage(audio_chunk=session_pb2.AudioChunk(
                seq=seq, audio=common_pb2.Audio(data=part, encoding=common_pb2.FLAC))))
        outcomes = 0
        while outcomes < 3:  # all sealed, dispatched and refused (no node): all counted by now
            msg = await asyncio.wait_for(call.read(), 30)
            outcomes += msg.HasField("error") and msg.error.HasField("utterance_index")
        call.cancel()
    used = await asyncio.to_thread(store.audio_used, tenant.tenant_id)
    assert used == pytest.approx(2.0 + 0.5 + 3.0 + 3.0, abs=0.03)


async def test_a_rest_upload_is_cut_off_at_the_limit_while_it_streams(env: GatewayEnv) -> None:
    key = (await env.tenant()).key
    boundary = "xyzzy"

    async def body() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse it by
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.pcm\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n").encode()
        for _ in range(3):
            yield bytes(MiB)
        yield f"\r\n--{boundary}--\r\n".encode()

    async with httpx.AsyncClient(base_url=env.http_url, timeout=30) as http:
        reply = await http.post("/v1/speech/translate", content=body(), headers={
            "Authorization": f"Bearer {key}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert reply.status_code == 413 and reply.json()["error"]["code"] == "PAYLOAD_TOO_LARGE", reply.text
        declared = await http.post("/v1/speech/translate", content=bytes(2 * MiB), headers={
            "Authorization": f"Bearer {key}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert declared.status_code == 413
        assert (await http.get("/healthz")).status_code == 200
