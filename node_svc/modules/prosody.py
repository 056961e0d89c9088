"""emotion_detection and voice_style_detection from prosodic features.

`analyse` measures pitch (WORLD DIO + StoneMask F0 on 10 ms frames), loudness (RMS per frame in dBFS,
where a full-scale square wave is 0 dBFS and a full-scale sine -3 dBFS), pausing and voicing. `emotion`
and `voice_style` map those features to labels with fixed, documented thresholds. This is a prosodic
HEURISTIC, not a trained classifier: it is deterministic and cheap, and it only sees how something is
said, never what is said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pyworld  # type: ignore[import-untyped]  # no type stubs

from node_svc.modules.rate import PAUSE_S, REFERENCE_WPS, SpeechRate

SAMPLE_RATE: Final = 16000
FRAME_MS: Final = 10.0
# DIO's tolerance for F0 jumps between its candidate estimators. Its default (0.1) unvoices many frames of
# lively, high or fast-moving pitch (Piper speech raised 6 st: 22 % voiced, F0 underestimated by ~25 %);
# 0.2 tracks them (70 % voiced) and still leaves whispers mostly unvoiced (10-20 %).
DIO_ALLOWED_RANGE: Final = 0.2
# Less audio than this has too few frames for percentiles and a pitch range.
MIN_AUDIO_S: Final = 0.25
# Digital silence would give log10(0); this floor (-180 dBFS) stands in for it.
_EPS: Final = 1e-9

# --- which frames are speech ---------------------------------------------------------------------------
# A frame is active (someone is making sound) when it is within ACTIVE_RANGE_DB of the loud end of the
# utterance (its 95th-percentile frame, so a single click does not set the reference), above SILENCE_DBFS,
# and NOISE_MARGIN_DB above the noise floor (the 10th-percentile frame): speech spans ~30-40 dB between
# vowels and weak fricatives, but a microphone's background noise can sit closer than that, and its frames
# are pauses, not speech.
ACTIVE_RANGE_DB: Final = 35.0
LOUD_PERCENTILE: Final = 95.0
SILENCE_DBFS: Final = -60.0
NOISE_PERCENTILE: Final = 10.0
NOISE_MARGIN_DB: Final = 6.0
# The F0 range is the spread between these percentiles of voiced-frame F0 (robust to octave errors).
F0_RANGE_PERCENTILES: Final = (10.0, 90.0)
# Pitch statistics need at least this many voiced frames (0.2 s) and this share of the active frames
# voiced: in whispers and noise DIO's few "voiced" frames (10-20 %) are spurious; speech is 60-90 % voiced.
MIN_VOICED_FRAMES: Final = 20
MIN_VOICED_RATIO: Final = 0.3
# DIO sometimes locks onto half or double the true F0. A voiced frame more than this many octaves (9 st)
# from the utterance's median pitch is taken to be such an error and moved back by one octave; genuine
# intonation rarely strays that far from the median (the 10-90 % range of speech is ~6-12 st wide).
OCTAVE_ERROR_OCTAVES: Final = 0.75

# --- reference ("neutral") values, the zero point of arousal/valence ------------------------------------
# Speech level: EBU R128 normalises programme loudness to -23 LUFS; speech at that loudness measures
# about -20 dBFS over its active frames (LUFS gating and K-weighting differ from plain RMS); the bundled
# Piper voice, which peak-normalises every sentence, measures -18 to -19 dBFS. Absolute levels depend on
# the microphone gain, so loudness cues are only meaningful for audio normalised like that.
NEUTRAL_ENERGY_DBFS: Final = -20.0
# Pitch level: geometric middle of typical adult speaking F0 (men ~120 Hz, women ~210 Hz). Without a
# per-speaker baseline, low voices read as lower valence/arousal than high ones: a known bias.
NEUTRAL_F0_HZ: Final = 160.0
# Pitch range (10th-90th percentile, semitones) of ordinary read speech: about two thirds of an octave
# (the Piper voice reading plain sentences: 7-9 st); flat, monotone delivery is well under 5 st.
NEUTRAL_F0_RANGE_ST: Final = 8.0
# Speaking rate (pauses excluded): the English reference, 4.4 words/s (rate.REFERENCE_WPS). Prosody
# carries no language, so other languages are judged against it too.
NEUTRAL_WPS: Final = REFERENCE_WPS["en"]

# --- scales: how far from neutral counts as "one unit" (clipped to [-1, 1] after weighting) ------------
ENERGY_SCALE_DB: Final = 10.0  # 10 dB louder is a clearly raised voice (twice as loud perceptually)
F0_LEVEL_SCALE_ST: Final = 6.0  # half an octave above/below the neutral pitch
F0_RANGE_SCALE_ST: Final = 4.0  # 4 st more/less range than neutral: animated / flat
RATE_SCALE_WPS: Final = 1.5  # a third faster/slower than neutral

# --- arousal and valence weights. Direction of each cue from the vocal-affect literature (Scherer 2003,
# "Vocal communication of emotion", Speech Communication 40; Juslin & Laukka 2003, Psych. Bulletin 129):
# high arousal (anger, joy, fear) raises loudness, pitch level, pitch range and rate; sadness lowers all.
AROUSAL_WEIGHTS: Final = {"energy": 0.4, "f0_level": 0.2, "f0_range": 0.2, "rate": 0.2}
# Valence is weakly coded in prosody: a higher, wider-ranging pitch leans positive (joy vs sadness), and
# loudness well beyond a raised voice with a flat pitch leans negative (hot anger).
VALENCE_WEIGHTS: Final = {"f0_level": 0.4, "f0_range": 0.4, "shout": 0.6}
# Loudness (in ENERGY_SCALE_DB units above neutral) beyond which extra loudness counts as shouting.
SHOUT_FROM: Final = 1.0

# --- emotion labels on the arousal/valence plane ----------------------------------------------------------
HIGH_AROUSAL: Final = 0.3  # at or above: excited (valence >= NEGATIVE_VALENCE) or angry
LOW_AROUSAL: Final = -0.3  # at or below: calm (valence >= NEGATIVE_VALENCE) or sad
NEGATIVE_VALENCE: Final = -0.15

# --- voice_style thresholds ------------------------------------------------------------------------------
# Whispering has no vocal-fold vibration: almost no voiced frames (speech: 0.6-0.9). DIO still calls
# 10-20 % of whispered frames voiced, so the cut is well above zero.
WHISPER_MAX_VOICED_RATIO: Final = MIN_VOICED_RATIO
# Loud (raised voice or shouting): 6 dB above neutral (-14 dBFS). Speech peaks ~15-20 dB above its RMS
# level, so much louder than this only exists clipped or through a limiter.
LOUD_MIN_ENERGY_DBFS: Final = NEUTRAL_ENERGY_DBFS + 6.0
# A whisper is also not loud. Whispers reach the microphone ~15-20 dB below voiced speech, but automatic
# gain control (on by default in browsers) brings them back to speech level, so the level test only rules
# out loud unvoiced sound (hiss, wind, a stage whisper into a hot microphone).
WHISPER_MAX_ENERGY_DBFS: Final = LOUD_MIN_ENERGY_DBFS
# Fast / slow: a quarter above / below the reference rate (5.5 / 3.3 words per second of speaking time).
FAST_MIN_WPS: Final = NEUTRAL_WPS * 1.25
SLOW_MAX_WPS: Final = NEUTRAL_WPS * 0.75


@dataclass(frozen=True)
class Prosody:
    f0_mean_hz: float  # geometric mean F0 of voiced frames, 0 when nothing is voiced
    f0_range_semitones: float  # 10th-90th percentile spread of voiced F0
    energy_db: float  # active speech level: RMS power over active frames, dBFS
    energy_var_db: float  # standard deviation of the frame levels (dB) over active frames
    words_per_s: float  # from the SpeechRate passed in, 0 when none
    pause_ratio: float  # share of the utterance (first to last active frame) in pauses >= PAUSE_S
    voiced_ratio: float  # voiced frames / active frames


@dataclass(frozen=True)
class Emotion:
    label: str  # neutral | excited | calm | sad | angry
    arousal: float  # -1 (sleepy) .. 1 (agitated)
    valence: float  # -1 (negative) .. 1 (positive); weakly determined by prosody


def pitch_track(audio16k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F0 per FRAME_MS frame (0 where unvoiced) and the frame times, WORLD DIO refined by StoneMask.

    DIO rather than Harvest: Harvest is ~30x slower (0.6 s for 4 s of speech on one core).
    """
    x = np.ascontiguousarray(audio16k, dtype=np.float64).reshape(-1)
    f0, t = pyworld.dio(x, SAMPLE_RATE, frame_period=FRAME_MS, allowed_range=DIO_ALLOWED_RANGE)
    return np.asarray(pyworld.stonemask(x, f0, t, SAMPLE_RATE)), np.asarray(t)


def _frame_levels_db(x: np.ndarray, n_frames: int) -> np.ndarray:
    """RMS level (dBFS) of each FRAME_MS frame centred like WORLD's frames (frame i at i * FRAME_MS)."""
    hop = int(SAMPLE_RATE * FRAME_MS / 1000)
    padded = np.pad(x, (hop // 2, n_frames * hop))
    frames = np.lib.stride_tricks.sliding_window_view(padded, hop)[::hop][:n_frames]
    return np.asarray(10 * np.log10(np.mean(frames**2, axis=1) + _EPS**2))


def _pause_ratio(active: np.ndarray) -> float:
    """Share of the span from the first to the last active frame spent in silences of PAUSE_S or more."""
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return 0.0
    span = active[idx[0] : idx[-1] + 1]
    min_frames = round(PAUSE_S * 1000 / FRAME_MS)
    paused = 0
    run = 0
    for is_active in span:
        if is_active:
            paused += run if run >= min_frames else 0
            run = 0
        else:
            run += 1
    return paused / span.size


def analyse(
    audio16k: np.ndarray,
    rate: SpeechRate | None = None,
    track: tuple[np.ndarray, np.ndarray] | None = None,
) -> Prosody:
    """Prosodic features of 16 kHz mono speech.

    `rate` (from rate.measure on the same utterance) supplies words per second. `track` is a precomputed
    (f0, times) pitch track of the same audio, so a caller that needs F0 twice computes it once; it must
    have FRAME_MS frames and should come from `pitch_track` here: a track with DIO's default settings
    (voice.pitch_track) has ~10-50 % fewer voiced frames on lively or high speech, which lowers voiced_ratio
    and the pitch range. Raises ValueError on less than MIN_AUDIO_S of audio or a track of another length.
    """
    x = np.nan_to_num(np.ascontiguousarray(audio16k, dtype=np.float64).reshape(-1))
    if x.size < MIN_AUDIO_S * SAMPLE_RATE:
        raise ValueError(f"{x.size / SAMPLE_RATE:.2f} s of audio is too short for prosody (< {MIN_AUDIO_S} s)")
    f0 = np.asarray(track[0] if track is not None else pitch_track(x)[0], dtype=np.float64).reshape(-1)
    expected = int(x.size * 1000 // (SAMPLE_RATE * FRAME_MS)) + 1  # DIO's frame count
    if abs(f0.size - expected) > 1:  # another frame period or another clip: levels would not line up
        raise ValueError(f"pitch track has {f0.size} frames, expected {expected} at {FRAME_MS} ms")
    level = _frame_levels_db(x, f0.size)
    loud_end, noise_floor = np.percentile(level, [LOUD_PERCENTILE, NOISE_PERCENTILE])
    active = level > max(SILENCE_DBFS, loud_end - ACTIVE_RANGE_DB, noise_floor + NOISE_MARGIN_DB)
    voiced = active & (f0 > 0)
    n_active = int(active.sum())
    if voiced.sum() >= max(MIN_VOICED_FRAMES, MIN_VOICED_RATIO * n_active):
        octaves = np.log2(f0[voiced])
        median = float(np.median(octaves))
        octaves = np.where(octaves < median - OCTAVE_ERROR_OCTAVES, octaves + 1.0, octaves)
        octaves = np.where(octaves > median + OCTAVE_ERROR_OCTAVES, octaves - 1.0, octaves)
        lo, hi = np.percentile(octaves, F0_RANGE_PERCENTILES)
        f0_mean = float(2 ** np.mean(octaves))
        f0_range = float(12 * (hi - lo))
    else:
        f0_mean, f0_range = 0.0, 0.0
    if active.any():
        energy = float(10 * np.log10(np.mean(10 ** (level[active] / 10))))
        energy_var = float(np.std(level[active]))
    else:  # silence: report its level, nothing varies
        energy, energy_var = float(np.max(level)), 0.0
    return Prosody(
        f0_mean_hz=f0_mean,
        f0_range_semitones=f0_range,
        energy_db=energy,
        energy_var_db=energy_var,
        words_per_s=float(rate.words_per_s) if rate is not None else 0.0,
        pause_ratio=_pause_ratio(active),
        voiced_ratio=float(voiced.sum() / n_active) if n_active else 0.0,
    )


def _clip(value: float) -> float:
    return float(min(1.0, max(-1.0, value)))


def _cues(p: Prosody) -> dict[str, float]:
    """Each cue in units of its scale away from neutral; 0 where the feature is missing."""
    return {
        "energy": (p.energy_db - NEUTRAL_ENERGY_DBFS) / ENERGY_SCALE_DB,
        "f0_level": 12 * float(np.log2(p.f0_mean_hz / NEUTRAL_F0_HZ)) / F0_LEVEL_SCALE_ST if p.f0_mean_hz > 0 else 0.0,
        "f0_range": (p.f0_range_semitones - NEUTRAL_F0_RANGE_ST) / F0_RANGE_SCALE_ST if p.f0_mean_hz > 0 else 0.0,
        "rate": (p.words_per_s - NEUTRAL_WPS) / RATE_SCALE_WPS if p.words_per_s > 0 else 0.0,
    }


def emotion(p: Prosody) -> Emotion:
    """Emotion label with arousal and valence from prosody alone.

    A prosodic heuristic, NOT a trained emotion classifier. Each cue is its distance from a neutral
    reference in fixed units (NEUTRAL_* and *_SCALE_* above); each cue is clipped to [-1, 1] so no single
    one dominates.
    arousal = 0.4 energy + 0.2 pitch level + 0.2 pitch range + 0.2 rate (AROUSAL_WEIGHTS);
    valence = 0.4 pitch level + 0.4 pitch range - 0.6 (loudness beyond SHOUT_FROM) (VALENCE_WEIGHTS).
    Label: arousal >= HIGH_AROUSAL -> angry if valence < NEGATIVE_VALENCE else excited;
    arousal <= LOW_AROUSAL -> sad if valence < NEGATIVE_VALENCE else calm; otherwise neutral.
    Expect it to separate agitated from subdued delivery reasonably and to be unreliable on valence;
    absolute pitch and level references make it speaker- and microphone-dependent.
    """
    cues = {name: _clip(value) for name, value in _cues(p).items()}
    shout = max(0.0, (p.energy_db - NEUTRAL_ENERGY_DBFS) / ENERGY_SCALE_DB - SHOUT_FROM)
    arousal = _clip(sum(weight * cues[name] for name, weight in AROUSAL_WEIGHTS.items()))
    valence = _clip(
        VALENCE_WEIGHTS["f0_level"] * cues["f0_level"]
        + VALENCE_WEIGHTS["f0_range"] * cues["f0_range"]
        - VALENCE_WEIGHTS["shout"] * _clip(shout)
    )
    if arousal >= HIGH_AROUSAL:
        label = "angry" if valence < NEGATIVE_VALENCE else "excited"
    elif arousal <= LOW_AROUSAL:
        label = "sad" if valence < NEGATIVE_VALENCE else "calm"
    else:
        label = "neutral"
    return Emotion(label=label, arousal=arousal, valence=valence)


def voice_style(p: Prosody) -> str:
    """whisper | loud | fast | slow | normal, first match in that order.

    whisper: voiced_ratio < WHISPER_MAX_VOICED_RATIO and SILENCE_DBFS < energy_db < WHISPER_MAX_ENERGY_DBFS
    (silence is no whisper);
    loud: energy_db >= LOUD_MIN_ENERGY_DBFS; fast: words_per_s >= FAST_MIN_WPS;
    slow: 0 < words_per_s <= SLOW_MAX_WPS (no rate measured: never fast or slow).
    """
    if p.voiced_ratio < WHISPER_MAX_VOICED_RATIO and SILENCE_DBFS < p.energy_db < WHISPER_MAX_ENERGY_DBFS:
        return "whisper"
    if p.energy_db >= LOUD_MIN_ENERGY_DBFS:
        return "loud"
    if p.words_per_s >= FAST_MIN_WPS:
        return "fast"
    if 0 < p.words_per_s <= SLOW_MAX_WPS:
        return "slow"
    return "normal"
