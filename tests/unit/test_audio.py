"""lingua_common.audio: decoding every wire encoding to 16 kHz float32 mono."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
import soundfile as sf
from av.audio.stream import AudioStream

from lingua_common.audio import (
    AudioDecodeError,
    decode_audio,
    duration_s,
    encode_wav,
    float_to_pcm16,
    pcm16_to_float,
    resample,
)

TONE_HZ = 440.0


def tone(rate: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / rate)[int(np.argmax(spectrum))])


def assert_tone(y: np.ndarray, seconds: float, tolerance_s: float = 0.002) -> None:
    """Right length at 16 kHz, right pitch, sane level."""
    assert y.dtype == np.float32
    assert y.ndim == 1
    assert abs(y.size / 16000 - seconds) <= tolerance_s
    assert abs(dominant_hz(y, 16000) - TONE_HZ) < 5
    assert np.max(np.abs(y)) <= 1.0
    assert 0.3 < float(np.sqrt(np.mean(y**2))) * np.sqrt(2) < 0.7


def encode_with_av(x: np.ndarray, rate: int, container: str, codec: str) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        assert isinstance(stream, AudioStream)
        stream.layout = "mono"
        fmt = stream.codec_context.format.name
        resampler = av.AudioResampler(format=fmt, layout="mono", rate=rate)
        frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


# ----------------------------------------------------------------- round trips


@pytest.mark.parametrize("rate", [22050, 48000, 16000, 8000])
def test_pcm16_resamples_preserving_duration_and_pitch(rate: int) -> None:
    y = decode_audio(float_to_pcm16(tone(rate, 1.5)), "PCM16", rate)
    assert_tone(y, 1.5)


def test_pcm16_resampled_signal_matches_reference() -> None:
    y = decode_audio(float_to_pcm16(tone(22050, 1.0)), "PCM16", 22050)
    reference = tone(16000, 1.0)
    # Edges carry the filter's start-up; the body must match closely.
    assert np.max(np.abs(y[400:-400] - reference[400:-400])) < 2e-3


def test_pcm16_interleaved_stereo_is_mixed_to_mono() -> None:
    left = tone(48000, 1.0)
    stereo = np.stack([left, np.zeros_like(left)], axis=1).reshape(-1)
    y = decode_audio(float_to_pcm16(stereo), "PCM16", 48000, channels=2)
    assert y.size == 16000
    assert abs(float(np.max(np.abs(y))) - 0.25) < 0.01  # (L + 0) / 2


def test_target_rate_is_honoured() -> None:
    y = decode_audio(float_to_pcm16(tone(16000, 1.0)), "PCM16", 16000, target_rate=22050)
    assert y.size == 22050


@pytest.mark.parametrize("rate", [22050, 48000])
def test_wav_round_trip(rate: int) -> None:
    wav = encode_wav(float_to_pcm16(tone(rate, 2.0)), rate)
    assert_tone(decode_audio(wav, "WAV", 0), 2.0)


def test_float_stereo_wav_from_soundfile() -> None:
    x = tone(44100, 1.0)
    buf = io.BytesIO()
    sf.write(buf, np.stack([x, x], axis=1), 44100, format="WAV", subtype="FLOAT")
    assert_tone(decode_audio(buf.getvalue(), "WAV", 0), 1.0)


@pytest.mark.parametrize("rate", [22050, 48000])
def test_flac_round_trip(rate: int) -> None:
    buf = io.BytesIO()
    sf.write(buf, tone(rate, 2.0), rate, format="FLAC", subtype="PCM_16")
    assert_tone(decode_audio(buf.getvalue(), "FLAC", 0), 2.0)


@pytest.mark.parametrize(
    ("encoding", "container", "codec"),
    [
        ("OGG_OPUS", "ogg", "libopus"),
        ("WEBM_OPUS", "webm", "libopus"),
        ("MP3", "mp3", "libmp3lame"),
    ],
)
def test_lossy_formats_made_by_av_decode(encoding: str, container: str, codec: str) -> None:
    data = encode_with_av(tone(48000, 2.0), 48000, container, codec)
    # Lossy codecs pad/prime a little; 30 ms of slack is plenty.
    assert_tone(decode_audio(data, encoding, 48000), 2.0, tolerance_s=0.03)


def test_encoding_name_is_case_insensitive() -> None:
    y = decode_audio(float_to_pcm16(tone(16000, 0.5)), "pcm16", 16000)
    assert y.size == 8000


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize("encoding", ["WAV", "FLAC", "OGG_OPUS", "WEBM_OPUS", "MP3"])
def test_garbage_bytes_are_rejected(encoding: str) -> None:
    garbage = bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8))
    with pytest.raises(AudioDecodeError, match=encoding):
        decode_audio(garbage, encoding, 16000)


@pytest.mark.parametrize("encoding", ["PCM16", "WAV", "FLAC", "OGG_OPUS", "WEBM_OPUS", "MP3"])
def test_empty_payload_is_rejected(encoding: str) -> None:
    with pytest.raises(AudioDecodeError, match="empty"):
        decode_audio(b"", encoding, 16000)


def test_pcm16_odd_byte_count_is_rejected() -> None:
    with pytest.raises(AudioDecodeError, match="odd byte count"):
        decode_audio(b"\x00\x01\x02", "PCM16", 16000)


def test_pcm16_partial_frame_is_rejected() -> None:
    with pytest.raises(AudioDecodeError, match="2-channel frames"):
        decode_audio(b"\x00" * 6, "PCM16", 16000, channels=2)


@pytest.mark.parametrize("rate", [0, 7999, 48001, 96000, -16000])
def test_pcm16_bad_rate_is_rejected(rate: int) -> None:
    with pytest.raises(AudioDecodeError, match="sample rate"):
        decode_audio(b"\x00\x00" * 100, "PCM16", rate)


def test_unknown_encoding_is_rejected() -> None:
    with pytest.raises(AudioDecodeError, match="unsupported audio encoding"):
        decode_audio(b"\x00\x00", "AAC", 16000)


def test_mislabelled_container_is_rejected() -> None:
    mp3 = encode_with_av(tone(48000, 0.5), 48000, "mp3", "libmp3lame")
    with pytest.raises(AudioDecodeError, match="OGG_OPUS"):
        decode_audio(mp3, "OGG_OPUS", 48000)


def test_max_duration_is_enforced() -> None:
    with pytest.raises(AudioDecodeError, match="limit"):
        decode_audio(float_to_pcm16(tone(16000, 2.0)), "PCM16", 16000, max_duration_s=1.0)


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(AudioDecodeError, ValueError)


# --------------------------------------------------------------------- helpers


def test_pcm16_float_round_trip_and_clipping() -> None:
    x = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, np.nan], dtype=np.float32)
    y = pcm16_to_float(float_to_pcm16(x))
    np.testing.assert_allclose(y, [0, 0.5, -0.5, 1, -1, 1, -1, 0], atol=1e-4)


def test_duration_helpers() -> None:
    assert duration_s(np.zeros(8000, dtype=np.float32), 16000) == 0.5
    assert duration_s(b"\x00\x00" * 22050, 22050) == 1.0
    assert duration_s(b"\x00\x00" * 4000, 8000, channels=2) == 0.25


def test_resample_identity_and_empty() -> None:
    x = tone(16000, 0.1)
    np.testing.assert_array_equal(resample(x, 16000, 16000), x)
    assert resample(np.zeros(0, dtype=np.float32), 48000, 16000).size == 0


def test_nan_float_wav_is_sanitised() -> None:
    x = tone(16000, 0.5)
    x[100] = np.nan
    buf = io.BytesIO()
    sf.write(buf, x, 16000, format="WAV", subtype="FLOAT")
    y = decode_audio(buf.getvalue(), "WAV", 0)
    assert np.all(np.isfinite(y))
