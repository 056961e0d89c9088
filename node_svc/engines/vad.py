"""Silero voice-activity detection on onnxruntime alone.

The silero_vad package is only a carrier for its ONNX file: importing it pulls in
torch, which the node must never load, so we locate the file via importlib.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Final

import numpy as np
import onnxruntime as ort

SAMPLE_RATE: Final = 16000
WINDOW: Final = 512  # samples per model call at 16 kHz
CONTEXT: Final = 64  # trailing samples of the previous window the model expects


class VadModelMissing(RuntimeError):
    """The bundled Silero ONNX file could not be found."""


def default_model_path() -> Path:
    """Path of silero_vad.onnx inside the installed silero-vad package."""
    spec = importlib.util.find_spec("silero_vad")  # locates without importing (no torch)
    if spec is None or not spec.submodule_search_locations:
        raise VadModelMissing("the silero-vad package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise VadModelMissing(f"Silero VAD model not found at {path}")
    return path


class SileroVad:
    """Speech segments and silence trimming for 16 kHz float32 mono audio.

    The ONNX session is shared; the recurrent state lives in each call, and
    ``InferenceSession.run`` is thread-safe, so concurrent calls need no lock.
    """

    def __init__(self, model_path: str | Path | None = None, providers: list[str] | None = None) -> None:
        opts = ort.SessionOptions()
        # Tiny model called per 32 ms window: extra threads only add sync overhead.
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        path = Path(model_path) if model_path is not None else default_model_path()
        self._session = ort.InferenceSession(str(path), sess_options=opts,
                                             providers=providers or ["CPUExecutionProvider"])
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)

    def speech_probs(self, audio16k: np.ndarray) -> np.ndarray:
        """Speech probability for each 512-sample window (last one zero-padded)."""
        audio = np.ascontiguousarray(audio16k, dtype=np.float32).reshape(-1)
        n_windows = -(-audio.size // WINDOW)
        padded = np.zeros(CONTEXT + n_windows * WINDOW, dtype=np.float32)
        padded[CONTEXT : CONTEXT + audio.size] = audio
        state = np.zeros((2, 1, 128), dtype=np.float32)
        probs = np.empty(n_windows, dtype=np.float32)
        for i in range(n_windows):
            # Each input is the previous 64 samples + this window (zeros before start).
            chunk = padded[i * WINDOW : i * WINDOW + CONTEXT + WINDOW][None, :]
            out, state = self._session.run(None, {"input": chunk, "state": state, "sr": self._sr})
            probs[i] = float(np.asarray(out).reshape(-1)[0])
        return probs

    def speech_segments(
        self,
        audio16k: np.ndarray,
        threshold: float = 0.5,
        min_silence_ms: int = 500,
        min_speech_ms: int = 250,
        speech_pad_ms: int = 100,
    ) -> list[tuple[int, int]]:
        """[start, end) sample indices of speech, as in silero's get_speech_timestamps.

        min_silence defaults to 500 ms because silero's 100 ms splits at commas;
        we want sentence-sized pieces.
        """
        n = int(np.asarray(audio16k).size)
        if n == 0:
            return []
        return segments_from_probs(
            self.speech_probs(audio16k),
            n,
            threshold=threshold,
            min_silence_ms=min_silence_ms,
            min_speech_ms=min_speech_ms,
            speech_pad_ms=speech_pad_ms,
        )

    def trim(
        self,
        audio16k: np.ndarray,
        threshold: float = 0.5,
        min_speech_ms: int = 250,
        speech_pad_ms: int = 100,
    ) -> np.ndarray:
        """Audio from the first speech start to the last speech end; empty if none."""
        segments = self.speech_segments(
            audio16k,
            threshold=threshold,
            min_speech_ms=min_speech_ms,
            speech_pad_ms=speech_pad_ms,
        )
        if not segments:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(audio16k, dtype=np.float32)[segments[0][0] : segments[-1][1]]


def segments_from_probs(
    probs: np.ndarray,
    n_samples: int,
    threshold: float = 0.5,
    min_silence_ms: int = 500,
    min_speech_ms: int = 250,
    speech_pad_ms: int = 100,
) -> list[tuple[int, int]]:
    """Port of silero's hysteresis (no max-speech splitting): probs -> segments."""
    neg_threshold = max(threshold - 0.15, 0.01)
    min_silence = SAMPLE_RATE * min_silence_ms / 1000
    min_speech = SAMPLE_RATE * min_speech_ms / 1000
    pad = int(SAMPLE_RATE * speech_pad_ms / 1000)

    raw: list[list[int]] = []
    triggered = False
    start = 0
    temp_end = 0
    for i, prob in enumerate(probs):
        cur = WINDOW * i
        if prob >= threshold:
            temp_end = 0  # speech resumed: forget the tentative end
            if not triggered:
                triggered, start = True, cur
            continue
        if triggered and prob < neg_threshold:
            if not temp_end:
                temp_end = cur
            if cur - temp_end >= min_silence:
                if temp_end - start > min_speech:
                    raw.append([start, temp_end])
                triggered, temp_end = False, 0
    if triggered and n_samples - start > min_speech:
        raw.append([start, n_samples])

    # Pad each side, splitting the gap evenly when neighbours are closer than 2*pad.
    for i, seg in enumerate(raw):
        if i == 0:
            seg[0] = max(0, seg[0] - pad)
        if i < len(raw) - 1:
            gap = raw[i + 1][0] - seg[1]
            if gap < 2 * pad:
                seg[1] += gap // 2
                raw[i + 1][0] -= gap // 2
            else:
                seg[1] = min(n_samples, seg[1] + pad)
                raw[i + 1][0] = max(0, raw[i + 1][0] - pad)
        else:
            seg[1] = min(n_samples, seg[1] + pad)
    return [(s, e) for s, e in raw]
