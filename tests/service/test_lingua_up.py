"""`lingua up` (what `make up` runs) end to end: every process starts, the printed development key works at
the gateway, the web client is served, and Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import io
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import httpx
import pytest
import soundfile as sf

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.audio import encode_wav, float_to_pcm16
from tests.helpers.mesh import speech_wav
from tests.helpers.ports import free_port_block

pytestmark = [pytest.mark.slow, pytest.mark.models]
SENTENCE = "Go straight ahead until the end of the street."
BANNER_END = "Press Ctrl-C to stop."


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def _wait_for_banner(out: Path, proc: asyncio.subprocess.Process, timeout_s: float = 240) -> str:
    deadline = time.monotonic() + timeout_s
    while BANNER_END not in (text := await asyncio.to_thread(out.read_text, errors="replace")):
        assert proc.returncode is None, f"lingua up exited with {proc.returncode}:\n{text[-3000:]}"
        assert time.monotonic() < deadline, f"lingua up did not come up:\n{text[-3000:]}"
        await asyncio.sleep(0.5)
    return text


async def test_lingua_up_runs_the_mesh_with_a_working_gateway_and_stops_on_ctrl_c(pipeline, tmp_path: Path) -> None:
    base = free_port_block(8)
    ports = dict(zip(["scheduler", "metrics", "hub_grpc", "hub_http", "gw_http", "gw_grpc", "compat", "control"],
                     range(base, base + 8), strict=True))
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "LINGUA_HUB_GRPC_PORT": str(ports["hub_grpc"]), "LINGUA_HUB_HTTP_PORT": str(ports["hub_http"]),
        "LINGUA_GATEWAY_HTTP_PORT": str(ports["gw_http"]), "LINGUA_GATEWAY_GRPC_PORT": str(ports["gw_grpc"]),
        "LINGUA_COMPAT_PORT": str(ports["compat"]), "LINGUA_NODE_CONTROL_PORT": str(ports["control"]),
    }
    out = tmp_path / "up.out"
    with out.open("wb") as stdout, (tmp_path / "up.err").open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from lingua_cli.main import main; main()", "up",
            "--port", str(ports["scheduler"]), "--metrics-port", str(ports["metrics"]),
            cwd=tmp_path, env=env, stdout=stdout, stderr=stderr)
    try:
        banner = await _wait_for_banner(out, proc)
        key_line = re.search(r"API key\s+(lk_\S+)", banner)
        assert key_line, banner
        key = key_line.group(1)
        gateway = f"http://127.0.0.1:{ports['gw_http']}"
        assert f"web client       {gateway}/" in banner
        async with httpx.AsyncClient(base_url=gateway, timeout=120) as http:
            page = await http.get("/")
            assert page.status_code == 200 and "<title>" in page.text  # the web client's bundle
            assert (await http.get("/app.js")).status_code == 200
            wav = speech_wav(pipeline, SENTENCE)
            refused = await http.post("/v1/speech/translate", files={"audio": ("s.wav", wav, "audio/wav")},
                                      data={"src_lang": "en", "tgt_lang": "fr"})
            assert refused.status_code == 401
            reply = await http.post("/v1/speech/translate", headers={"Authorization": f"Bearer {key}"},
                                    files={"audio": ("s.wav", wav, "audio/wav")},
                                    data={"src_lang": "en", "tgt_lang": "es"})
            assert reply.status_code == 200, reply.text
            # A sentence the phrasebook never saw: Apertium eng-spa translates it (deterministically).
            assert reply.json()["text_translated"] == "Sigue de frente hasta el fin de la calle."
            assert reply.json()["mt_engine"] == "apertium"
        await _real_languages(ports["gw_grpc"], key, wav, tmp_path)
        assert _listening(ports["compat"]) and _listening(ports["hub_http"])
        assert (tmp_path / "data" / "gateway" / "gateway.db").is_file()  # tenants under the working directory
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        rc = await asyncio.wait_for(proc.wait(), 90)
    assert rc == 0, (tmp_path / "up.err").read_text(errors="replace")[-3000:]
    for name, port in ports.items():
        assert not _listening(port), f"{name} still listening on {port} after Ctrl-C"


def _espeak_wav(text: str, voice: str) -> bytes:
    """espeak-ng's speech as a WAV with true sizes (its --stdout header says 0x7fffffff: it streams)."""
    raw = subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "--stdout", text], capture_output=True,
                         check=True).stdout
    audio, rate = sf.read(io.BytesIO(raw), dtype="float32")
    return encode_wav(float_to_pcm16(audio), rate)


async def _real_languages(grpc_port: int, key: str, english: bytes, tmp_path: Path) -> None:
    """Issue 14's acceptance through the gateway's public gRPC: one-shot en->es, es->en and auto, the languages
    on offer, and a two-way en<->es session that alternates languages and gets every result, in order."""
    spanish = _espeak_wav("¿Dónde está la estación de tren?", "es")
    auth = (("authorization", f"Bearer {key}"),)
    wav = lambda data: common_pb2.Audio(data=data, encoding=common_pb2.WAV)  # noqa: E731
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = session_pb2_grpc.SessionServiceStub(channel)
        offers = {(p.src_lang, p.tgt_lang): p for p in
                  (await stub.ListLanguages(session_pb2.ListLanguagesRequest(), metadata=auth, timeout=10)).pairs}
        assert offers[("en", "es")].tier == common_pb2.TRANSLATION_TIER_RULE_BASED and offers[("en", "es")].two_way
        assert offers[("en", "fr")].tier == common_pb2.TRANSLATION_TIER_PIVOT  # better than the demo phrasebook
        es_en = await stub.Translate(session_pb2.TranslateRequest(audio=wav(spanish), src_lang="es", tgt_lang="en"),
                                     metadata=auth, timeout=120)
        assert "estación" in es_en.text_asr and es_en.text_translated.lower().startswith("where")
        heard = await stub.Translate(session_pb2.TranslateRequest(audio=wav(spanish), src_lang="auto",
                                                                  tgt_lang="en"), metadata=auth, timeout=120)
        assert (heard.detected_lang, heard.src_lang, heard.tgt_lang) == ("es", "es", "en")

        call = stub.Converse(metadata=auth)
        await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
            mode=session_pb2.SESSION_MODE_TWO_WAY, lang_a="en", lang_b="es")))
        opened = await asyncio.wait_for(call.read(), 30)
        assert opened.HasField("opened"), opened
        spoken = [english, spanish, english, spanish]
        for index, audio in enumerate(spoken):
            await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
                utterance_index=index, audio=wav(audio))))
        outcomes = []
        while len(outcomes) < len(spoken):
            msg = await asyncio.wait_for(call.read(), 180)
            assert msg is not grpc.aio.EOF and not msg.HasField("error"), msg
            if msg.HasField("result"):
                outcomes.append(msg.result)
        await call.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest(
            session_id=opened.opened.session_id)))
        while (msg := await asyncio.wait_for(call.read(), 30)) is not grpc.aio.EOF:  # read to the very end
            assert not msg.HasField("result") and not msg.HasField("error"), msg  # nothing extra
    assert [r.utterance_index for r in outcomes] == [0, 1, 2, 3]  # exactly one each, in order
    assert [(r.src_lang, r.tgt_lang) for r in outcomes] == [("en", "es"), ("es", "en")] * 2
    assert outcomes[0].text_translated == "Sigue de frente hasta el fin de la calle."
    assert outcomes[1].text_translated.lower().startswith("where")
