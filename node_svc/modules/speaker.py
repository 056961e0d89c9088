"""speaker_identification: who is speaking, as `spk-1`, `spk-2`, … within a session.

Embeddings come from resemblyzer's pretrained GE2E voice encoder (256-d, shipped inside its wheel, runs
on the CPU, nothing is downloaded). The session's known speakers travel with each job (the scheduler keeps
them), so the ids hold across nodes. A voice whose best cosine similarity to every known one is below the
threshold is a new speaker.
"""

from __future__ import annotations

import threading
from typing import Any, Final

import numpy as np

SAMPLE_RATE: Final = 16000
MIN_SECONDS: Final = 0.5
# resemblyzer's own preprocessing level: the encoder was trained on audio normalised to -30 dBFS.
_NORM_DBFS: Final = -30

# Calibration (Piper "joe" via the bundled pipeline, 16 kHz, this module's embed(), 42 utterances of
# 2-3.4 s): other voices made from joe with WORLD (F0 tracked by voice.pitch_track): pitch ±4-6
# semitones with envelope warps 0.86-1.15, warp-only 0.87/1.15, and tape-speed changes (resampling) by
# 0.87/1.15, 4 sentences each.
#   same voice, different sentences (210 pairs; joe in English, German and Spanish, at length_scale
#     0.75/1.0/1.35, and within each made voice):   min 0.824, p5 0.846, median 0.892, max 0.962
#     of which joe English vs joe speaking German/Spanish cross-lingually: 0.838-0.943 (the encoder hears
#     the same speaker: it is the same Piper voice, so cross-lingual joe is NOT a different voice)
#   different voices (envelope scale differs >= 9 %, 1216 pairs):  min 0.507, median 0.682, p95 0.779,
#     p99 0.808, max 0.842; against plain joe only: max 0.812
#   pitch-only changes of the same envelope (±5 st, WORLD resynthesis alone) are ambiguous, 0.757-0.970:
#     GE2E is nearly pitch-invariant, so a speaker talking higher stays the same speaker.
# At 0.80 no same-voice pair splits and 1.8 % of different-voice pairs merge (0.82: 0 % / 0.6 %). We take
# the lower end of the gap because real speakers vary more between utterances than a deterministic TTS
# voice (microphone, distance, effort), and splitting one person into several ids is the worse failure.
DEFAULT_THRESHOLD: Final = 0.80


class SpeakerEncoder:
    """The voice encoder, loaded on first embed(); embed() may be called from several threads."""

    def __init__(self) -> None:
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._encoder: Any = None

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    def _load(self) -> Any:
        if self._encoder is None:
            with self._load_lock:
                if self._encoder is None:
                    # Local import: torch is only imported once the module is actually used.
                    from resemblyzer import VoiceEncoder  # type: ignore[import-untyped]

                    self._encoder = VoiceEncoder("cpu", verbose=False)
        return self._encoder

    def embed(self, audio16k: np.ndarray) -> np.ndarray:
        """L2-normalised float32 embedding (256-d) of 16 kHz mono float speech."""
        audio = np.asarray(audio16k, dtype=np.float32).reshape(-1)
        if audio.size < MIN_SECONDS * SAMPLE_RATE:
            raise ValueError(
                f"speaker identification needs at least {MIN_SECONDS} s of audio, got {audio.size / SAMPLE_RATE:.2f} s")
        if not np.all(np.isfinite(audio)):
            raise ValueError("audio contains NaN or infinite samples")
        encoder = self._load()
        # resemblyzer's preprocess_wav minus its librosa resampling (we are at 16 kHz already): level
        # normalisation as in training, and webrtcvad trimming of long silences, which would otherwise
        # dilute the average over the 1.6 s partial windows with noise.
        from resemblyzer.audio import normalize_volume, trim_long_silences  # type: ignore[import-untyped]

        wav = np.asarray(trim_long_silences(normalize_volume(audio, _NORM_DBFS, increase_only=True)),
                         dtype=np.float32)
        if wav.size < MIN_SECONDS * SAMPLE_RATE:
            # The VAD found (almost) no speech; the untrimmed audio is still a better input than 0.3 s.
            wav = np.asarray(normalize_volume(audio, _NORM_DBFS, increase_only=True), dtype=np.float32)
        with self._run_lock:  # one shared torch module on 2 cores: running two at once only adds latency
            raw = encoder.embed_utterance(wav)
        vector = np.asarray(raw, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        if not np.isfinite(norm) or norm == 0.0:
            raise ValueError("the encoder produced no usable embedding for this audio")
        return vector / norm


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity; 0.0 when either vector is zero."""
    x = np.asarray(a, dtype=np.float64).reshape(-1)
    y = np.asarray(b, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"embeddings differ in size: {x.size} vs {y.size}")
    denominator = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(np.dot(x, y) / denominator) if denominator > 0.0 else 0.0


def identify(embedding: np.ndarray, known: list[tuple[str, np.ndarray]],
             threshold: float = DEFAULT_THRESHOLD) -> tuple[str, float, bool]:
    """(speaker id, best similarity, is new).

    The most similar known speaker wins if its similarity is at or above `threshold` (ties: the earlier
    one). Otherwise the voice is new and gets ``spk-{len(known) + 1}``; the similarity returned is then
    the best one found (0.0 when nobody is known yet), so callers can see how close the nearest was.
    """
    best_id, best = "", -1.0
    for speaker_id, vector in known:
        similarity = cosine(embedding, vector)
        if similarity > best:
            best_id, best = speaker_id, similarity
    if best_id and best >= threshold:
        return best_id, best, False
    return f"spk-{len(known) + 1}", best if known else 0.0, True
