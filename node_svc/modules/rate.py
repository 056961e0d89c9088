"""speech_rate_detection and speech_rate_control.

The rate is measured on speech time, not wall time: the durations of the recognised words plus the short
gaps between them. A gap of PAUSE_S or more is a pause and does not count, and neither does silence that
Whisper folds into a word's span (its word timestamps tile the audio, so a word next to a pause often
"lasts" through it): a word counts for at most MAX_SYLLABLE_S per syllable.

Syllables are estimated per word (see `syllables`), so syllables_per_s is a heuristic (right on 49 of 51
common English words checked); words_per_s is exact up to Whisper's timestamps (20 ms resolution).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # only for the annotation: importing asr loads faster-whisper
    from node_svc.engines.asr import AsrWord

# A silence between two words this long or longer is a pause, not part of speaking. Silences inside fluent
# speech (stop closures, junctures) stay well under 0.25 s; studies of articulation rate (speaking time
# without pauses) usually cut at 0.25-0.3 s (Goldman-Eisler's classic threshold is 0.25 s).
PAUSE_S: Final = 0.3
# Longest time one syllable is allowed to take (drawn-out, very slow speech is ~2 syllables/s); anything
# beyond that in a word's span is silence Whisper attached to the word.
MAX_SYLLABLE_S: Final = 0.5
# Floor for the speech time, so one 20 ms word cannot make an absurd rate.
MIN_SPEECH_S: Final = 0.1

# Typical speaking rates per language in words per second of SPEAKING time (pauses excluded, as
# `measure` counts them). Note: the often-quoted "150 words per minute" (2.5 wps) of conversation counts
# pauses; without them (the articulation rate) the same speech runs at roughly 4 wps.
# Source: syllables per second of read speech with long pauses removed, Pellegrino, Coupé & Marsico
# (2011), "A cross-language perspective on speech information rate", Language 87(3):539-558.
_SYLLABLES_PER_S: Final = {"en": 6.19, "fr": 7.18, "de": 5.97, "it": 6.99, "es": 7.82}
# Average syllables per word of running text: rough estimates (English conversation ~1.4; German and the
# Romance languages have longer words).
_SYLLABLES_PER_WORD: Final = {"en": 1.4, "fr": 1.5, "de": 1.6, "it": 1.7, "es": 1.7}
# The two combined: en 4.4, fr 4.8, de 3.7, it 4.1, es 4.6 words per second. Approximations for
# comparing rates and languages, not targets: a measured voice rate always wins.
REFERENCE_WPS: Final[dict[str, float]] = {
    lang: round(sps / _SYLLABLES_PER_WORD[lang], 1) for lang, sps in _SYLLABLES_PER_S.items()
}
# Rate assumed for a language missing above: the English one.
DEFAULT_WPS: Final = REFERENCE_WPS["en"]

# Vowel letters (with y) of Latin, Greek and Cyrillic scripts: one group of consecutive vowels is one
# syllable nucleus. Accented Latin vowels are folded to their base letter first (NFD), so "é" counts.
_VOWELS: Final = "aeiouy" + "αεηιουω" + "аеёиоуыэюяіїє"
_VOWEL_GROUP: Final = re.compile(f"[{_VOWELS}]+")
# "y" before a vowel is a consonant ("yes", "playing", "payer"); "j" stands in for it.
_Y_CONSONANT: Final = re.compile(r"y(?=[aeiou])")
# English endings that add no syllable (the silent-e rule): final -e after a consonant ("make"), -es
# after a non-sibilant ("makes"), -ed after anything but t/d ("liked") ...
_EN_SILENT: Final = re.compile(r"[^aeiouy]e$|[^aeiouysxzcgh]es$|[^aeiouytd]ed$")
# ... except -le/-les after a consonant, which is syllabic ("table", "tables").
_EN_SYLLABIC_LE: Final = re.compile(r"[^aeiouy]les?$")
# French mute final -e/-es after a consonant ("gare", "elles"; "été" keeps its accented é).
_FR_MUTE_E: Final = re.compile(r"[^aeiouyàâäéèêëîïôöùûüœæ]es?$")
# Scripts whose characters are one syllable each (Han, Hangul) or one mora each (kana): close enough to
# a syllable for a rate.
_SYLLABIC_SCRIPTS: Final = ("CJK UNIFIED", "HIRAGANA", "KATAKANA", "HANGUL SYLLABLE")
# Abjads and abugidas (Arabic, Hebrew, Devanagari ...) write few vowel letters: about one syllable per
# this many letters (a crude fallback).
_LETTERS_PER_SYLLABLE_FALLBACK: Final = 3


@dataclass(frozen=True)
class SpeechRate:
    words_per_s: float
    syllables_per_s: float
    speech_s: float  # speaking time: words plus gaps shorter than PAUSE_S
    words: int
    syllables: int


def reference_wps(language: str) -> float:
    """Typical words per second of speaking time for `language` ('en-US' -> 'en'); DEFAULT_WPS if unknown."""
    return REFERENCE_WPS.get(_base_language(language), DEFAULT_WPS)


def _base_language(language: str) -> str:
    return language.strip().lower().replace("_", "-").split("-")[0]


def syllables(word: str, language: str = "en") -> int:
    """Estimated syllables in one word; 0 only for a token with no letters or digits (punctuation).

    Heuristic: one syllable per group of consecutive vowel letters (Latin, Greek, Cyrillic scripts;
    accents folded, "y" before a vowel is a consonant); in English a silent final -e / -es / -ed is not
    counted (see _EN_SILENT), in French a mute final -e / -es; one per character in Han/kana/Hangul; one per
    digit for numerals ("2024" is read in 4-5); one per three letters in scripts without vowel letters.
    At least one per word. Errs on vowel hiatus ("quiet", "museum", "being") and on "these"-type words.
    """
    lower = "".join(c for c in unicodedata.normalize("NFC", word.lower()) if c.isalnum())
    if not lower:
        return 0
    if lower.isdigit():
        return len(lower)
    if any(unicodedata.name(c, "").startswith(_SYLLABIC_SCRIPTS) for c in lower):
        return sum(1 for c in lower if c.isalpha())
    folded = "".join(c for c in unicodedata.normalize("NFD", lower) if c.isalnum())
    letters = _Y_CONSONANT.sub("j", folded)
    count = len(_VOWEL_GROUP.findall(letters))
    if count == 0:  # no vowel letters: an abjad/abugida, or an acronym such as "BBC"
        return max(1, round(len(letters) / _LETTERS_PER_SYLLABLE_FALLBACK))
    lang = _base_language(language)
    if count > 1 and (
        (lang == "en" and _EN_SILENT.search(letters) and not _EN_SYLLABIC_LE.search(letters))
        or (lang == "fr" and _FR_MUTE_E.search(lower))
    ):
        count -= 1
    return count


def measure(words: Sequence[AsrWord], language: str = "en") -> SpeechRate:
    """Speaking rate of recognised words (with timestamps), pauses excluded.

    Raises ValueError when no word has letters or digits (nothing to measure a rate on).
    """
    spoken = [(w, syllables(w.word, language)) for w in words]
    spoken = [(w, n) for w, n in spoken if n > 0]  # punctuation-only tokens are not words
    if not spoken:
        raise ValueError("no words to measure a speech rate on")
    speech_s = 0.0
    for i, (w, n) in enumerate(spoken):
        speech_s += min(max(0.0, w.end - w.start), n * MAX_SYLLABLE_S)
        if i + 1 < len(spoken):
            gap = spoken[i + 1][0].start - w.end
            if 0.0 < gap < PAUSE_S:
                speech_s += gap
    speech_s = max(speech_s, MIN_SPEECH_S)
    n_syllables = sum(n for _w, n in spoken)
    return SpeechRate(
        words_per_s=len(spoken) / speech_s,
        syllables_per_s=n_syllables / speech_s,
        speech_s=speech_s,
        words=len(spoken),
        syllables=n_syllables,
    )


def length_scale(
    speaker: SpeechRate,
    tts_words_per_s: float,
    lo: float = 0.6,
    hi: float = 1.6,
    *,
    src_language: str | None = None,
    tgt_language: str | None = None,
) -> float:
    """Piper length_scale (>1 speaks slower) so the translated speech matches the speaker's pace.

    `tts_words_per_s` is the voice's own rate at length_scale 1 in the target language, measured like
    `measure` does (speaking time, pauses excluded). Given both languages, the speaker's rate is first
    carried over relatively: 10 % faster than a typical English speaker becomes 10 % faster than a
    typical French one (REFERENCE_WPS). The result is clamped to [lo, hi]; without a usable rate it is 1.
    """
    if not lo <= hi:
        raise ValueError(f"length_scale bounds are reversed: lo={lo} > hi={hi}")
    target_wps = speaker.words_per_s
    if src_language and tgt_language:
        target_wps *= reference_wps(tgt_language) / reference_wps(src_language)
    if target_wps <= 0 or tts_words_per_s <= 0:
        return min(hi, max(lo, 1.0))
    # Piper multiplies its phoneme durations by length_scale, so its rate goes roughly with 1/length_scale
    # (measured with the bundled voice: within ~10 % between 0.6 and 2).
    return min(hi, max(lo, tts_words_per_s / target_wps))
