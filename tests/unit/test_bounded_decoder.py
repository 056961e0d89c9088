"""The bounded decoder for untrusted audio (lingua_common.audio): declared containers only, decoding stopped at
the duration or expansion limit with PAYLOAD_TOO_LARGE, memory bounded whatever the payload declares."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from lingua.v1 import common_pb2
from lingua_common.audio import (
    AudioDecodeError,
    AudioLimits,
    AudioTooLargeError,
    decode_audio,
    encode_wav,
    float_to_pcm16,
    measure_audio,
)
from tests.helpers.bombs import THREE_HOURS_S, silence_flac
from wirecompat import node_frames


@pytest.fixture(scope="module")
def silence_bomb() -> bytes:
    """3 h of 16 kHz digital silence as FLAC: about 0.5 MB that decodes to 660 MB of float32."""
    return silence_flac()


def tone(rate: int, seconds: float) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def flac(x: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def test_a_flac_of_three_hours_of_silence_is_refused_without_decoding_it(silence_bomb: bytes) -> None:
    assert len(silence_bomb) < 2_000_000
    tracemalloc.start()
    try:
        with pytest.raises(AudioTooLargeError, match=r"60\.0 s limit") as refused:
            decode_audio(silence_bomb, "FLAC", 0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Everything decoded would be 3 h x 16 kHz x 4 bytes = 691 MB; what is kept is about one minute of it.
    assert peak < 16 * 1024 * 1024, peak
    assert 60.0 < refused.value.decoded_s < 61.0
    assert refused.value.code_name == "PAYLOAD_TOO_LARGE"
    with pytest.raises(AudioTooLargeError):
        measure_audio(silence_bomb, "FLAC", 0)


def test_a_small_file_that_expands_past_the_ratio_is_refused_before_the_duration_limit() -> None:
    bomb = flac(np.zeros(48000 * 50, dtype=np.float32), 48000)  # 50 s of 48 kHz silence in 7 kB
    with pytest.raises(AudioTooLargeError, match="decompression bomb") as refused:
        measure_audio(bomb, "FLAC", 0)
    assert refused.value.decoded_s < 50.0
    lenient = AudioLimits(max_expansion=10_000.0)
    assert measure_audio(bomb, "FLAC", 0, limits=lenient) == pytest.approx(50.0)
    speech_like = flac(tone(48000, 50.0), 48000)  # a real signal compresses far less: within the default ratio
    assert measure_audio(speech_like, "FLAC", 0) == pytest.approx(50.0)


def test_decoded_seconds_not_declared_ones() -> None:
    two_s = flac(tone(16000, 2.0), 16000)
    # STREAMINFO's 36-bit total-samples field (bytes 21..25 of the file) rewritten to claim three hours.
    info = bytearray(two_s)
    packed = int.from_bytes(info[18:26], "big")
    packed = (packed & ~((1 << 36) - 1)) | (THREE_HOURS_S * 16000)
    info[18:26] = packed.to_bytes(8, "big")
    assert measure_audio(bytes(info), "FLAC", 0) == pytest.approx(2.0, abs=0.01)
    wav = encode_wav(float_to_pcm16(tone(16000, 2.0)), 16000)
    liar = wav[:40] + (THREE_HOURS_S * 16000 * 2).to_bytes(4, "little") + wav[44:]
    assert measure_audio(liar, "WAV", 0) == pytest.approx(2.0)
    assert measure_audio(bytes(32000), "PCM16", 16000) == 1.0
    with pytest.raises(AudioTooLargeError):
        measure_audio(bytes(61 * 32000), "PCM16", 16000)


@pytest.mark.parametrize(("encoding", "payload_of"), [
    ("WAV", lambda: flac(tone(16000, 0.5), 16000)),   # a FLAC file declared as WAV
    ("OGG_OPUS", lambda: flac(tone(16000, 0.5), 16000)),
    ("MP3", lambda: encode_wav(float_to_pcm16(tone(16000, 0.5)), 16000)),
    ("FLAC", lambda: encode_wav(float_to_pcm16(tone(16000, 0.5)), 16000)),
])
def test_the_declared_container_is_the_only_one_tried(encoding: str, payload_of) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AudioDecodeError) as refused:
        decode_audio(payload_of(), encoding, 16000)
    assert not isinstance(refused.value, AudioTooLargeError) and refused.value.code_name == "INVALID_AUDIO"


def test_vorbis_in_ogg_is_not_opus() -> None:
    buf = io.BytesIO()
    sf.write(buf, tone(16000, 0.5), 16000, format="OGG", subtype="VORBIS")
    with pytest.raises(AudioDecodeError, match="vorbis audio, not opus"):
        decode_audio(buf.getvalue(), "OGG_OPUS", 0)


def test_many_channels_and_high_rates_are_bounded() -> None:
    buf = io.BytesIO()
    sf.write(buf, np.zeros((1000, 12), dtype=np.float32), 16000, format="WAV", subtype="PCM_16")
    with pytest.raises(AudioDecodeError, match="channel count 12"):
        decode_audio(buf.getvalue(), "WAV", 0)
    loud = flac(tone(96000, 1.0), 96000)
    assert decode_audio(loud, "FLAC", 0).size == pytest.approx(16000, abs=2)  # resampled as it streams


def test_the_adapter_refuses_a_bomb_job_by_its_code(silence_bomb: bytes) -> None:
    with pytest.raises(AudioTooLargeError) as refused:
        node_frames.job_audio(common_pb2.Audio(data=silence_bomb, encoding=common_pb2.FLAC))
    assert refused.value.code_name == "PAYLOAD_TOO_LARGE"
