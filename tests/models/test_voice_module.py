"""voice_cloning (WORLD voice adaptation) on signals with known pitch and on Piper speech (no stubs)."""

from __future__ import annotations

import numpy as np
import pytest
import pyworld

from lingua_common.audio import pcm16_to_float, resample
from node_svc.modules import voice
from node_svc.modules.speaker import SpeakerEncoder, cosine
from node_svc.pipeline import Pipeline

pytestmark = pytest.mark.models

SR = 16000
SOURCE_TEXT = "I would like a quiet room with a view of the sea."
TRANSLATION = "The museum opens at nine and closes late on Fridays."


def harmonic_tone(f0: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return np.asarray(sum(0.3 / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 6)), dtype=np.float32)


def plain_pcm(pipeline: Pipeline, text: str, language: str = "en") -> bytes:
    return b"".join(chunk.pcm16 for chunk in pipeline.tts.synthesize(text, language))


def to16k(pipeline: Pipeline, pcm: bytes) -> np.ndarray:
    return resample(pcm16_to_float(pcm), pipeline.tts.sample_rate, SR)


def source_speaker(x: np.ndarray) -> np.ndarray:
    """Another speaker made from joe: 5 semitones higher, formants 12 % higher."""
    audio = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = voice.pitch_track(audio, SR)
    sp, ap = pyworld.cheaptrick(audio, f0, t, SR), pyworld.d4c(audio, f0, t, SR)
    y = pyworld.synthesize(f0 * 2 ** (5 / 12), voice._warp(sp, 1.12), ap, SR, voice.FRAME_MS)
    return np.asarray(y[: audio.size], dtype=np.float32)


@pytest.mark.parametrize("f0", [150.0, 220.0])
def test_analysis_recovers_a_known_pitch(f0: float) -> None:
    profile = voice.analyse(harmonic_tone(f0))
    assert profile.f0_median_hz == pytest.approx(f0, rel=0.05)
    assert profile.f0_log_std < 0.02  # a steady tone has no pitch range
    assert len(profile.envelope_db) == voice.ENVELOPE_GRID_HZ.size


def test_analysis_follows_a_known_shift_of_piper_speech(pipeline: Pipeline) -> None:
    speech = to16k(pipeline, plain_pcm(pipeline, SOURCE_TEXT))
    # Tape-speed change by resampling: every frequency (F0 and formants) x 1.25, no vocoder involved.
    faster = resample(speech, int(SR * 1.25), SR)
    plain, shifted = voice.analyse(speech), voice.analyse(faster)
    assert 70 < plain.f0_median_hz < 140  # the bundled voice is a low male voice
    assert shifted.f0_median_hz / plain.f0_median_hz == pytest.approx(1.25, rel=0.05)
    # Both voices' envelopes: the warp between them is found, and none between two sentences of one voice.
    assert voice.envelope_warp(plain.envelope_db, shifted.envelope_db) == pytest.approx(1.2, abs=0.07)
    other_sentence = voice.analyse(to16k(pipeline, plain_pcm(pipeline, TRANSLATION)))
    assert voice.envelope_warp(other_sentence.envelope_db, plain.envelope_db) == pytest.approx(1.0, abs=0.05)


def test_adapt_moves_pitch_keeps_length_and_raises_similarity(pipeline: Pipeline) -> None:
    source = source_speaker(to16k(pipeline, plain_pcm(pipeline, SOURCE_TEXT)))
    profile = voice.analyse(source)
    plain = plain_pcm(pipeline, TRANSLATION)
    adapted = voice.adapt(plain, pipeline.tts.sample_rate, profile)

    assert len(adapted) == len(plain)
    samples = np.frombuffer(adapted, dtype="<i2")
    assert int(np.abs(samples.astype(np.int32)).max()) < 32767  # scaled, never clipped
    assert float(np.sqrt(np.mean((samples / 32768.0) ** 2))) > 0.02  # still speech, not silence

    before = voice.analyse(to16k(pipeline, plain)).f0_median_hz
    after = voice.analyse(to16k(pipeline, adapted)).f0_median_hz
    assert abs(before - profile.f0_median_hz) / profile.f0_median_hz > 0.2  # there was a shift to make
    assert after == pytest.approx(profile.f0_median_hz, rel=0.10)

    encoder = SpeakerEncoder()
    target = encoder.embed(source)
    plain_similarity = cosine(target, encoder.embed(to16k(pipeline, plain)))
    adapted_similarity = cosine(target, encoder.embed(to16k(pipeline, adapted)))
    assert adapted_similarity > plain_similarity + 0.08, (plain_similarity, adapted_similarity)


def test_nothing_to_adapt_is_returned_unchanged_and_silence_has_no_profile(pipeline: Pipeline) -> None:
    profile = voice.analyse(harmonic_tone(150.0))
    rate = pipeline.tts.sample_rate
    silence = bytes(2 * rate)
    assert voice.adapt(silence, rate, profile) == silence
    short = plain_pcm(pipeline, "Hello.")[: (rate // 20) * 2]  # 50 ms
    assert voice.adapt(short, rate, profile) == short
    with pytest.raises(ValueError, match="voiced speech"):
        voice.analyse(np.zeros(SR, dtype=np.float32))
