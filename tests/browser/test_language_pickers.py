"""The web client's language pickers in headless Chromium against a real scheduler and gateway: they list what
the mesh's online translators serve (ListLanguages through the gateway's grpc-web), label each target with its
tier, offer auto-detect when a translator detects languages, offer two-way only for a pair one translator serves
both ways, and a two-way session opens as SESSION_MODE_TWO_WAY with lang_a/lang_b (checked at the scheduler and
in the job the translator receives); the result shows the language heard, the engine and its tier.

The translator is a stand-in speaking the real NodeService protocol (no models: the pickers are what is tested,
and the real models' pairs are covered by tests/service/test_gateway_doors.py): it advertises Apertium-style
rule-based en<->es, a demo en->fr, and language detection for en and es, and answers every job at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from lingua.v1 import common_pb2, node_pb2, node_pb2_grpc, session_pb2
from lingua_common.audio import encode_wav
from tests.helpers.gateway import gateway_env
from tests.helpers.node_tools import BROWSER_TESTS, artifacts_dir, browser, driver_event

RULE_BASED, DEMO = common_pb2.TRANSLATION_TIER_RULE_BASED, common_pb2.TRANSLATION_TIER_DEMO
HEARD = ("hola, ¿qué tal?", "hello, how are you?")  # what the stand-in "hears" in Spanish, and its translation


def _models() -> list[node_pb2.InstalledModel]:
    ready = node_pb2.MODEL_STATE_READY
    pair = common_pb2.LanguagePair
    return [
        # "auto" among the ASR languages: the node identifies the spoken language (en or es).
        node_pb2.InstalledModel(model_id="whisper-stand-in", kind=node_pb2.MODEL_KIND_ASR,
                                languages=["en", "es", "auto"], state=ready),
        node_pb2.InstalledModel(model_id="apertium-en-es", kind=node_pb2.MODEL_KIND_MT, engine="apertium", state=ready,
                                pairs=[pair(src_lang="en", tgt_lang="es", tier=RULE_BASED, engine="apertium"),
                                       pair(src_lang="es", tgt_lang="en", tier=RULE_BASED, engine="apertium")]),
        node_pb2.InstalledModel(model_id="phrasebook-m2m100", kind=node_pb2.MODEL_KIND_MT, state=ready,
                                engine="ctranslate2-m2m100",
                                pairs=[pair(src_lang="en", tgt_lang="fr", tier=DEMO, engine="ctranslate2-m2m100")]),
        node_pb2.InstalledModel(model_id="piper-stand-in", kind=node_pb2.MODEL_KIND_TTS, languages=["en", "es"],
                                cross_lingual_languages=["fr"], state=ready),
    ]


def _tone(seconds: float = 0.4, rate: int = 16_000) -> bytes:
    return b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                    for i in range(int(seconds * rate)))


@dataclass
class StandInNode:
    """A translator on the real NodeService stream: register, heartbeats, and an instant answer per job."""

    address: str
    jobs: list[node_pb2.JobAssign] = field(default_factory=list)
    node_id: str = ""

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[StandInNode]:
        async with grpc.aio.insecure_channel(self.address) as channel:
            call = node_pb2_grpc.NodeServiceStub(channel).Connect()
            await call.write(node_pb2.NodeMessage(register=node_pb2.NodeRegister(
                display_name="stand-in", version="test", installed_models=_models(), max_concurrent_jobs=2,
                accept_public_jobs=True)))
            registered = (await asyncio.wait_for(call.read(), 10)).registered
            self.node_id = registered.node_id
            beats = asyncio.create_task(self._beat(call, registered.heartbeat_interval_ms / 1000 or 0.5))
            reader = asyncio.create_task(self._serve(call))
            try:
                yield self
            finally:
                for task in (beats, reader):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, grpc.RpcError):
                        await task
                call.cancel()

    async def _beat(self, call: grpc.aio.StreamStreamCall, interval_s: float) -> None:
        while True:
            await call.write(node_pb2.NodeMessage(heartbeat=node_pb2.NodeHeartbeat(
                resource_usage=node_pb2.ResourceUsage(cpu_percent=5, mem_percent=10))))
            await asyncio.sleep(interval_s)

    async def _serve(self, call: grpc.aio.StreamStreamCall) -> None:
        while (msg := await call.read()) is not grpc.aio.EOF:
            if not msg.HasField("job_assign"):
                continue
            job = msg.job_assign
            self.jobs.append(job)
            await call.write(node_pb2.NodeMessage(job_ack=node_pb2.JobAck(job_id=job.job_id,
                                                                          attempt_id=job.attempt_id)))
            two_way = job.mode == session_pb2.SESSION_MODE_TWO_WAY
            src, tgt = (job.lang_b, job.lang_a) if two_way else (job.src_lang, job.tgt_lang)  # "heard" lang_b
            result = common_pb2.TranslationResult(
                session_id=job.session_id, utterance_index=job.utterance_index, job_id=job.job_id,
                node_id=self.node_id, attempt_id=job.attempt_id, text_asr=HEARD[0], text_translated=HEARD[1],
                src_lang=src, tgt_lang=tgt, detected_lang=src if two_way else "", mt_engine="apertium",
                tier=RULE_BASED, tts_audio=common_pb2.Audio(data=_tone(), encoding=common_pb2.PCM16,
                                                            sample_rate_hz=16_000, channels=1),
                extras=common_pb2.Extras(tts_voice="piper-stand-in", tts_voice_quality="native"))
            await call.write(node_pb2.NodeMessage(job_result=node_pb2.JobResult(
                job_id=job.job_id, attempt_id=job.attempt_id, success=True, result=result, processing_ms=5)))


async def _wait_ready(env_scheduler: object, node_id: str) -> None:
    from scheduler_svc.registry import NodeState

    registry = env_scheduler.mesh.registry  # type: ignore[attr-defined]
    for _ in range(200):
        node = registry.get(node_id)
        if node is not None and node.state is NodeState.READY:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the stand-in node never became ready")


@pytest.mark.slow
async def test_pickers_list_the_mesh_languages_and_two_way_opens_a_two_way_session(tmp_path: Path) -> None:
    chromium, node = browser()
    artifacts = artifacts_dir()
    (tmp_path / "silence.wav").write_bytes(encode_wav(b"\0\0" * 16_000, 16_000))  # a quiet room
    async with gateway_env() as env, StandInNode(env.scheduler_address).running() as translator:
        await _wait_ready(env.scheduler, translator.node_id)
        key = (await env.tenant()).key
        driver = await asyncio.create_subprocess_exec(
            node, str(BROWSER_TESTS / "language_pickers.mjs"), f"{env.http_url}/", str(artifacts),
            str(tmp_path / "silence.wav"), key, cwd=BROWSER_TESTS, env={**os.environ, "CHROMIUM": chromium},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        try:
            pickers = await driver_event(driver, "pickers", 90)
            connected = await driver_event(driver, "connected", 60)
            session_id = connected["debugSession"]["sessionId"]
            session = env.scheduler.mesh.sessions[session_id]  # what the scheduler opened for the page
            seen = (session.two_way, session.lang_a, session.lang_b, await env.session_tenant(session_id))
            done = await driver_event(driver, "done", 90)
            assert await asyncio.wait_for(driver.wait(), 10) == 0
        finally:
            if driver.returncode is None:
                driver.kill()
                await driver.wait()

    # Before the key: the built-in list. After it: exactly what the mesh serves, targets labelled by tier.
    assert pickers["before"]["src"][:2] == [["en", "English (en)"], ["fr", "French (fr)"]], pickers["before"]
    assert pickers["src"] == [["auto", "Auto-detect (en, es)"], ["en", "English (en)"], ["es", "Spanish (es)"]]
    assert pickers["targets"] == {
        "en": [["fr", "French — demo"], ["es", "Spanish — rule-based"]],
        "es": [["en", "English — rule-based"]],
        "auto": [["en", "English — rule-based"], ["fr", "French — demo"], ["es", "Spanish — rule-based"]],
    }
    # Two-way only where one translator serves both directions; never with auto-detect.
    assert pickers["twoWay"] == {"en>es": True, "en>fr": False, "es>en": True, "auto>es": False}, pickers["twoWay"]
    assert pickers["debugLanguages"]["twoWay"] == ["en>es", "es>en"]
    assert pickers["debugLanguages"]["detectable"] == ["en", "es"]
    assert pickers["swapWithAuto"] is True  # swapping is off while the source is auto-detect

    # The page opened a two-way session en <-> es; the translator got two-way jobs naming both languages.
    assert connected["debugSession"]["twoWay"] is True and connected["state"] == "ready", connected
    assert connected["sessionMode"] == "two-way en ⇄ es" and connected["pickersLocked"], connected
    assert seen[:3] == (True, "en", "es"), seen
    job = translator.jobs[0]
    assert (job.mode, job.lang_a, job.lang_b, job.session_id) == (session_pb2.SESSION_MODE_TWO_WAY, "en", "es",
                                                                  session_id)
    # The result shows the language heard, the engine and its tier.
    (result,) = done["debug"]["results"]
    assert {k: result[k] for k in ("srcLang", "tgtLang", "detectedLang", "mtEngine", "tier")} == {
        "srcLang": "es", "tgtLang": "en", "detectedLang": "es", "mtEngine": "apertium", "tier": "rule-based"}
    assert done["translation"] == HEARD[1]
    assert done["resultInfo"] == "es → en · heard Spanish · apertium (rule-based)", done["resultInfo"]
    assert "heard Spanish · apertium (rule-based)" in done["historyDetails"][0]
    assert done["errors"] == [] and done["pageErrors"] == [] and done["errorHidden"], done
    # Settings kept for the next visit: the two-way choice too.
    assert done["saved"]["twoWay"] is True and (done["saved"]["srcLang"], done["saved"]["tgtLang"]) == ("en", "es")
