"""Speech rate and prosody on Piper speech with known properties (real Piper, Whisper and WORLD).

Piper speaks one sentence at three speeds (its length_scale); WORLD re-synthesis then moves the pitch
level and range, or swaps the voicing for noise (a whisper); a gain moves the loudness.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import pyworld

from lingua_common.audio import pcm16_to_float, resample
from node_svc.engines.asr import AsrWord
from node_svc.modules import prosody, rate
from node_svc.pipeline import Pipeline

pytestmark = pytest.mark.models

SR = 16000
# 11 words, 18 syllables (To-mor-row mor-ning we will tra-vel to the moun-tains with our fa-mi-ly).
SENTENCE = "Tomorrow morning we will travel to the mountains with our family."
WORDS, SYLLABLES = 11, 18
SPEEDS = {"fast": 0.6, "normal": 1.0, "slow": 2.0}  # Piper length_scale


@dataclasses.dataclass(frozen=True)
class Take:
    audio: np.ndarray
    rate: rate.SpeechRate


def speak(pipeline: Pipeline, text: str, length_scale: float = 1.0) -> np.ndarray:
    tts = pipeline.tts
    pcm = b"".join(c.pcm16 for c in tts.synthesize(text, "en", length_scale))
    return resample(pcm16_to_float(pcm), tts.sample_rate, SR)


def measure(pipeline: Pipeline, audio: np.ndarray) -> rate.SpeechRate:
    return rate.measure(pipeline.asr.transcribe(audio, "en", word_timestamps=True).words, "en")


@pytest.fixture(scope="module")
def takes(pipeline: Pipeline) -> dict[str, Take]:
    out = {}
    for name, scale in SPEEDS.items():
        audio = speak(pipeline, SENTENCE, scale)
        out[name] = Take(audio, measure(pipeline, audio))
    return out


def reshape(x: np.ndarray, semitones: float = 0.0, range_scale: float = 1.0, gain: float = 1.0,
            whisper: bool = False) -> np.ndarray:
    """WORLD re-synthesis: F0 shifted by `semitones` and its spread around the mean scaled by
    `range_scale`; or, for a whisper, no F0 and full aperiodicity (noise excitation). Then a gain with
    clipping, like a hot microphone."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pyworld.dio(x, SR, frame_period=5.0)
    f0 = pyworld.stonemask(x, f0, t, SR)
    sp, ap = pyworld.cheaptrick(x, f0, t, SR), pyworld.d4c(x, f0, t, SR)
    if whisper:
        f0, ap = np.zeros_like(f0), np.ones_like(ap)
    else:
        voiced = f0 > 0
        mean = np.mean(np.log2(f0[voiced]))
        f0[voiced] = 2 ** (mean + range_scale * (np.log2(f0[voiced]) - mean) + semitones / 12)
    y = pyworld.synthesize(f0, sp, ap, SR, 5.0)
    return np.clip(y * gain, -1.0, 1.0).astype(np.float32)


# ------------------------------------------------------------------------------------------ rate


def test_measure_orders_fast_normal_slow(takes: dict[str, Take]) -> None:
    fast, normal, slow = (takes[n].rate for n in ("fast", "normal", "slow"))
    assert fast.words_per_s > normal.words_per_s > slow.words_per_s
    assert 2.0 < normal.words_per_s < 5.0
    assert (normal.words, normal.syllables) == (WORDS, SYLLABLES)
    assert normal.syllables_per_s == pytest.approx(normal.words_per_s * SYLLABLES / WORDS)
    # Piper's length_scale stretches durations, though less than linearly (2.0 / 0.6 = 3.3x).
    assert 2.0 < slow.speech_s / fast.speech_s < 3.6
    # Speech time never exceeds the audio.
    assert normal.speech_s <= takes["normal"].audio.size / SR


def test_measure_excludes_pauses(pipeline: Pipeline, takes: dict[str, Take]) -> None:
    one = takes["normal"]
    two = np.concatenate([one.audio, np.zeros(SR, np.float32), one.audio])  # a 1 s pause in between
    both = measure(pipeline, two)
    assert both.words == 2 * WORDS
    assert both.words_per_s == pytest.approx(one.rate.words_per_s, rel=0.1)
    assert both.speech_s < 2 * one.rate.speech_s + rate.PAUSE_S  # the 1 s pause is not speaking time


def test_measure_rules_on_given_words() -> None:
    words = [AsrWord(0.0, 0.3, "Hello", 0.9), AsrWord(0.4, 0.6, "there,", 0.9), AsrWord(0.6, 0.6, "...", 0.5),
             AsrWord(2.0, 2.3, "friend.", 0.9)]
    r = rate.measure(words)
    # Words 0.3 + 0.2 + 0.3 s, the 0.1 s gap counts, the 1.4 s pause does not; "..." is no word.
    assert (r.words, r.syllables) == (3, 4)
    assert r.speech_s == pytest.approx(0.9)
    # A word "lasting" 3 s (Whisper folding a pause into it) counts for MAX_SYLLABLE_S per syllable.
    stretched = rate.measure([AsrWord(0.0, 3.0, "the", 0.9)])
    assert stretched.speech_s == pytest.approx(rate.MAX_SYLLABLE_S)
    with pytest.raises(ValueError):
        rate.measure([AsrWord(0.0, 0.2, "?", 0.9)])
    with pytest.raises(ValueError):
        rate.measure([])
    assert [rate.syllables(w) for w in ("vacation", "the", "house", "table", "liked", "wanted", "2024")] == [
        3, 1, 1, 2, 1, 2, 4]
    assert rate.syllables("gare", "fr") == 1 and rate.syllables("été", "fr") == 2


def test_length_scale_direction_bounds_and_effect(pipeline: Pipeline, takes: dict[str, Take]) -> None:
    fast, normal, slow = (takes[n].rate for n in ("fast", "normal", "slow"))
    tts_wps = normal.words_per_s  # the voice's own rate at length_scale 1, measured like a speaker's
    assert rate.length_scale(fast, tts_wps) < 1.0 < rate.length_scale(slow, tts_wps)
    assert rate.length_scale(normal, tts_wps) == pytest.approx(1.0)
    assert rate.length_scale(rate.SpeechRate(20.0, 30.0, 1.0, 20, 30), 4.0) == 0.6  # clamped
    assert rate.length_scale(rate.SpeechRate(0.5, 0.7, 4.0, 2, 3), 4.0) == 1.6
    assert rate.length_scale(rate.SpeechRate(2.0, 3.0, 1.0, 2, 3), 4.0, lo=0.8, hi=1.2) == 1.2
    assert rate.length_scale(rate.SpeechRate(0.0, 0.0, 1.0, 0, 0), 4.0) == 1.0  # nothing measured
    with pytest.raises(ValueError):
        rate.length_scale(normal, tts_wps, lo=1.5, hi=1.0)
    # Across languages the rate carries over relatively: a typical English pace maps to a typical French one.
    typical_en = rate.SpeechRate(rate.REFERENCE_WPS["en"], 0.0, 1.0, 1, 1)
    across = rate.length_scale(typical_en, 5.0, src_language="en-US", tgt_language="fr")
    assert across == pytest.approx(5.0 / rate.REFERENCE_WPS["fr"])
    assert rate.reference_wps("xx") == rate.DEFAULT_WPS
    # Closing the loop: speaking at the computed scale reproduces the fast speaker's rate.
    scale = rate.length_scale(fast, tts_wps)
    assert 0.6 < scale < 1.0  # within the bounds, so no clamping
    matched = measure(pipeline, speak(pipeline, SENTENCE, scale))
    assert matched.words_per_s == pytest.approx(fast.words_per_s, rel=0.15)


# --------------------------------------------------------------------------------------- prosody


@pytest.fixture(scope="module")
def variants(takes: dict[str, Take]) -> dict[str, prosody.Prosody]:
    fast, normal, slow = (takes[n] for n in ("fast", "normal", "slow"))
    audio = {
        "normal": (normal.audio, normal.rate),
        "fast": (fast.audio, fast.rate),
        "slow": (slow.audio, slow.rate),
        "higher": (reshape(normal.audio, semitones=4), normal.rate),
        "lower": (reshape(normal.audio, semitones=-4), normal.rate),
        "quieter": (normal.audio * 0.5, normal.rate),  # -6 dB, no clipping
        "hot": (reshape(fast.audio, semitones=5, gain=2.5), fast.rate),  # loud, high, fast
        "angry": (reshape(fast.audio, semitones=2, range_scale=0.4, gain=5.0), fast.rate),  # + flat pitch
        "calm": (reshape(slow.audio, gain=0.35), slow.rate),  # quiet, slow
        "sad": (reshape(slow.audio, semitones=-6, range_scale=0.5, gain=0.3), slow.rate),  # + low, flat
        "whisper": (reshape(normal.audio, whisper=True, gain=0.3), normal.rate),
        "whisper_agc": (reshape(normal.audio, whisper=True), normal.rate),  # a whisper gain-normalised
    }
    return {name: prosody.analyse(x, r) for name, (x, r) in audio.items()}


def test_prosody_features_move_the_right_way(variants: dict[str, prosody.Prosody]) -> None:
    v = variants
    normal = v["normal"]
    assert 120 < normal.f0_mean_hz < 220 and 5 < normal.f0_range_semitones < 12
    assert -24 < normal.energy_db < -14 and normal.voiced_ratio > 0.6
    # Pitch: +-4 semitones moves the mean by ~2^(4/12) = 1.26 and leaves the range (in semitones) alone.
    assert v["higher"].f0_mean_hz / normal.f0_mean_hz == pytest.approx(2 ** (4 / 12), rel=0.08)
    assert normal.f0_mean_hz / v["lower"].f0_mean_hz == pytest.approx(2 ** (4 / 12), rel=0.08)
    assert abs(v["higher"].f0_range_semitones - normal.f0_range_semitones) < 2.0
    assert v["angry"].f0_range_semitones < 0.75 * normal.f0_range_semitones  # flattened
    # Loudness: half the amplitude is 6 dB down; the other features do not move.
    assert v["quieter"].energy_db == pytest.approx(normal.energy_db - 6.02, abs=0.1)
    assert v["quieter"].f0_mean_hz == pytest.approx(normal.f0_mean_hz, rel=0.01)
    assert v["hot"].energy_db > normal.energy_db + 6 > v["calm"].energy_db + 12
    # Rate comes from the words.
    assert v["fast"].words_per_s > normal.words_per_s > v["slow"].words_per_s > 0
    # Whispers are (almost) unvoiced, and then carry no pitch.
    assert v["whisper"].voiced_ratio < prosody.WHISPER_MAX_VOICED_RATIO and v["whisper"].f0_mean_hz == 0.0
    assert 0.0 <= normal.pause_ratio < 0.2


def test_emotion_and_style_labels_at_the_extremes(variants: dict[str, prosody.Prosody]) -> None:
    e = {name: prosody.emotion(p) for name, p in variants.items()}
    style = {name: prosody.voice_style(p) for name, p in variants.items()}
    assert e["normal"].label == "neutral" and style["normal"] == "normal"
    assert e["hot"].label in {"excited", "angry"} and e["hot"].arousal >= prosody.HIGH_AROUSAL
    assert e["angry"].label == "angry" and e["angry"].valence < prosody.NEGATIVE_VALENCE
    assert e["calm"].label in {"calm", "sad"} and e["calm"].arousal <= prosody.LOW_AROUSAL
    assert e["sad"].label == "sad" and e["sad"].valence < e["calm"].valence
    assert e["hot"].arousal > e["fast"].arousal > e["normal"].arousal > e["slow"].arousal > e["sad"].arousal
    assert e["higher"].valence > e["normal"].valence > e["lower"].valence
    assert style["hot"] == style["angry"] == "loud"
    assert style["fast"] == "fast" and style["slow"] == "slow"
    assert style["whisper"] == style["whisper_agc"] == "whisper"
    for found in e.values():
        assert -1.0 <= found.arousal <= 1.0 and -1.0 <= found.valence <= 1.0


def test_prosody_is_deterministic_and_reuses_a_pitch_track(takes: dict[str, Take]) -> None:
    x, r = takes["normal"].audio, takes["normal"].rate
    first = prosody.analyse(x, r)
    assert prosody.analyse(x.copy(), r) == first
    assert prosody.analyse(x, r, prosody.pitch_track(x)) == first
    assert prosody.emotion(first) == prosody.emotion(prosody.analyse(x, r))
    assert dataclasses.replace(first, words_per_s=0.0) == prosody.analyse(x)  # no rate: no words_per_s


def test_pauses_are_measured_and_background_noise_is_no_speech(takes: dict[str, Take]) -> None:
    x = takes["normal"].audio
    paused = np.concatenate([x, np.zeros(SR, np.float32), x])  # 1 s pause in ~7 s
    clean = prosody.analyse(paused)
    assert 0.12 < clean.pause_ratio < 0.25
    rms = float(np.sqrt(np.mean(x**2)))
    noise = np.random.default_rng(0).normal(0.0, rms / 10 ** (20 / 20), paused.size).astype(np.float32)
    noisy = prosody.analyse(paused + noise)  # 20 dB SNR: the noise-only pause still counts as a pause
    assert noisy.pause_ratio == pytest.approx(clean.pause_ratio, abs=0.04)
    assert noisy.voiced_ratio > 0.6 and noisy.f0_mean_hz == pytest.approx(clean.f0_mean_hz, rel=0.05)


def test_prosody_edge_cases() -> None:
    with pytest.raises(ValueError, match="too short"):
        prosody.analyse(np.zeros(SR // 10, np.float32))
    silent = prosody.analyse(np.zeros(SR, np.float32))
    assert (silent.f0_mean_hz, silent.voiced_ratio, silent.energy_var_db) == (0.0, 0.0, 0.0)
    assert silent.energy_db < prosody.SILENCE_DBFS and prosody.voice_style(silent) == "normal"  # no whisper
    assert prosody.emotion(silent).label in {"calm", "sad", "neutral"}
