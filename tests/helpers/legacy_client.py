"""A `/ws/session` client written from the field tables of reference/original-system.md §2.2.

Independent of Lingua's own code on purpose (plain `websockets` and JSON): it is what the original mobile
and web apps send, so a test that passes with it says those apps work against the gateway.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import wave
from typing import Any

import numpy as np
import websockets

Frame = dict[str, Any]


def pcm16_16k(wav_bytes: bytes) -> bytes:
    """The original apps' audio: raw PCM16, 16 kHz, mono (resampled from a WAV by linear interpolation)."""
    with wave.open(io.BytesIO(wav_bytes)) as w:
        rate, samples = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    positions = np.arange(0, len(samples), rate / 16000)
    return np.interp(positions, np.arange(len(samples)), samples).astype("<i2").tobytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class LegacySessionClient:
    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.session_id = ""
        self.frames: list[Frame] = []  # every frame received, in order
        self._unread: list[Frame] = []

    async def send(self, frame: Frame | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def next(self, *types: str, timeout_s: float = 120) -> Frame:
        """The first unread frame of one of `types` (frames of other types stay unread for later calls)."""
        for frame in self._unread:
            if frame["type"] in types:
                self._unread.remove(frame)
                return frame
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout_s))
            self.frames.append(frame)
            if frame["type"] in types:
                return frame
            self._unread.append(frame)

    async def init(self, src_lang: str = "en", tgt_lang: str = "fr", **extra: Any) -> Frame:
        await self.send({"type": "session_init", "client_version": "1.0.0", "platform": "ios",
                         "src_lang": src_lang, "tgt_lang": tgt_lang, "dialect": None,
                         "features": {"emotion_detection": None, "speech_rate_detection": False},
                         "pairing_code": None, **extra})
        ack = await self.next("session_init_ack", "error", timeout_s=30)
        if ack["type"] == "session_init_ack":
            self.session_id = ack["session_id"]
        return ack

    async def utterance(self, index: int, audio: bytes, audio_format: str = "pcm16", sample_rate: int = 16000,
                        manual_cut: bool = False, src_lang: str = "en", tgt_lang: str = "fr") -> None:
        await self.send({"type": "utterance", "session_id": self.session_id, "utterance_index": index,
                         "manual_cut": manual_cut, "src_lang": src_lang, "tgt_lang": tgt_lang, "dialect": None,
                         "features": None, "audio": b64(audio), "audio_format": audio_format,
                         "sample_rate": sample_rate})

    async def heartbeat(self) -> None:
        await self.send({"type": "client_heartbeat", "session_id": self.session_id,
                         "timestamp": int(time.time() * 1000)})

    async def close(self, reason: str = "user_finished") -> Frame:
        await self.send({"type": "session_close", "session_id": self.session_id, "reason": reason})
        return await self.next("session_close_ack", "error", timeout_s=60)
