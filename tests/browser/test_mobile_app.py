"""The web client as an installed app on a phone: headless Chromium emulating a 390 x 844 touch screen (device scale
factor 3, touch, a mobile user agent) against a real mesh — scheduler, a node with the bundled models, and a
gateway with a real tenant and API key, all on ephemeral ports.

It checks the install criteria (the manifest's fields and icons as fetched, the service worker controlling the page
after a reload, the app opening from its cache with no network and saying it is offline, no API response cached),
the layout (no element off-screen horizontally, every control a tap target of at least 44 px, big talk buttons), and
a whole session with the fake microphone: sentence 0 hands-free, with the network going away once it was sent — its
result is produced while nobody reads the session (checked at the scheduler) and arrives on the resumed stream —
then sentence 1 by push-to-talk while the app goes to the background and back (audio resumed, wake lock taken
again); both translated, spoken and played, each exactly once and in order. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from node_svc.pipeline import Pipeline
from scheduler_svc.sessions import Session
from tests.browser.test_web_client import microphone_wav
from tests.helpers.gateway import GatewayEnv, gateway_env
from tests.helpers.mesh import running_node
from tests.helpers.node_tools import BROWSER_TESTS, artifacts_dir, browser, driver_event
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate

SENTENCE = SPEECH_SENTENCES[0]
SHELL = ["/", "/app.js", "/apple-touch-icon.png", "/favicon.svg", "/icon-192.png", "/icon-512.png",
         "/icon-maskable-512.png", "/index.html", "/manifest.webmanifest", "/style.css", "/worklet.js"]


async def _until(what: str, check: Any, timeout_s: float = 60) -> None:
    """Polls `check()` until it is true, failing with `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.02)


async def _result_produced_while_offline(env: GatewayEnv, session_id: str) -> dict[str, int]:
    """At the scheduler: the page's dropped Subscribe let go of the session before sentence 0's result existed, then
    the result was queued for nobody."""
    session: Session = env.scheduler.mesh.sessions[session_id]
    await _until("the gateway stops reading the session", lambda: not session.outbox.reading)
    produced_before = session.results_delivered
    await _until("the result of sentence 0 is produced", lambda: session.results_delivered == 1)
    assert not session.outbox.reading and session.outbox.qsize() >= 1
    return {"produced_before_drop": produced_before, "queued": session.outbox.qsize()}


def _check_layout(layout: dict[str, Any], where: str) -> None:
    assert layout["width"] == 390 and layout["scrollWidth"] <= 390, (where, layout)  # no horizontal scroll
    assert layout["elements"] > 20 and layout["offscreen"] == [], (where, layout["offscreen"])
    assert layout["small"] == [], (where, layout["small"])  # every tap target >= 44 x 44 px
    assert layout["speak"]["height"] >= 64 and layout["endSentence"]["height"] >= 64, (where, layout)
    assert layout["speak"]["bottom"] <= layout["height"], (where, layout)  # on screen, within reach


@pytest.mark.models
@pytest.mark.slow
async def test_installed_mobile_app_survives_a_network_drop(pipeline: Pipeline, tmp_path: Path) -> None:
    chromium, node = browser()
    artifacts = artifacts_dir()
    wav, speech_s = microphone_wav(pipeline)
    (tmp_path / "microphone.wav").write_bytes(wav)
    async with gateway_env() as env, running_node(env.scheduler_address, pipeline):
        key = (await env.tenant()).key
        with (artifacts / "mobile-app-driver.log").open("wb") as log:
            driver = await asyncio.create_subprocess_exec(
                node, str(BROWSER_TESTS / "mobile_app.mjs"), f"{env.http_url}/", str(artifacts),
                str(tmp_path / "microphone.wav"), key, f"{speech_s:.3f}", cwd=BROWSER_TESTS,
                env={**os.environ, "CHROMIUM": chromium}, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=log)
        assert driver.stdin is not None
        try:
            installed = await driver_event(driver, "installed", 120)
            offline = await driver_event(driver, "offline", 120)
            at_scheduler = await _result_produced_while_offline(env, offline["session"])
            driver.stdin.write(b"online\n")
            await driver.stdin.drain()
            done = await driver_event(driver, "done", 180)
            assert await asyncio.wait_for(driver.wait(), 10) == 0
        finally:
            if driver.returncode is None:
                driver.kill()
                await driver.wait()

    # -- installable: the manifest and icons as the browser fetched them, the service worker in control ----------
    manifest = installed["manifest"]
    assert installed["manifestStatus"] == 200 and installed["manifestType"].startswith("application/manifest+json")
    assert manifest["name"] and manifest["short_name"] == "Lingua" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "./" and manifest["scope"] == "./", manifest
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#"), manifest
    pngs = {(i["sizes"], i["purpose"]): i for i in installed["icons"] if i["type"] == "image/png"}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= set(pngs), installed["icons"]
    for icon in installed["icons"]:
        assert icon["status"] == 200 and icon["contentType"] == icon["type"], icon
        assert icon["actual"] == (icon["sizes"] if icon["type"] == "image/png" else "any"), icon  # the real size
    base = installed["manifestUrl"].rsplit("/", 1)[0]
    assert installed["worker"] == {"script": f"{base}/sw.js", "scope": f"{base}/"}, installed["worker"]
    assert installed["controller"] == f"{base}/sw.js"  # controls the page after a reload
    assert "javascript" in installed["swType"] and installed["swCacheControl"] == "no-cache", installed
    # Opened with no network: the app shell from the cache, saying it is offline; the API is never cached.
    offline_start = installed["offlineStart"]
    assert offline_start["controlled"] and offline_start["connectShown"], offline_start
    assert offline_start["offlineText"].startswith("You are offline."), offline_start
    assert offline_start["api"] == "failed: TypeError", offline_start

    # -- the layout on a 390 x 844 touch screen, before and during a session ---------------------------------------
    _check_layout(installed["idleLayout"], "idle, settings open")
    targets = installed["idleLayout"]["targets"]
    assert {"#api-key", "#src-lang", "#two-way", "#connect", "#speak", "#end-sentence"} <= set(targets), targets
    assert targets.count("input") == 7, targets  # the seven feature checkboxes (their labels), settings open
    layout = done["sessionLayout"]
    _check_layout(layout, "connected")
    assert "#src-lang" not in layout["targets"]  # the settings fold away while connected: the subtitles get the room
    assert layout["translationFontPx"] >= 28 and layout["subtitleFontPx"] >= 24, layout  # readable at arm's length

    # -- the network drop: sentence 0 was sent, then the page went offline and let go of its stream ------------
    assert offline["sealed"] == ["0"] and offline["offlineShown"], offline
    assert offline["connection"].startswith("reconnecting in "), offline
    assert at_scheduler["produced_before_drop"] == 0, at_scheduler  # produced while nobody read the session
    debug = done["debug"]
    heard = [n for n in debug["network"][done["networkBefore"]:] if n != "change"]  # "change": a connection type
    assert heard == ["offline", "online"], debug["network"]
    assert done["afterResume"] == "connected", done["afterResume"]

    # -- both sentences: translated, spoken and played; each outcome exactly once, in order ---------------------
    assert [r["index"] for r in debug["results"]] == ["0", "1"], debug["results"]
    assert debug["duplicates"] == 0 and debug["sealed"] == ["0", "1"], debug
    french = phrasebook()[SENTENCE]
    for result in debug["results"]:
        assert word_error_rate(SENTENCE, result["asr"]) <= 0.2 and result["translated"] == french, result
        assert result["ttsBytes"] > 0
    shown = done["shown"]
    assert [h["index"] for h in shown["history"]] == ["1", "0"], shown["history"]  # newest first, one each
    assert shown["translation"] == french and shown["errorHidden"], shown
    assert debug["transitions"].count("playing>ready") == 2, debug["transitions"]
    playback = debug["playback"]
    tts_samples = sum(r["ttsBytes"] for r in debug["results"]) // 2
    assert playback["clips"] == 2 and playback["renderedSamples"] >= tts_samples, playback
    assert playback["loudSamples"] > 0.3 * playback["renderedSamples"], playback
    assert debug["errors"] == [] and done["pageErrors"] == [], (debug["errors"], done["pageErrors"])
    assert done["offlineLoads"] > 0  # what the page asked for while offline failed in the browser, as it should

    # -- push-to-talk: held through the sentence (the VAD's pause did not end it), let go to send ------------------
    assert done["heldState"] == "recording"
    assert len(debug["ptt"]) == 1 and debug["ptt"][0].startswith("hold "), debug["ptt"]
    assert int(debug["ptt"][0].split()[1].removesuffix("ms")) >= (1.0 + speech_s) * 1000, debug["ptt"]

    # -- background and back: audio resumed, the screen wake lock taken again; released at the end ---------------
    assert done["wakeLockConnected"] == "held"
    assert done["background"]["whileHidden"]["audio"] == "suspended", done["background"]
    assert debug["audioResumes"] == ["visible:suspended>running"], debug["audioResumes"]
    assert debug["wakeLockLog"][:3] == ["held", "released: released by the browser (page hidden)", "held"], \
        debug["wakeLockLog"]
    assert debug["wakeLock"] == "off" and done["wakeLocksReleased"] == [True, True], done["wakeLocksReleased"]

    # -- the service worker cached the app shell and nothing else (no grpc-web, no API) ------------------------
    assert done["cached"] == sorted(SHELL), done["cached"]
    for name in ("mobile-app-install.png", "mobile-app-offline.png", "mobile-app-session.png",
                 "mobile-app-reconnecting.png", "mobile-app-translated.png"):
        assert (artifacts / name).stat().st_size > 10_000, name
