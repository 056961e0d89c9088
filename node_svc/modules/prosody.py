"""emotion_detection and voice_style_detection from prosody.

This is a prosodic HEURISTIC with documented thresholds, not a trained classifier: arousal grows with
pitch range, loudness and speaking rate; valence with pitch level and liveliness. Deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyworld

SAMPLE_RATE = 16000
FRAME_MS = 10.0
# Loudness (mean dBFS of voiced 10 ms frames) of normal speech: the bundled Piper voice measures -24 dBFS.
# Microphone levels vary with the client's gain, so these are relative to a normalised recording.
NORMAL_ENERGY_DB = -24.0
# voice_style thresholds
WHISPER_VOICED_RATIO = 0.15  # whispered speech has almost no voiced (periodic) frames
WHISPER_ENERGY_DB = -30.0
LOUD_ENERGY_DB = -16.0  # 8 dB (2.5x) above normal
FAST_WPS = 3.6
SLOW_WPS = 1.8
# emotion thresholds on arousal/valence in [-1, 1]
HIGH_AROUSAL = 0.35
LOW_AROUSAL = -0.35
NEGATIVE_VALENCE = -0.2
TYPICAL_F0_RANGE_ST = 8.0  # pitch range (semitones, 10th-90th percentile) of lively read speech
TYPICAL_F0_HZ = 140.0


@dataclass(frozen=True)
class Prosody:
    f0_mean_hz: float
    f0_range_semitones: float
    energy_db: float
    energy_var_db: float
    words_per_s: float
    pause_ratio: float
    voiced_ratio: float


@dataclass(frozen=True)
class Emotion:
    label: str  # neutral | excited | calm | sad | angry
    arousal: float
    valence: float


def analyse(audio16k: np.ndarray, rate: Any = None, track: tuple[np.ndarray, np.ndarray] | None = None) -> Prosody:
    """Prosodic features of 16 kHz speech; `rate` (a SpeechRate) adds words per second; `track` is a
    precomputed (f0, times) pitch track of the same audio (voice.pitch_track), to avoid computing it twice."""
    x = np.ascontiguousarray(audio16k, dtype=np.float64).reshape(-1)
    if x.size < SAMPLE_RATE // 4:
        raise ValueError("less than 0.25 s of audio: too short for prosody")
    if track is None:
        f0, t = pyworld.dio(x, SAMPLE_RATE, frame_period=FRAME_MS)
        f0 = pyworld.stonemask(x, f0, t, SAMPLE_RATE)
    else:
        f0, _t = track
    hop = int(SAMPLE_RATE * FRAME_MS / 1000)
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(x, (0, hop)), hop)[::hop][: len(f0)]
    rms_db = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9)
    active = rms_db > rms_db.max() - 40  # frames with sound at all (vs silence between words)
    voiced = (f0 > 0) & active
    voiced_f0 = f0[voiced]
    if voiced_f0.size >= 3:
        lo, hi = np.percentile(voiced_f0, [10, 90])
        f0_mean = float(np.exp(np.mean(np.log(voiced_f0))))
        f0_range = float(12 * np.log2(hi / lo))
    else:
        f0_mean, f0_range = 0.0, 0.0
    loud = rms_db[voiced] if voiced.any() else rms_db[active]
    return Prosody(
        f0_mean_hz=f0_mean, f0_range_semitones=f0_range,
        energy_db=float(np.mean(loud)) if loud.size else -120.0,
        energy_var_db=float(np.std(loud)) if loud.size else 0.0,
        words_per_s=float(getattr(rate, "words_per_s", 0.0)),
        pause_ratio=float(1 - active.mean()),
        voiced_ratio=float(voiced.sum() / max(1, active.sum())),
    )


def _clip(v: float) -> float:
    return float(max(-1.0, min(1.0, v)))


def emotion(p: Prosody) -> Emotion:
    energy = (p.energy_db - NORMAL_ENERGY_DB) / 10  # +1 per 10 dB louder than normal
    liveliness = (p.f0_range_semitones - TYPICAL_F0_RANGE_ST) / TYPICAL_F0_RANGE_ST
    pace = (p.words_per_s - 2.6) / 1.5 if p.words_per_s else 0.0
    arousal = _clip(0.45 * energy + 0.35 * liveliness + 0.3 * pace)
    pitch = np.log2(p.f0_mean_hz / TYPICAL_F0_HZ) if p.f0_mean_hz > 0 else 0.0
    valence = _clip(0.6 * float(pitch) + 0.5 * liveliness - 0.3 * max(0.0, energy - 0.5))
    if arousal >= HIGH_AROUSAL:
        label = "angry" if valence < NEGATIVE_VALENCE else "excited"
    elif arousal <= LOW_AROUSAL:
        label = "sad" if valence < NEGATIVE_VALENCE else "calm"
    else:
        label = "neutral"
    return Emotion(label, arousal, valence)


def voice_style(p: Prosody) -> str:
    if p.voiced_ratio < WHISPER_VOICED_RATIO and p.energy_db < WHISPER_ENERGY_DB + 15:
        return "whisper"
    if p.energy_db >= LOUD_ENERGY_DB:
        return "loud"
    if p.words_per_s >= FAST_WPS:
        return "fast"
    if 0 < p.words_per_s <= SLOW_WPS:
        return "slow"
    return "normal"
