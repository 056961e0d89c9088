"""speaker_identification: who is speaking, as `spk-1`, `spk-2`, … within a session.

Embeddings come from resemblyzer's pretrained GE2E voice encoder (shipped inside its wheel, runs on the
CPU). The session's known speakers travel with each job (the scheduler keeps them), so the ids hold
across nodes. A voice whose best cosine similarity to every known one is below the threshold is new.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
MIN_SECONDS = 0.5
# Calibrated on Piper voices (tests/models/test_modules.py checks both sides): the same voice on different
# sentences scored 0.88-0.90 (and 0.90 speaking German or Spanish cross-lingually: still the same
# speaker); WORLD pitch/formant-shifted versions of it (±3 and ±5 semitones, 8-15 % formant warp) scored
# 0.61-0.71. 0.80 sits between the two groups.
DEFAULT_THRESHOLD = 0.80


class SpeakerEncoder:
    """The voice encoder, loaded on first use; embed() may be called from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._encoder: Any = None

    def _load(self) -> Any:
        with self._lock:
            if self._encoder is None:
                from resemblyzer import VoiceEncoder  # imports torch: only when the module is used

                self._encoder = VoiceEncoder("cpu", verbose=False)
            return self._encoder

    def embed(self, audio16k: np.ndarray) -> np.ndarray:
        audio = np.ascontiguousarray(audio16k, dtype=np.float32).reshape(-1)
        if audio.size < MIN_SECONDS * SAMPLE_RATE:
            raise ValueError(f"speaker identification needs at least {MIN_SECONDS} s of speech")
        from resemblyzer import preprocess_wav

        wav = preprocess_wav(audio, source_sr=SAMPLE_RATE)  # normalises volume, trims long silences
        if wav.size < MIN_SECONDS * SAMPLE_RATE:
            wav = audio
        encoder = self._load()
        with self._lock:  # torch inference on one shared module: serialise it
            embedding = encoder.embed_utterance(wav)
        vector = np.asarray(embedding, dtype=np.float32)
        return vector / (np.linalg.norm(vector) + 1e-9)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / ((np.linalg.norm(a) * np.linalg.norm(b)) + 1e-9))


def identify(embedding: np.ndarray, known: list[tuple[str, np.ndarray]],
             threshold: float = DEFAULT_THRESHOLD) -> tuple[str, float, bool]:
    """(speaker id, best similarity, is new): the best known match at or above threshold, else a new id."""
    best_id, best = "", -1.0
    for speaker_id, vector in known:
        similarity = cosine(embedding, vector)
        if similarity > best:
            best_id, best = speaker_id, similarity
    if best_id and best >= threshold:
        return best_id, best, False
    return f"spk-{len(known) + 1}", 1.0, True
