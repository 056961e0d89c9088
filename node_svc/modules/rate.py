"""speech_rate_detection and speech_rate_control.

The rate is measured on speech time, not wall time: word durations from Whisper's word timestamps plus
the short gaps between words; a gap of PAUSE_S or more is a pause and does not count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# A gap between two words this long or longer is a pause, not part of speaking.
PAUSE_S = 0.3
# Typical conversational rates in words per second (read speech is ~2.5-3 wps in English; French and
# Spanish count more, shorter words). Used when no measured voice rate is available.
REFERENCE_WPS: dict[str, float] = {"en": 2.6, "fr": 2.9, "es": 3.0, "de": 2.4, "it": 2.9, "pt": 2.9}
DEFAULT_WPS = 2.6

_VOWEL_GROUPS = re.compile(r"[aeiouyàâäéèêëîïôöùûüœæ]+", re.IGNORECASE)
_LETTERS = re.compile(r"[^\w']+")


@dataclass(frozen=True)
class SpeechRate:
    words_per_s: float
    syllables_per_s: float
    speech_s: float
    words: int
    syllables: int


def syllables(word: str, language: str = "en") -> int:
    """Vowel groups, with English silent final -e dropped; at least one per word."""
    w = _LETTERS.sub("", word.lower())
    if not w:
        return 0
    count = len(_VOWEL_GROUPS.findall(w))
    if language == "en" and w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    return max(1, count)


def measure(words: Sequence[Any], language: str = "en") -> SpeechRate:
    """Rate of `words` (objects with .start, .end, .word), pauses excluded. Raises ValueError on none."""
    spoken = [w for w in words if _LETTERS.sub("", str(w.word))]
    if not spoken:
        raise ValueError("no words to measure a speech rate on")
    speech_s = 0.0
    for i, w in enumerate(spoken):
        speech_s += max(0.0, float(w.end) - float(w.start))
        if i + 1 < len(spoken):
            gap = float(spoken[i + 1].start) - float(w.end)
            if 0 < gap < PAUSE_S:
                speech_s += gap
    speech_s = max(speech_s, 0.05)
    n_syl = sum(syllables(str(w.word), language) for w in spoken)
    return SpeechRate(len(spoken) / speech_s, n_syl / speech_s, speech_s, len(spoken), n_syl)


def length_scale(speaker: SpeechRate, tts_words_per_s: float, lo: float = 0.6, hi: float = 1.6) -> float:
    """Piper length_scale (>1 slower) that makes the voice speak at the speaker's pace, within [lo, hi]."""
    if speaker.words_per_s <= 0 or tts_words_per_s <= 0:
        return 1.0
    return min(hi, max(lo, tts_words_per_s / speaker.words_per_s))
