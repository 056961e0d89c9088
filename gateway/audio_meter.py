"""How many seconds of audio a request carries, for the tenant's audio-seconds-per-day quota.

The seconds counted are DECODED seconds, never what a container's header declares: the audio is run through
the bounded decoder (lingua_common.audio.measure_audio: the container named by the declared encoding, stopped
at `max_utterance_s` or a decompression bomb's expansion ratio) in a worker thread, off the event loop. PCM16
is counted from its length. Whole audio (Translate, REST, utterances) is measured before it is forwarded;
streamed chunks of PCM16 too, while chunks of a compressed stream are kept (up to the receive limit) and
measured when their utterance ends (`is_final`, or the scheduler's KIND_UTTERANCE_SEALED event), then counted
after the fact.

The upload's encoding is what the client declares (REST: `audio_format`, else the file's Content-Type, else its
name; nothing declared means raw PCM16) and is never guessed from the bytes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from lingua.v1 import common_pb2
from lingua_common.audio import AudioDecodeError, AudioLimits, AudioTooLargeError, measure_audio
from lingua_common.errors import LinguaError

_ENCODING_NAMES: dict[int, str] = {
    common_pb2.PCM16: "PCM16", common_pb2.WAV: "WAV", common_pb2.FLAC: "FLAC", common_pb2.OGG_OPUS: "OGG_OPUS",
    common_pb2.WEBM_OPUS: "WEBM_OPUS", common_pb2.MP3: "MP3",
}
# Declarations a multipart file part can make: its Content-Type or its name's extension.
_DECLARED: tuple[tuple[str, int], ...] = (
    ("wav", common_pb2.WAV), ("wave", common_pb2.WAV), ("flac", common_pb2.FLAC), ("ogg", common_pb2.OGG_OPUS),
    ("opus", common_pb2.OGG_OPUS), ("webm", common_pb2.WEBM_OPUS), ("mp3", common_pb2.MP3),
    ("mpeg", common_pb2.MP3), ("l16", common_pb2.PCM16), ("pcm", common_pb2.PCM16), ("raw", common_pb2.PCM16),
)


def declared_encoding(filename: str = "", content_type: str = "") -> int:
    """The encoding an upload declares by its Content-Type (`audio/flac`) or, failing that, its file name's
    extension; PCM16 when neither names one. The bytes are never looked at."""
    subtype = content_type.split(";", 1)[0].strip().lower().rpartition("/")[2].removeprefix("x-")
    extension = filename.lower().rpartition(".")[2] if "." in filename else ""
    for token in (subtype, extension):
        for name, encoding in _DECLARED:
            if token == name:
                return encoding
    return common_pb2.PCM16


@dataclass(frozen=True)
class Measured:
    """Decoded seconds, and why the audio will be refused downstream (None: it decodes within the limits)."""

    seconds: float
    error: LinguaError | None = None


class AudioMeter:
    def __init__(self, max_seconds: float = 60.0) -> None:
        self.limits = AudioLimits(max_seconds=max_seconds)

    def measure_now(self, audio: common_pb2.Audio) -> Measured:
        """CPU work: call it in a thread (measure() does)."""
        name = _ENCODING_NAMES.get(audio.encoding)
        if name is None:
            return Measured(0.0, LinguaError(common_pb2.INVALID_AUDIO,
                                             "audio.encoding is not set (PCM16, WAV, FLAC, OGG_OPUS, WEBM_OPUS, MP3)"))
        try:
            return Measured(measure_audio(audio.data, name, audio.sample_rate_hz, audio.channels or 1, self.limits))
        except AudioTooLargeError as exc:  # what was decoded before it stopped still counts
            return Measured(exc.decoded_s, LinguaError(common_pb2.PAYLOAD_TOO_LARGE, str(exc)))
        except AudioDecodeError as exc:
            return Measured(0.0, LinguaError(common_pb2.INVALID_AUDIO, str(exc)))

    async def measure(self, audio: common_pb2.Audio) -> Measured:
        if audio.encoding == common_pb2.PCM16:
            return self.measure_now(audio)  # arithmetic on its length: no thread needed
        return await asyncio.to_thread(self.measure_now, audio)


class ChunkMeter:
    """One session's streamed audio: PCM16 chunks are counted as they come; chunks of other encodings are kept
    until their utterance ends, then measured as a whole (a compressed stream cannot be cut anywhere)."""

    def __init__(self, meter: AudioMeter, max_bytes: int) -> None:
        self.meter, self.max_bytes = meter, max_bytes
        self._pending = bytearray()
        self._format = common_pb2.Audio()
        # Utterances the client ended itself (is_final) whose KIND_UTTERANCE_SEALED event has not come back yet:
        # those events end nothing here (the chunks were measured at is_final); the others are pause seals.
        self.finals_unsealed = 0

    async def chunk(self, chunk: common_pb2.Audio, is_final: bool) -> float | None:
        """Seconds to count now (before forwarding the chunk; PCM16), or None: kept, count it on `ended()`.
        PAYLOAD_TOO_LARGE when one utterance's chunks pass `max_bytes` (then it starts over)."""
        if is_final:
            self.finals_unsealed += 1
        if chunk.encoding == common_pb2.PCM16:
            return (await self.meter.measure(chunk)).seconds if chunk.data else 0.0
        if len(self._pending) + len(chunk.data) > self.max_bytes:
            self._pending = bytearray()
            raise LinguaError(common_pb2.PAYLOAD_TOO_LARGE,
                              f"the chunks of one utterance are over the {self.max_bytes}-byte limit; "
                              "end the utterance sooner")
        if chunk.data:
            self._pending += chunk.data
            self._format = common_pb2.Audio(encoding=chunk.encoding, sample_rate_hz=chunk.sample_rate_hz,
                                            channels=chunk.channels)
        return None

    def sealed_by_pause(self) -> bool:
        """A KIND_UTTERANCE_SEALED event came: whether it sealed an utterance after a pause (not an is_final)."""
        if self.finals_unsealed > 0:
            self.finals_unsealed -= 1
            return False
        return True

    async def ended(self) -> float:
        """The utterance the kept chunks belong to ended: its decoded seconds (0 if nothing was kept)."""
        if not self._pending:
            return 0.0
        audio = common_pb2.Audio()
        audio.CopyFrom(self._format)
        audio.data, self._pending = bytes(self._pending), bytearray()
        return (await self.meter.measure(audio)).seconds
