"""The optional modules on synthesized speech with known properties (real models, no network)."""

from __future__ import annotations

import numpy as np
import pytest
import pyworld

from lingua_common.audio import pcm16_to_float, resample
from node_svc.modules import prosody, rate, voice
from node_svc.modules.speaker import DEFAULT_THRESHOLD, SpeakerEncoder, cosine, identify
from node_svc.modules.voice import _warp
from node_svc.pipeline import Pipeline

SENTENCES = ("I would like a quiet room with a view of the sea.",
             "We should leave now if we want to catch the train.",
             "The children are playing in the garden behind the house.")


def speak(pipeline: Pipeline, text: str, length_scale: float = 1.0, lang: str = "en") -> np.ndarray:
    tts = pipeline.tts
    pcm = b"".join(c.pcm16 for c in tts.synthesize(text, lang, length_scale))
    return resample(pcm16_to_float(pcm), tts.sample_rate, 16000)


def reshape_voice(x: np.ndarray, semitones: float, warp: float, whisper: bool = False) -> np.ndarray:
    """Another voice from this one: WORLD pitch shift and formant warp (or noise excitation: a whisper)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pyworld.dio(x, 16000, frame_period=10)
    f0 = pyworld.stonemask(x, f0, t, 16000)
    sp, ap = pyworld.cheaptrick(x, f0, t, 16000), pyworld.d4c(x, f0, t, 16000)
    if whisper:
        f0, ap = np.zeros_like(f0), np.ones_like(ap)
    return pyworld.synthesize(f0 * 2 ** (semitones / 12), _warp(sp, warp), ap, 16000, 10).astype(np.float32)


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return SpeakerEncoder()


def test_same_voice_is_one_speaker_and_a_reshaped_voice_is_another(pipeline, encoder) -> None:
    a, b, c = (encoder.embed(speak(pipeline, s)) for s in SENTENCES)
    other = encoder.embed(reshape_voice(speak(pipeline, SENTENCES[0]), -5, 0.87))
    assert min(cosine(a, b), cosine(a, c), cosine(b, c)) >= DEFAULT_THRESHOLD
    assert cosine(a, other) < DEFAULT_THRESHOLD
    known: list[tuple[str, np.ndarray]] = []
    for emb, expected in ((a, "spk-1"), (b, "spk-1"), (other, "spk-2"), (c, "spk-1")):
        speaker_id, _similarity, new = identify(emb, known)
        assert speaker_id == expected
        if new:
            known.append((speaker_id, emb))
    with pytest.raises(ValueError):
        encoder.embed(np.zeros(4000, dtype=np.float32))


def test_identify_takes_the_best_match_above_the_threshold() -> None:
    e1, e2 = np.array([1.0, 0.0], dtype=np.float32), np.array([0.0, 1.0], dtype=np.float32)
    probe = np.array([0.6, 0.8], dtype=np.float32)
    assert identify(probe, [("spk-1", e1), ("spk-2", e2)], threshold=0.7)[:2] == ("spk-2", pytest.approx(0.8))
    assert identify(probe, [("spk-1", e1), ("spk-2", e2)], threshold=0.9) == ("spk-3", pytest.approx(0.8), True)


def test_voice_adaptation_moves_pitch_and_raises_similarity(pipeline, encoder) -> None:
    source = reshape_voice(speak(pipeline, SENTENCES[0]), -5, 0.87)
    profile = voice.analyse(source)
    plain_pcm = b"".join(c.pcm16 for c in pipeline.tts.synthesize(SENTENCES[1], "en"))
    adapted_pcm = voice.adapt(plain_pcm, pipeline.tts.sample_rate, profile)
    assert len(adapted_pcm) == len(plain_pcm)
    sr = pipeline.tts.sample_rate
    plain, adapted = (resample(pcm16_to_float(p), sr, 16000) for p in (plain_pcm, adapted_pcm))
    assert abs(voice.analyse(adapted).f0_median_hz - profile.f0_median_hz) / profile.f0_median_hz < 0.1
    target = encoder.embed(source)
    assert cosine(target, encoder.embed(adapted)) > cosine(target, encoder.embed(plain)) + 0.05


def test_analysis_recovers_a_known_pitch() -> None:
    t = np.arange(16000) / 16000
    tone = sum(0.3 / k * np.sin(2 * np.pi * 150 * k * t) for k in range(1, 6)).astype(np.float32)
    assert voice.analyse(tone).f0_median_hz == pytest.approx(150, rel=0.05)


def test_speech_rate_orders_fast_normal_slow_and_sets_length_scale(pipeline) -> None:
    rates = {}
    for name, scale in (("fast", 0.7), ("normal", 1.0), ("slow", 1.5)):
        words = pipeline.asr.transcribe(speak(pipeline, SENTENCES[2], scale), "en", word_timestamps=True).words
        rates[name] = rate.measure(words, "en")
    assert rates["fast"].words_per_s > rates["normal"].words_per_s > rates["slow"].words_per_s
    assert 2.0 < rates["normal"].words_per_s < 5.0
    assert rates["normal"].syllables_per_s > rates["normal"].words_per_s
    tts_wps = rates["normal"].words_per_s
    assert rate.length_scale(rates["fast"], tts_wps) < 1.0 < rate.length_scale(rates["slow"], tts_wps)
    assert rate.length_scale(rate.SpeechRate(20, 30, 1, 20, 30), 2.5) == 0.6  # clamped
    assert rate.syllables("vacation") == 3 and rate.syllables("the") == 1 and rate.syllables("house") == 1


def test_prosody_labels_follow_pitch_loudness_and_rate(pipeline) -> None:
    normal = speak(pipeline, SENTENCES[0])
    fast_high_loud = reshape_voice(speak(pipeline, SENTENCES[0], 0.7), 6, 1.0) * 3.0
    slow_low_quiet = reshape_voice(speak(pipeline, SENTENCES[0], 1.5), -6, 1.0) * 0.3
    whisper = reshape_voice(normal, 0, 1.0, whisper=True) * 0.5

    def features(x: np.ndarray, wps: float) -> prosody.Prosody:
        return prosody.analyse(np.clip(x, -1, 1), rate.SpeechRate(wps, wps * 1.4, 1.0, 1, 1))

    p_norm, p_hot, p_cold = features(normal, 2.8), features(fast_high_loud, 4.2), features(slow_low_quiet, 1.6)
    assert p_hot.f0_mean_hz > p_norm.f0_mean_hz > p_cold.f0_mean_hz
    assert p_hot.energy_db > p_norm.energy_db > p_cold.energy_db
    hot, cold = prosody.emotion(p_hot), prosody.emotion(p_cold)
    assert hot.arousal > prosody.emotion(p_norm).arousal > cold.arousal
    assert hot.label in {"excited", "angry"} and cold.label in {"calm", "sad"}
    assert prosody.voice_style(p_hot) == "loud" and prosody.voice_style(p_cold) == "slow"
    assert prosody.voice_style(features(whisper, 2.8)) == "whisper"
    assert prosody.emotion(p_norm) == prosody.emotion(features(normal, 2.8))  # deterministic
