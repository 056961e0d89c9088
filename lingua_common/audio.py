"""Audio decoding, resampling and PCM helpers shared by every Lingua service.

Proto-free on purpose: callers map their wire enum to one of ``ENCODINGS``.
Everything returns float32 mono in [-1, 1], which is what the VAD and ASR want.
"""

from __future__ import annotations

import io
import wave
from typing import Final

import av
import numpy as np
import soundfile as sf

ENCODINGS: Final = ("PCM16", "WAV", "FLAC", "OGG_OPUS", "WEBM_OPUS", "MP3")
MIN_PCM_RATE: Final = 8000
MAX_PCM_RATE: Final = 48000

# Demuxer names for PyAV. Naming the container (instead of letting FFmpeg probe)
# makes a mislabelled payload fail loudly rather than decode as something else.
_AV_FORMATS: Final = {
    "FLAC": "flac",
    "OGG_OPUS": "ogg",
    "WEBM_OPUS": "matroska",
    "MP3": "mp3",
}
# Resampler input frames are capped so a long upload never builds one huge frame.
_RESAMPLE_FRAME: Final = 1 << 16


class AudioDecodeError(ValueError):
    """The payload could not be turned into audio; the message says why."""


def decode_audio(
    data: bytes,
    encoding: str,
    sample_rate_hz: int,
    channels: int = 1,
    target_rate: int = 16000,
    max_duration_s: float | None = None,
) -> np.ndarray:
    """Decode ``data`` to float32 mono in [-1, 1] at ``target_rate``.

    ``sample_rate_hz`` and ``channels`` describe raw PCM16 only; container
    formats carry their own header, which wins.
    """
    if not data:
        raise AudioDecodeError("audio payload is empty")
    if target_rate <= 0:
        raise AudioDecodeError(f"invalid target sample rate {target_rate}")
    enc = encoding.upper()
    if enc == "PCM16":
        audio, rate = _decode_pcm16(data, sample_rate_hz, channels)
    elif enc == "WAV":
        audio, rate = _decode_wav(data)
    elif enc in _AV_FORMATS:
        audio, rate = _decode_av(data, _AV_FORMATS[enc], enc, max_duration_s)
    else:
        raise AudioDecodeError(f"unsupported audio encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    if audio.size == 0:
        raise AudioDecodeError(f"{enc} payload contains no audio samples")
    if max_duration_s is not None and audio.size / rate > max_duration_s:
        raise AudioDecodeError(f"audio is {audio.size / rate:.1f} s long; the limit is {max_duration_s:.1f} s")
    # Float WAV/FLAC may hold NaN/inf or overs; downstream models assume [-1, 1].
    audio = np.clip(np.nan_to_num(audio, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
    return resample(audio.astype(np.float32, copy=False), rate, target_rate)


def _decode_pcm16(data: bytes, sample_rate_hz: int, channels: int) -> tuple[np.ndarray, int]:
    if not MIN_PCM_RATE <= sample_rate_hz <= MAX_PCM_RATE:
        raise AudioDecodeError(f"PCM16 sample rate {sample_rate_hz} Hz is outside {MIN_PCM_RATE}..{MAX_PCM_RATE} Hz")
    if not 1 <= channels <= 8:
        raise AudioDecodeError(f"PCM16 channel count {channels} is outside 1..8")
    if len(data) % 2:
        raise AudioDecodeError(f"PCM16 payload has an odd byte count ({len(data)})")
    frame_bytes = 2 * channels
    if len(data) % frame_bytes:
        raise AudioDecodeError(f"PCM16 payload of {len(data)} bytes is not a whole number of {channels}-channel frames")
    samples = pcm16_to_float(data)
    return samples.reshape(-1, channels).mean(axis=1, dtype=np.float32), sample_rate_hz


def wav_seconds(data: bytes) -> float:
    """A WAV file's duration from its header alone (no decoding); AudioDecodeError if it is not readable."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (wave.Error, EOFError, ZeroDivisionError) as exc:
        raise AudioDecodeError(f"not a readable WAV file: {exc}") from None


def _decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    try:
        frames, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as sf_error:  # libsndfile rejects some odd-but-valid headers
        try:
            return _decode_wav_stdlib(data)
        except Exception:
            detail = getattr(sf_error, "error_string", None) or str(sf_error)
            raise AudioDecodeError(f"WAV payload could not be decoded: {detail}") from sf_error
    return np.asarray(frames, dtype=np.float32).mean(axis=1, dtype=np.float32), int(rate)


def _decode_wav_stdlib(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise AudioDecodeError("stdlib WAV fallback only handles 16-bit PCM")
        channels = wav.getnchannels()
        rate = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    samples = pcm16_to_float(raw[: len(raw) - len(raw) % (2 * channels)])
    return samples.reshape(-1, channels).mean(axis=1, dtype=np.float32), rate


def _decode_av(data: bytes, container_format: str, label: str, max_duration_s: float | None) -> tuple[np.ndarray, int]:
    try:
        with av.open(io.BytesIO(data), mode="r", format=container_format) as container:
            if not container.streams.audio:
                raise AudioDecodeError(f"{label} payload has no audio stream")
            stream = container.streams.audio[0]
            # fltp keeps the source layout/rate; we mix and resample ourselves so
            # every format goes through the same (tested) path.
            to_float = av.AudioResampler(format="fltp")
            parts: list[np.ndarray] = []
            rate = 0
            total = 0
            for packet in container.demux(stream):
                for frame in packet.decode():
                    for out in to_float.resample(frame):
                        rate = out.sample_rate
                        planes = out.to_ndarray()
                        parts.append(planes.mean(axis=0, dtype=np.float32))
                        total += planes.shape[1]
                if max_duration_s is not None and rate and total / rate > max_duration_s:
                    raise AudioDecodeError(f"audio is longer than the {max_duration_s:.1f} s limit")
    except AudioDecodeError:
        raise
    except Exception as error:  # FFmpeg raises a zoo of av.error.* types
        # strerror drops FFmpeg's errno and the meaningless "<none>" file name.
        detail = getattr(error, "strerror", None) or str(error)
        raise AudioDecodeError(f"{label} payload could not be decoded: {detail}") from error
    if not parts or rate <= 0:
        raise AudioDecodeError(f"{label} payload contains no audio samples")
    return np.concatenate(parts), rate


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
