"""The web client in headless Chromium against a real mesh: the gateway serves the page, Chromium's fake
microphone speaks a Piper-spoken phrasebook sentence, and the page shows the live subtitle, then the exact
French phrasebook translation, and plays the translated speech (counted by the page's playback meter).

Real scheduler, real node with the bundled models, real gateway with a real tenant and API key, all on
ephemeral ports; the page talks grpc-web through the generated TypeScript SDK. Needs /usr/bin/chromium (or
$CHROMIUM), node and tests/browser/node_modules (scripts/ensure_browser.sh installs them).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import wave
from pathlib import Path

import grpc
import httpx
import pytest

from lingua.v1 import session_pb2, session_pb2_grpc
from lingua_common.audio import encode_wav
from node_svc.pipeline import Pipeline
from tests.helpers.gateway import gateway_env, new_tenant, running_gateway
from tests.helpers.mesh import running_node, running_scheduler, speech_wav
from tests.helpers.node_tools import BROWSER_TESTS, artifacts_dir, browser, driver_event
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate

SENTENCE = SPEECH_SENTENCES[0]
TURN = ["idle>ready", "ready>recording", "recording>waiting", "waiting>playing", "playing>ready"]


def microphone_wav(pipeline: Pipeline) -> tuple[bytes, float]:
    """The sentence as Chromium's fake microphone plays it, and its speech duration in seconds.

    Chromium starts the file when the page opens the device; the page needs a moment after that to wire its
    capture worklet, so one second of silence leads (a real speaker also starts after the mic is on). The
    silence after it is what lets the page's VAD end the turn (%noloop plays silence once the file ends).
    """
    with wave.open(io.BytesIO(speech_wav(pipeline, SENTENCE))) as w:
        rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * rate + pcm + b"\0\0" * (rate // 2))
    return out.getvalue(), len(pcm) / 2 / rate


async def _check_served(base: str) -> None:
    """The gateway serves the built client (gateway/web/dist) at / with types a browser accepts."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        page = await http.get("/")
        assert page.status_code == 200, f"the gateway does not serve the web client at / ({page.status_code})"
        assert page.headers["content-type"].startswith("text/html") and 'src="app.js"' in page.text
        for path, kind in (("/app.js", "javascript"), ("/worklet.js", "javascript"), ("/style.css", "text/css")):
            asset = await http.get(path)
            assert asset.status_code == 200 and kind in asset.headers["content-type"], (path, asset.headers)


@pytest.mark.models
@pytest.mark.slow
async def test_web_client_translates_what_the_microphone_hears(pipeline: Pipeline, tmp_path: Path) -> None:
    chromium, node = browser()
    artifacts = artifacts_dir()
    wav, speech_s = microphone_wav(pipeline)
    (tmp_path / "microphone.wav").write_bytes(wav)
    async with gateway_env() as env, running_node(env.scheduler_address, pipeline):
        await _check_served(env.http_url)
        key = (await env.tenant()).key
        with (artifacts / "web-client-driver.log").open("wb") as log:
            driver = await asyncio.create_subprocess_exec(
                node, str(BROWSER_TESTS / "web_client.mjs"), f"{env.http_url}/", str(artifacts),
                str(tmp_path / "microphone.wav"), key, cwd=BROWSER_TESTS, env={**os.environ, "CHROMIUM": chromium},
                stdout=asyncio.subprocess.PIPE, stderr=log)
        try:
            out, _ = await asyncio.wait_for(driver.communicate(), 240)
        finally:
            if driver.returncode is None:
                driver.kill()
                await driver.wait()
    lines = out.decode().splitlines()
    assert lines, f"the browser driver printed nothing (rc {driver.returncode}); see web-client-driver.log"
    done = json.loads(lines[-1])
    assert done["event"] == "done", done
    debug, shown = done["debug"], done["shown"]

    # One whole half-duplex turn, with the mic released while waiting and reopened for the next sentence.
    assert done["initialState"] == "idle" and done["connection"] == "connected"
    assert debug["transitions"][:5] == TURN, debug["transitions"]
    assert debug["micEvents"][:3] == ["open@ready", "close@waiting", "open@ready"], debug["micEvents"]
    assert done["afterDisconnect"]["state"] == "idle"
    assert done["afterDisconnect"]["micOpened"] == done["afterDisconnect"]["micClosed"]
    # What went up: the sentence (plus pre-roll and the VAD's 1.25 s hangover) as 16 kHz PCM16 chunks.
    sent_s = debug["samplesSent"] / 16_000
    assert speech_s <= sent_s <= speech_s + 2.5, (sent_s, speech_s)
    assert debug["chunksSent"] >= sent_s / 0.1 / 2  # streamed while speaking, not sent at the end

    # The live subtitle came from ASR partials while the sentence was being translated, then was fixed.
    live = [s for s in done["subtitleLog"] if s["final"] == "false"]
    assert live and all(s["state"] in ("recording", "waiting") for s in live), done["subtitleLog"]
    assert debug["partials"] and word_error_rate(SENTENCE, debug["partials"][-1]) <= 0.2, debug["partials"]
    assert shown["subtitleFinal"] == "true" and word_error_rate(SENTENCE, shown["subtitle"]) <= 0.2, shown
    assert shown["translation"] == phrasebook()[SENTENCE]
    assert shown["history"][0] == {"index": "0", "src": shown["subtitle"], "tgt": shown["translation"]}

    # The translation was played: the playback meter saw the whole clip go through, and it was not silence.
    (result,) = debug["results"]
    playback = debug["playback"]
    tts_samples = result["ttsBytes"] // 2
    assert playback["clips"] == 1 and tts_samples > 0
    assert playback["renderedSamples"] >= tts_samples  # the context runs at >= the TTS rate (22.05 kHz)
    assert playback["loudSamples"] > 0.3 * playback["renderedSamples"] and playback["peak"] > 0.1, playback

    assert shown["errorHidden"] and debug["errors"] == [], debug["errors"]
    assert done["problems"] == [] and done["foreign"] == [], (done["problems"], done["foreign"])
    assert done["keyRemembered"]
    assert min((artifacts / name).stat().st_size for name in ("web-client.png", "web-client-translated.png")) > 10_000


@pytest.mark.slow
async def test_web_client_reconnects_and_renews_its_session(tmp_path: Path) -> None:
    """The gateway goes away under a connected page: the page says it is reconnecting, retries with backoff
    and, once a gateway is back on the same address, subscribes to the same session again (the scheduler
    still has it). When the scheduler then ends that session, the page opens a new one by itself."""
    chromium, node = browser()
    artifacts = artifacts_dir()
    (tmp_path / "silence.wav").write_bytes(encode_wav(b"\0\0" * 16_000, 16_000))  # a quiet room
    async with running_scheduler() as sched, contextlib.AsyncExitStack() as first:
        address = f"127.0.0.1:{sched.port}"
        gateway = await first.enter_async_context(running_gateway(address, tmp_path / "gateway", max_ws_frame_kb=1024))
        key = (await asyncio.to_thread(new_tenant, gateway.access.store)).key
        port = gateway.http_port
        await _check_served(f"http://127.0.0.1:{port}")
        driver = await asyncio.create_subprocess_exec(
            node, str(BROWSER_TESTS / "web_client_reconnect.mjs"), f"http://127.0.0.1:{port}/", str(artifacts),
            str(tmp_path / "silence.wav"), key, cwd=BROWSER_TESTS, env={**os.environ, "CHROMIUM": chromium},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        try:
            ready = await driver_event(driver, "ready")
            session = ready["session"].removeprefix("Session ")
            await first.aclose()  # the gateway goes away
            reconnecting = await driver_event(driver, "reconnecting")
            async with running_gateway(address, tmp_path / "gateway", http_port=port, max_ws_frame_kb=1024):
                resumed = await driver_event(driver, "resumed")
                async with grpc.aio.insecure_channel(address) as channel:  # the session ends at the scheduler
                    await session_pb2_grpc.SessionServiceStub(channel).CloseSession(
                        session_pb2.CloseSessionRequest(session_id=session, reason="test"))
                renewed = await driver_event(driver, "renewed")
                done = await driver_event(driver, "done")
            assert await asyncio.wait_for(driver.wait(), 10) == 0
        finally:
            if driver.returncode is None:
                driver.kill()
                await driver.wait()
    assert session.startswith("s-") and ready["state"] == "ready", ready
    assert reconnecting["text"].startswith("reconnecting in "), reconnecting
    assert resumed["session"] == ready["session"] and resumed["state"] == "ready", resumed
    assert renewed["session"] != ready["session"] and renewed["session"].startswith("Session s-"), renewed
    assert renewed["state"] == "ready", renewed
    assert done["errorHidden"] and done["errors"] == [] and done["pageErrors"] == [], done
