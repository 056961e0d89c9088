"""A compute node speaking the original `/ws/node` protocol (reference/original-system.md §2.3, §11).

Written from the field tables, not from Lingua's node agent: it registers with the original field names,
heartbeats, and answers each job_assign with job_ack, job_started, asr_partial and job_result, running the
real pipeline in a worker thread. `hold()` makes it keep jobs unanswered (to kill it mid-job); `kill()`
drops the TCP connection without a close handshake, like a crashed Electron app.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import platform
import time
import wave
from typing import Any

import numpy as np
import websockets

from node_svc.pipeline import Pipeline, PipelineRequest

Frame = dict[str, Any]

# What an Electron node with Whisper, an en→fr M2M100 and a French Piper voice reports.
EN_FR_MODELS: list[Frame] = [
    {"model_id": "whisper-base", "kind": "asr", "src_lang": "en", "tgt_lang": None, "dialect": None,
     "version": "1.0.0", "enabled": True},
    {"model_id": "m2m100-en-fr", "kind": "nmt", "src_lang": "en", "tgt_lang": "fr", "dialect": None,
     "version": "1.0.0"},
    {"model_id": "piper-fr", "kind": "tts", "src_lang": None, "tgt_lang": "fr", "version": "1.0.0"},
    {"model_id": "silero-vad", "kind": "vad", "version": "4.0"},
]


class LegacyNode:
    def __init__(self, url: str, pipeline: Pipeline, models: list[Frame] | None = None,
                 heartbeat_s: float = 15.0, early: bool = False, think_s: float = 0.0) -> None:
        self.url = url
        self.pipeline = pipeline
        self.models = models or EN_FR_MODELS
        self.heartbeat_s = heartbeat_s
        # early: a seed-era node (reference @d16c52c) that never sends job_ack/job_started nor attempt ids.
        self.early = early
        # Extra seconds before each answer (a slow machine).
        self.think_s = think_s
        self.node_id = ""
        self.ws: websockets.ClientConnection | None = None
        self.received: list[Frame] = []  # every frame from the scheduler side, in order
        self.holding: list[Frame] = []  # job_assigns being held (see hold())
        self._release = asyncio.Event()
        self._release.set()
        self._job_arrived = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pairing: asyncio.Future[Frame] | None = None

    async def start(self, node_id: str | None = None) -> Frame:
        """Connect and register (with the node_id stored from an earlier ack, when given)."""
        self.ws = await websockets.connect(self.url, max_size=None)
        await self._send({
            "type": "node_register", "node_id": node_id, "version": "1.0.0", "platform": platform.system().lower(),
            "hardware": {"cpu_cores": 8, "memory_gb": 16, "gpus": [{"name": "RTX 3060", "memory_gb": 12}]},
            "installed_models": self.models,
            "features_supported": {"emotion_detection": False, "voice_style_detection": None},
            "accept_public_jobs": True})
        ack: Frame = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
        assert ack["type"] == "node_register_ack", ack
        self.node_id = ack["node_id"]
        self._spawn(self._read())
        self._spawn(self._heartbeat())
        return ack

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, frame: Frame) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def _heartbeat(self) -> None:
        while True:
            await self._send({"type": "node_heartbeat", "node_id": self.node_id, "timestamp": int(time.time() * 1000),
                              "resource_usage": {"cpu_percent": 12.5, "gpu_percent": 3.0, "gpu_mem_percent": 20.0,
                                                 "mem_percent": 40.0, "running_jobs": len(self.holding)}})
            await asyncio.sleep(self.heartbeat_s)

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in self.ws:
                frame: Frame = json.loads(text)
                self.received.append(frame)
                if frame["type"] == "job_assign":
                    self._spawn(self._job(frame))
                elif frame["type"] == "pairing_code" and self._pairing is not None:
                    self._pairing.set_result(frame)

    async def _job(self, job: Frame) -> None:
        ids = {"job_id": job["job_id"], "node_id": self.node_id, "session_id": job["session_id"]}
        if not self.early:
            ids.update(attempt_id=job["attempt_id"], trace_id=job["trace_id"])
            await self._send({"type": "job_ack", **ids})
        if not self._release.is_set():
            self.holding.append(job)
            self._job_arrived.set()
            await self._release.wait()
        if not self.early:
            await self._send({"type": "job_started", **ids})
        started = time.perf_counter()
        await asyncio.sleep(self.think_s)
        assert job["audio_format"] == "pcm16" and job["sample_rate"] == 16000, job
        pcm = np.frombuffer(base64.b64decode(job["audio"]), dtype="<i2").astype(np.float32) / 32768.0
        request = PipelineRequest(audio=pcm, src_lang=job["src_lang"], tgt_lang=job["tgt_lang"])
        result = await asyncio.to_thread(self.pipeline.run, request)
        if job.get("enable_streaming_asr") and not self.early:
            await self._send({"type": "asr_partial", **ids, "utterance_index": job["utterance_index"],
                              "text": result.text_asr, "is_final": True})
        await self._send({
            "type": "job_result", **ids, "utterance_index": job["utterance_index"], "success": True,
            "text_asr": result.text_asr, "text_translated": result.text_translated,
            "tts_audio": base64.b64encode(_wav(result.tts_pcm16, result.tts_sample_rate)).decode(),
            "tts_format": "wav", "extra": None, "processing_time_ms": int((time.perf_counter() - started) * 1000)})

    def hold(self) -> None:
        """Acknowledge new jobs but do not run them until release()."""
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    async def held_job(self, timeout_s: float = 60) -> Frame:
        await asyncio.wait_for(self._job_arrived.wait(), timeout_s)
        return self.holding[0]

    async def request_pairing_code(self) -> str:
        self._pairing = asyncio.get_running_loop().create_future()
        await self._send({"type": "request_pairing_code", "node_id": self.node_id})
        return str((await asyncio.wait_for(self._pairing, 5))["code"])

    async def kill(self) -> None:
        """Drop the connection without a close handshake (a crashed node)."""
        assert self.ws is not None
        self.ws.transport.abort()
        await self._stop_tasks()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self._stop_tasks()

    async def _stop_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await task


def _wav(pcm16: bytes, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm16)
    return buf.getvalue()
