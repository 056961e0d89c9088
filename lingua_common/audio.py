"""Audio decoding, resampling and PCM helpers shared by every Lingua service.

Proto-free on purpose: callers map their wire enum to one of ``ENCODINGS`` (errors carry the wire ErrorCode's
name in ``code_name``). Everything returns float32 mono in [-1, 1], which is what the VAD and ASR want.

Audio from the network is untrusted, so ``decode_audio`` and ``measure_audio`` are one bounded decoder:
- the container and codec come from the DECLARED encoding, never from the bytes: a FLAC labelled WAV, or
  Vorbis in an Ogg labelled OGG_OPUS, is refused (INVALID_AUDIO), nothing is probed or guessed;
- decoding is incremental (one packet / block at a time) and stops with AudioTooLargeError
  (PAYLOAD_TOO_LARGE) as soon as the decoded duration passes ``AudioLimits.max_seconds`` or the decoded
  size passes ``max_expansion`` times the payload (a decompression bomb: 3 h of FLAC silence is 0.5 MB);
- what is kept is the output at the target rate (max_seconds x target_rate floats) plus one packet's
  samples, whatever the source rate, channel count or declared length.
It is CPU work: async callers run it in a thread (asyncio.to_thread).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import av
import numpy as np
import soundfile as sf

ENCODINGS: Final = ("PCM16", "WAV", "FLAC", "OGG_OPUS", "WEBM_OPUS", "MP3")
MIN_PCM_RATE: Final = 8000
MAX_PCM_RATE: Final = 48000
# The scheduler's default max_utterance_s: what a node decodes at most.
DEFAULT_MAX_SECONDS: Final = 60.0

# Demuxer (PyAV format name) and the codecs each declared encoding may hold. Naming the container (instead of
# letting FFmpeg probe) makes a mislabelled payload fail loudly rather than decode as something else.
_AV_FORMATS: Final = {
    "FLAC": ("flac", frozenset({"flac"})),
    "OGG_OPUS": ("ogg", frozenset({"opus"})),
    "WEBM_OPUS": ("matroska", frozenset({"opus"})),
    "MP3": ("mp3", frozenset({"mp3", "mp3float"})),
}
# libsndfile major formats that are RIFF/WAVE files.
_WAV_FORMATS: Final = frozenset({"WAV", "WAVEX", "RF64"})
_WAV_BLOCK: Final = 16384
# Resampler input frames are capped so a long upload never builds one huge frame.
_RESAMPLE_FRAME: Final = 1 << 16


@dataclass(frozen=True)
class AudioLimits:
    """How much decoding one untrusted payload may cause."""

    # Longest decoded audio (the utterance limit); past it: AudioTooLargeError.
    max_seconds: float = DEFAULT_MAX_SECONDS
    # Largest decoded size (16-bit samples at the source rate, all channels) per payload byte, checked once
    # `expansion_floor_bytes` have been decoded (so short, legitimately tiny clips pass). Speech compresses
    # about 2x (FLAC) to about 130x (6 kb/s Opus decoded at 48 kHz); digital silence in FLAC about 700x.
    max_expansion: float = 512.0
    expansion_floor_bytes: int = 4 * 1024 * 1024
    # Highest source sample rate and channel count accepted (containers only; PCM16 has its own range).
    max_rate: int = 192_000
    max_channels: int = 8


class AudioDecodeError(ValueError):
    """The payload could not be turned into audio; the message says why."""

    code_name = "INVALID_AUDIO"


class AudioTooLargeError(AudioDecodeError):
    """The payload decodes to more than the limits allow; decoding stopped there."""

    code_name = "PAYLOAD_TOO_LARGE"

    def __init__(self, message: str, decoded_s: float) -> None:
        super().__init__(message)
        # Seconds decoded before stopping (at least the limit when it was the duration that passed it).
        self.decoded_s = decoded_s


class _Budget:
    """Counts what was decoded and stops it at the limits."""

    def __init__(self, limits: AudioLimits, payload_bytes: int, label: str) -> None:
        self.limits, self.payload_bytes, self.label = limits, payload_bytes, label
        self.seconds = 0.0
        self.decoded_bytes = 0
        self.frames = 0

    def add(self, frames: int, rate: int, channels: int) -> None:
        self.frames += frames
        self.seconds += frames / rate
        self.decoded_bytes += frames * channels * 2
        limits = self.limits
        if self.seconds > limits.max_seconds:
            raise AudioTooLargeError(
                f"{self.label} audio is longer than the {limits.max_seconds:.1f} s limit (decoding stopped at "
                f"{self.seconds:.1f} s); cut it into sentences", self.seconds)
        if (self.decoded_bytes > limits.expansion_floor_bytes
                and self.decoded_bytes > limits.max_expansion * self.payload_bytes):
            raise AudioTooLargeError(
                f"{self.label} payload of {self.payload_bytes} bytes expands more than {limits.max_expansion:g}x "
                "when decoded; refused as a decompression bomb", self.seconds)


def _limits(limits: AudioLimits | None, max_duration_s: float | None) -> AudioLimits:
    limits = limits or AudioLimits()
    if max_duration_s is not None:
        limits = AudioLimits(max_duration_s, limits.max_expansion, limits.expansion_floor_bytes, limits.max_rate,
                             limits.max_channels)
    return limits


def decode_audio(
    data: bytes,
    encoding: str,
    sample_rate_hz: int,
    channels: int = 1,
    target_rate: int = 16000,
    max_duration_s: float | None = None,
    limits: AudioLimits | None = None,
) -> np.ndarray:
    """Decode ``data`` to float32 mono in [-1, 1] at ``target_rate``, within ``limits`` (default AudioLimits();
    ``max_duration_s`` overrides its max_seconds).

    ``sample_rate_hz`` and ``channels`` describe raw PCM16 only; container formats carry their own header,
    which wins. AudioDecodeError (INVALID_AUDIO) or AudioTooLargeError (PAYLOAD_TOO_LARGE) otherwise.
    """
    if target_rate <= 0:
        raise AudioDecodeError(f"invalid target sample rate {target_rate}")
    out = _StreamResampler(target_rate)
    for block, rate in _blocks(data, encoding, sample_rate_hz, channels, _limits(limits, max_duration_s)):
        # Float WAV/FLAC may hold NaN/inf or overs; downstream models assume [-1, 1].
        out.push(np.clip(np.nan_to_num(block, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0), rate)
    return out.finish()


def measure_audio(data: bytes, encoding: str, sample_rate_hz: int, channels: int = 1,
                  limits: AudioLimits | None = None) -> float:
    """Seconds of audio ``data`` really decodes to (not what its header declares), by decoding it within
    ``limits`` and keeping nothing. Same errors as decode_audio; AudioTooLargeError.decoded_s says how much was
    decoded before it stopped."""
    limits = limits or AudioLimits()
    if encoding.upper() == "PCM16":  # its length says it all: checked, never converted
        if not data:
            raise AudioDecodeError("audio payload is empty")
        budget = _Budget(limits, len(data), "PCM16")
        _check_pcm16(data, sample_rate_hz, channels, budget)
        return budget.seconds
    seconds = 0.0
    for block, rate in _blocks(data, encoding, sample_rate_hz, channels, limits):
        seconds += block.size / rate
    return seconds


def _blocks(data: bytes, encoding: str, sample_rate_hz: int, channels: int,
            limits: AudioLimits) -> Iterator[tuple[np.ndarray, int]]:
    """Mono float32 blocks at the source rate, each counted against the limits before it is yielded."""
    if not data:
        raise AudioDecodeError("audio payload is empty")
    enc = encoding.upper()
    budget = _Budget(limits, len(data), enc)
    if enc == "PCM16":
        blocks = _pcm16_blocks(data, sample_rate_hz, channels, budget)
    elif enc == "WAV":
        blocks = _wav_blocks(data, budget)
    elif enc in _AV_FORMATS:
        container_format, codecs = _AV_FORMATS[enc]
        blocks = _av_blocks(data, container_format, codecs, enc, budget)
    else:
        raise AudioDecodeError(f"unsupported audio encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    yield from blocks
    if budget.frames == 0:
        raise AudioDecodeError(f"{enc} payload contains no audio samples")


def _pcm16_blocks(data: bytes, sample_rate_hz: int, channels: int, budget: _Budget) -> Iterator[tuple[np.ndarray, int]]:
    _check_pcm16(data, sample_rate_hz, channels, budget)  # refused before anything is converted
    samples = pcm16_to_float(data)
    yield samples.reshape(-1, channels).mean(axis=1, dtype=np.float32), sample_rate_hz


def _check_pcm16(data: bytes, sample_rate_hz: int, channels: int, budget: _Budget) -> None:
    if not MIN_PCM_RATE <= sample_rate_hz <= MAX_PCM_RATE:
        raise AudioDecodeError(f"PCM16 sample rate {sample_rate_hz} Hz is outside {MIN_PCM_RATE}..{MAX_PCM_RATE} Hz")
    if not 1 <= channels <= 8:
        raise AudioDecodeError(f"PCM16 channel count {channels} is outside 1..8")
    if len(data) % 2:
        raise AudioDecodeError(f"PCM16 payload has an odd byte count ({len(data)})")
    frame_bytes = 2 * channels
    if len(data) % frame_bytes:
        raise AudioDecodeError(f"PCM16 payload of {len(data)} bytes is not a whole number of {channels}-channel frames")
    budget.add(len(data) // frame_bytes, sample_rate_hz, channels)


def _check_shape(label: str, rate: int, channels: int, limits: AudioLimits) -> None:
    if not 0 < rate <= limits.max_rate:
        raise AudioDecodeError(f"{label} sample rate {rate} Hz is outside 1..{limits.max_rate} Hz")
    if not 0 < channels <= limits.max_channels:
        raise AudioDecodeError(f"{label} channel count {channels} is outside 1..{limits.max_channels}")


def wav_seconds(data: bytes) -> float:
    """A WAV file's duration from its header alone (no decoding); AudioDecodeError if it is not readable."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (wave.Error, EOFError, ZeroDivisionError) as exc:
        raise AudioDecodeError(f"not a readable WAV file: {exc}") from None


def _wav_blocks(data: bytes, budget: _Budget) -> Iterator[tuple[np.ndarray, int]]:
    try:
        sound = sf.SoundFile(io.BytesIO(data))
    except Exception as sf_error:  # libsndfile rejects some odd-but-valid headers
        if not data.startswith(b"RIFF"):
            detail = getattr(sf_error, "error_string", None) or str(sf_error)
            raise AudioDecodeError(f"WAV payload could not be decoded: {detail}") from sf_error
        yield from _wav_blocks_stdlib(data, budget)
        return
    with sound:
        if sound.format not in _WAV_FORMATS:  # libsndfile reads many formats; only WAV was declared
            raise AudioDecodeError(f"WAV payload is not a RIFF/WAVE file (it reads as {sound.format})")
        rate, channels = int(sound.samplerate), int(sound.channels)
        _check_shape("WAV", rate, channels, budget.limits)
        try:
            for block in sound.blocks(blocksize=_WAV_BLOCK, dtype="float32", always_2d=True):
                budget.add(len(block), rate, channels)
                yield np.asarray(block, dtype=np.float32).mean(axis=1, dtype=np.float32), rate
        except AudioDecodeError:
            raise
        except Exception as error:
            raise AudioDecodeError(f"WAV payload could not be decoded: {error}") from error


def _wav_blocks_stdlib(data: bytes, budget: _Budget) -> Iterator[tuple[np.ndarray, int]]:
    try:
        wav = wave.open(io.BytesIO(data), "rb")  # noqa: SIM115 - closed by the `with` below
    except Exception as exc:  # wave raises Error, EOFError, RuntimeError, struct.error ... on bad headers
        raise AudioDecodeError(f"WAV payload could not be decoded: {exc or type(exc).__name__}") from None
    with wav:
        if wav.getsampwidth() != 2:
            raise AudioDecodeError("WAV payload could not be decoded (only 16-bit PCM has a fallback reader)")
        channels, rate = wav.getnchannels(), wav.getframerate()
        _check_shape("WAV", rate, channels, budget.limits)
        while True:
            try:
                raw = wav.readframes(_WAV_BLOCK)
            except Exception as exc:
                raise AudioDecodeError(f"WAV payload could not be decoded: {exc or type(exc).__name__}") from None
            raw = raw[: len(raw) - len(raw) % (2 * channels)]
            if not raw:
                break
            budget.add(len(raw) // (2 * channels), rate, channels)
            yield pcm16_to_float(raw).reshape(-1, channels).mean(axis=1, dtype=np.float32), rate


def _av_blocks(data: bytes, container_format: str, codecs: frozenset[str], label: str,
               budget: _Budget) -> Iterator[tuple[np.ndarray, int]]:
    try:
        with av.open(io.BytesIO(data), mode="r", format=container_format) as container:
            if not container.streams.audio:
                raise AudioDecodeError(f"{label} payload has no audio stream")
            stream = container.streams.audio[0]
            codec = stream.codec_context.name
            if codec not in codecs:
                raise AudioDecodeError(f"{label} payload holds {codec} audio, not {'/'.join(sorted(codecs))}")
            # fltp keeps the source layout/rate; we mix and resample ourselves so every format goes through
            # the same (tested) path.
            to_float = av.AudioResampler(format="fltp")
            source_rate = 0
            for packet in container.demux(stream):
                for frame in packet.decode():
                    rate, channels = frame.sample_rate, frame.layout.nb_channels
                    _check_shape(label, rate, channels, budget.limits)
                    if source_rate and rate != source_rate:
                        raise AudioDecodeError(f"{label} sample rate changes mid-stream ({source_rate} -> {rate} Hz)")
                    source_rate = rate
                    budget.add(frame.samples, rate, channels)  # before converting: a refused packet costs nothing
                    for out in to_float.resample(frame):
                        yield out.to_ndarray().mean(axis=0, dtype=np.float32), rate
    except AudioDecodeError:
        raise
    except Exception as error:  # FFmpeg raises a zoo of av.error.* types
        # strerror drops FFmpeg's errno and the meaningless "<none>" file name.
        detail = getattr(error, "strerror", None) or str(error)
        raise AudioDecodeError(f"{label} payload could not be decoded: {detail}") from error


class _StreamResampler:
    """Mono float32 blocks at one source rate in, one array at ``dst_rate`` out (stateful libswresample, so
    the output is the same however the input is cut)."""

    def __init__(self, dst_rate: int) -> None:
        self.dst_rate = dst_rate
        self.src_rate = 0
        self._resampler: av.AudioResampler | None = None
        self._outs: list[np.ndarray] = []

    def push(self, block: np.ndarray, rate: int) -> None:
        if self.src_rate and rate != self.src_rate:
            raise AudioDecodeError(f"sample rate changes mid-stream ({self.src_rate} -> {rate} Hz)")
        self.src_rate = rate
        block = np.ascontiguousarray(block, dtype=np.float32)
        if rate == self.dst_rate or block.size == 0:
            if block.size:
                self._outs.append(block)
            return
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.dst_rate)
        for start in range(0, block.size, _RESAMPLE_FRAME):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block[None, start : start + _RESAMPLE_FRAME]),
                                               format="flt", layout="mono")
            frame.sample_rate = rate
            self._outs.extend(f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame))

    def finish(self) -> np.ndarray:
        if self._resampler is not None:
            # Flushing returns the filter tail, so the output length matches the duration.
            self._outs.extend(f.to_ndarray().reshape(-1) for f in self._resampler.resample(None))
        if not self._outs:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._outs).astype(np.float32, copy=False)


def resample(audio: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling of float32 mono via libswresample (no scipy needed)."""
    if src_rate <= 0 or dst_rate <= 0:
        raise AudioDecodeError(f"invalid resampling {src_rate} -> {dst_rate} Hz")
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if src_rate == dst_rate or audio.size == 0:
        return audio
    resampler = av.AudioResampler(format="flt", layout="mono", rate=dst_rate)
    outs: list[np.ndarray] = []
    for start in range(0, audio.size, _RESAMPLE_FRAME):
        block = np.ascontiguousarray(audio[None, start : start + _RESAMPLE_FRAME])
        frame = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
        frame.sample_rate = src_rate
        outs.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    # Flushing returns the filter tail, so the output length matches the duration.
    outs.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    if not outs:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(outs).astype(np.float32, copy=False)


def pcm16_to_float(data: bytes) -> np.ndarray:
    """Little-endian int16 bytes -> float32 in [-1, 1)."""
    if len(data) % 2:
        raise AudioDecodeError(f"PCM16 payload has an odd byte count ({len(data)})")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(audio: np.ndarray) -> bytes:
    """float in [-1, 1] -> little-endian int16 bytes (clipped, NaN -> 0)."""
    x = np.nan_to_num(np.asarray(audio, dtype=np.float32), nan=0.0)
    return (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def encode_wav(pcm16: bytes, sample_rate: int, channels: int = 1) -> bytes:
    """Wrap raw little-endian PCM16 in a WAV container."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm16)
    return buf.getvalue()


def duration_s(audio: np.ndarray | bytes, sample_rate: int, channels: int = 1) -> float:
    """Duration of a float array (samples) or PCM16 bytes at ``sample_rate``."""
    if sample_rate <= 0:
        raise ValueError(f"invalid sample rate {sample_rate}")
    n = len(audio) // (2 * channels) if isinstance(audio, bytes) else len(audio)
    return n / sample_rate
