"""Streaming input: AudioChunks assembled into utterances, and MT context shared within a group."""

from __future__ import annotations

import time
from collections import deque

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError


class ChunkAssembler:
    """Collects one utterance's AudioChunks; all chunks of an utterance share one encoding and rate."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._parts: list[bytes] = []
        self._size = 0
        self._format: tuple[int, int, int] | None = None
        self._last_seq = -1

    @property
    def empty(self) -> bool:
        return self._size == 0

    def add(self, chunk_seq: int, audio: common_pb2.Audio) -> None:
        if chunk_seq <= self._last_seq:
            raise LinguaError(common_pb2.INVALID_MESSAGE,
                              f"audio_chunk seq {chunk_seq} is not after {self._last_seq}; chunks must be in order")
        fmt = (audio.encoding, audio.sample_rate_hz, audio.channels or 1)
        if self._format is not None and fmt != self._format:
            raise LinguaError(common_pb2.INVALID_AUDIO,
                              "an utterance's audio chunks must share one encoding, sample rate and channel count")
        if self._size + len(audio.data) > self.max_bytes:
            raise LinguaError(common_pb2.PAYLOAD_TOO_LARGE,
                              f"the utterance being streamed is over {self.max_bytes} bytes; end it sooner")
        self._format = fmt
        self._last_seq = chunk_seq
        if audio.data:
            self._parts.append(audio.data)
            self._size += len(audio.data)

    def seal(self) -> common_pb2.Audio | None:
        """The assembled utterance (None when nothing was sent), and a fresh start for the next one."""
        if self._format is None or not self._size:
            self._reset()
            return None
        encoding, rate, channels = self._format
        audio = common_pb2.Audio(data=b"".join(self._parts), encoding=encoding,  # type: ignore[arg-type]
                                 sample_rate_hz=rate, channels=channels)
        self._reset()
        return audio

    def _reset(self) -> None:
        self._parts, self._size, self._format = [], 0, None


class GroupContext:
    """Recent source/target sentence pairs of a conversation, given to MT as context.

    Utterances closer than `window_s` to the previous one belong to the same group; a longer pause
    starts a new group with no context. Bounded in parts and characters.
    """

    def __init__(self, window_s: float = 30.0, max_parts: int = 3, max_chars: int = 400) -> None:
        self.window_s = window_s
        self.max_parts = max_parts
        self.max_chars = max_chars
        self._pairs: deque[tuple[str, str]] = deque()
        self._last = 0.0
        self.group = 0

    def text(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        if self._pairs and now - self._last > self.window_s:
            self._pairs.clear()
            self.group += 1
        out = "\n".join(f"{src}\t{tgt}" for src, tgt in self._pairs)
        return out[-self.max_chars:]

    def add(self, src_text: str, tgt_text: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if not src_text.strip():
            return
        if self._pairs and now - self._last > self.window_s:
            self._pairs.clear()
            self.group += 1
        self._pairs.append((src_text.strip(), tgt_text.strip()))
        while len(self._pairs) > self.max_parts:
            self._pairs.popleft()
        self._last = now
