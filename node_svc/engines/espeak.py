"""Text to speech with espeak-ng's own voices (Debian package `espeak-ng`): a native, if robotic, voice for
~100 languages, used for a target language no Piper voice speaks natively.

One `espeak-ng --stdout` process per sentence (~20-40 ms to start, negligible next to MT and ASR); the WAV it
writes is parsed in memory. Deterministic: the same text gives the same samples.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import wave
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Final

from node_svc.engines.tts import TtsChunk, TtsUnsupportedLanguage, espeak_languages, normalize_language, split_sentences

_DATA_AT: Final = re.compile(r"Data at:\s*(\S+)")
_MAX_SENTENCE_CHARS: Final = 2_000
_TIMEOUT_S: Final = 30.0
QUALITY: Final = "espeak_native"


def espeak_binary() -> str | None:
    return shutil.which("espeak-ng")


@lru_cache(maxsize=1)
def system_languages() -> dict[str, str]:
    """Language code -> voice of the installed espeak-ng (empty when it is not installed)."""
    binary = espeak_binary()
    if binary is None:
        return {}
    try:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    match = _DATA_AT.search(version)
    return espeak_languages(Path(match.group(1))) if match else {}


class EspeakTts:
    """espeak-ng speaking each language with its own voice."""

    def __init__(self, words_per_minute: int = 160) -> None:
        binary = espeak_binary()
        if binary is None:
            raise FileNotFoundError("espeak-ng is not installed (Debian package espeak-ng)")
        self._binary = binary
        self._wpm = words_per_minute
        self._voices = system_languages()
        self.voice_name = "espeak-ng"
        self.native_languages: list[str] = sorted(self._voices)
        self.cross_lingual_languages: list[str] = []
        self.sample_rate = 22050  # espeak-ng's fixed output rate

    def quality_for(self, language: str) -> str:
        if normalize_language(language) not in self._voices:
            raise TtsUnsupportedLanguage(f"espeak-ng has no voice for {language!r}")
        return QUALITY

    def supports(self, language: str) -> bool:
        return normalize_language(language) in self._voices

    def voice_for(self, language: str) -> EspeakTts:
        return self

    def synthesize(self, text: str, language: str, length_scale: float = 1.0) -> Iterator[TtsChunk]:
        voice = self._voices.get(normalize_language(language))
        if voice is None:
            raise TtsUnsupportedLanguage(f"espeak-ng has no voice for {language!r}")
        wpm = max(80, min(450, round(self._wpm / max(length_scale, 0.1))))
        for sentence in split_sentences(text):
            # "--" ends the options: a sentence starting with "-" is text, not a flag.
            result = subprocess.run([self._binary, "-v", voice, "-s", str(wpm), "--stdout", "--",
                                     sentence[:_MAX_SENTENCE_CHARS]],
                                    capture_output=True, timeout=_TIMEOUT_S, check=True)
            with wave.open(io.BytesIO(_fix_stream_header(result.stdout))) as wav:
                if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                    raise RuntimeError("espeak-ng wrote an unexpected WAV format")
                self.sample_rate = wav.getframerate()
                pcm = wav.readframes(wav.getnframes())
            if pcm:
                yield TtsChunk(pcm16=pcm, sample_rate=self.sample_rate, sentence=sentence)


def _fix_stream_header(data: bytes) -> bytes:
    """espeak-ng --stdout writes a WAV whose sizes say 0x7fffffff (it streams): set the real sizes."""
    if len(data) < 44 or data[:4] != b"RIFF":
        raise RuntimeError("espeak-ng did not write a WAV")
    body = bytearray(data)
    body[4:8] = (len(data) - 8).to_bytes(4, "little")
    body[40:44] = (len(data) - 44).to_bytes(4, "little")
    return bytes(body)
