"""voice_cloning, honestly named: signal-processing VOICE ADAPTATION with the WORLD vocoder, not neural
zero-shot cloning. The synthesized voice keeps its words and timing; its pitch (median and range) is
moved to the speaker's and its spectral envelope is warped along the frequency axis toward the speaker's
(a formant shift), then WORLD resynthesises it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyworld

from lingua_common.audio import resample

FRAME_MS = 10.0
# Bounds of the envelope warp (formant shift): beyond ~±25 % the voice sounds processed.
MIN_WARP, MAX_WARP = 0.8, 1.25
# Envelope band whose spectral centroid stands for the voice's formant region.
BAND_HZ = (250.0, 4000.0)


@dataclass(frozen=True)
class VoiceProfile:
    f0_median_hz: float
    f0_log_std: float
    envelope_centroid_hz: float


# WORLD runs at this rate: its cost grows with the sample rate and speech needs no more than 8 kHz here.
WORK_RATE = 16000


def pitch_track(x: np.ndarray, fs: int = WORK_RATE) -> tuple[np.ndarray, np.ndarray]:
    """F0 per 10 ms frame (0 = unvoiced) and the frame times; shared by the prosody module."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pyworld.dio(x, fs, frame_period=FRAME_MS)
    return pyworld.stonemask(x, f0, t, fs), t


def _analyse(x: np.ndarray, fs: int, track: tuple[np.ndarray, np.ndarray] | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, VoiceProfile]:
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = track if track is not None else pitch_track(x, fs)
    sp = pyworld.cheaptrick(x, f0, t, fs)
    voiced = f0 > 0
    if voiced.sum() < 5:
        raise ValueError("too little voiced speech to model the voice")
    log_f0 = np.log(f0[voiced])
    freqs = np.linspace(0, fs / 2, sp.shape[1])
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    mean_env = np.mean(sp[voiced][:, band], axis=0)
    centroid = float(np.sum(freqs[band] * mean_env) / np.sum(mean_env))
    return f0, t, sp, VoiceProfile(float(np.exp(np.median(log_f0))), float(np.std(log_f0)), centroid)


def analyse(audio16k: np.ndarray, track: tuple[np.ndarray, np.ndarray] | None = None) -> VoiceProfile:
    """The speaker's pitch statistics and envelope centroid (16 kHz speech; `track` from pitch_track)."""
    return _analyse(audio16k, 16000, track)[3]


def _warp(sp: np.ndarray, factor: float) -> np.ndarray:
    """Stretch each frame's envelope along frequency by `factor` (>1 moves formants up)."""
    bins = np.arange(sp.shape[1], dtype=np.float64)
    source = np.clip(bins / factor, 0, sp.shape[1] - 1)
    return np.ascontiguousarray(np.stack([np.interp(source, bins, frame) for frame in sp]))


def adapt(pcm16: bytes, sample_rate: int, target: VoiceProfile) -> bytes:
    """`pcm16` (int16 mono) re-voiced toward `target`; same length and sample rate."""
    original = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
    if original.size < sample_rate // 10:
        return pcm16
    x = resample(original, sample_rate, WORK_RATE).astype(np.float64) if sample_rate != WORK_RATE else (
        original.astype(np.float64))
    f0, t, sp, source = _analyse(x, WORK_RATE)
    voiced = f0 > 0
    log_f0 = np.log(f0[voiced])
    spread = target.f0_log_std / source.f0_log_std if source.f0_log_std > 1e-6 else 1.0
    new_f0 = f0.copy()
    new_f0[voiced] = np.exp((log_f0 - np.log(source.f0_median_hz)) * spread + np.log(target.f0_median_hz))
    factor = float(np.clip(target.envelope_centroid_hz / source.envelope_centroid_hz, MIN_WARP, MAX_WARP))
    ap = pyworld.d4c(x, f0, t, WORK_RATE)
    y = pyworld.synthesize(new_f0, _warp(sp, factor), ap, WORK_RATE, FRAME_MS)
    if sample_rate != WORK_RATE:
        y = resample(y.astype(np.float32), WORK_RATE, sample_rate).astype(np.float64)
    n = original.size
    y = y[:n] if y.size >= n else np.pad(y, (0, n - y.size))
    peak = float(np.max(np.abs(y)))
    if peak > 0.98:  # resynthesis can overshoot: scale down rather than clip
        y *= 0.98 / peak
    return bytes((np.clip(y, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())
