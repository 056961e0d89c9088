"""persona_adaptation: rule-based text changes before MT, configured per session.

Register (formal/informal), filler removal, profanity masking, and a glossary of names/terms that must
come through translation unchanged (they are swapped for placeholder tokens before MT and back after).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FILLERS: dict[str, tuple[str, ...]] = {
    "en": ("um", "umm", "uh", "uhm", "er", "erm", "hmm", "you know", "i mean", "sort of", "kind of"),
    "fr": ("euh", "bah", "ben", "hein", "tu vois", "genre"),
}
# A small built-in list; deployments extend it through the glossary's opposite: their own lists.
PROFANITY: tuple[str, ...] = ("damn", "hell", "shit", "fuck", "fucking", "crap", "bastard", "bitch", "merde", "putain")
FORMAL_EN: dict[str, str] = {
    "don't": "do not", "doesn't": "does not", "didn't": "did not", "can't": "cannot", "won't": "will not",
    "isn't": "is not", "aren't": "are not", "wasn't": "was not", "i'm": "I am", "it's": "it is",
    "you're": "you are", "we're": "we are", "they're": "they are", "i'll": "I will", "i've": "I have",
    "let's": "let us", "gonna": "going to", "wanna": "want to", "gotta": "have to", "yeah": "yes",
    "hi": "hello", "thanks": "thank you", "ok": "very well", "okay": "very well",
}
INFORMAL_EN: dict[str, str] = {
    "do not": "don't", "does not": "doesn't", "cannot": "can't", "will not": "won't", "is not": "isn't",
    "are not": "aren't", "i am": "I'm", "it is": "it's", "going to": "gonna", "want to": "wanna",
    "thank you": "thanks",
}
# Placeholder shape: a rare ASCII token that sentencepiece keeps as-is and MT copies through.
_PLACEHOLDER = "ZQX{}"


@dataclass
class PersonaConfig:
    register: str = ""  # "formal" | "informal" | ""
    remove_fillers: bool = False
    mask_profanity: bool = False
    glossary: list[str] = field(default_factory=list)


@dataclass
class Prepared:
    text: str
    placeholders: dict[str, str] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)


def _replace_words(text: str, table: dict[str, str]) -> tuple[str, int]:
    count = 0
    for src in sorted(table, key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w']){re.escape(src)}(?![\w'])", re.IGNORECASE)

        def sub(m: re.Match[str], dst: str = table[src]) -> str:
            nonlocal count
            count += 1
            return dst[0].upper() + dst[1:] if m.group(0)[0].isupper() else dst

        text = pattern.sub(sub, text)
    return text, count


def prepare(text: str, config: PersonaConfig, language: str = "en") -> Prepared:
    out = Prepared(text=text)
    lang = language.split("-")[0].lower()
    for i, term in enumerate(t for t in config.glossary if t.strip()):
        token = _PLACEHOLDER.format(i)
        pattern = re.compile(rf"(?<!\w){re.escape(term.strip())}(?!\w)", re.IGNORECASE)
        if pattern.search(out.text):
            out.text = pattern.sub(token, out.text)
            out.placeholders[token] = term.strip()
            out.changes.append(f"kept {term.strip()!r}")
    if config.remove_fillers:
        fillers = FILLERS.get(lang, ())
        removed = 0
        for filler in sorted(fillers, key=len, reverse=True):
            # The filler with the commas around it: "come, you know." -> "come."; "so, um, we" -> "so, we".
            pattern = re.compile(rf"(,\s*)?(?<![\w']){re.escape(filler)}(?![\w'])(\s*,)?", re.IGNORECASE)
            out.text, n = pattern.subn(lambda m: ", " if m.group(1) and m.group(2) else " ", out.text)
            removed += n
        if removed:
            out.text = re.sub(r"\s+([,.!?])", r"\1", re.sub(r"\s{2,}", " ", out.text)).strip(" ,")
            out.text = out.text[:1].upper() + out.text[1:]
            out.changes.append(f"removed {removed} filler(s)")
    if config.mask_profanity:
        masked = 0
        for word in PROFANITY:
            pattern = re.compile(rf"(?<![\w']){re.escape(word)}(?![\w'])", re.IGNORECASE)
            out.text, n = pattern.subn(lambda m: m.group(0)[0] + "*" * (len(m.group(0)) - 1), out.text)
            masked += n
        if masked:
            out.changes.append(f"masked {masked} word(s)")
    if config.register in ("formal", "informal") and lang == "en":
        table = FORMAL_EN if config.register == "formal" else INFORMAL_EN
        out.text, n = _replace_words(out.text, table)
        if n:
            out.changes.append(f"{config.register} register ({n} change(s))")
    return out


def restore(translated: str, prepared: Prepared) -> str:
    """Put the glossary terms back; a placeholder the MT model dropped is reported, not invented."""
    text = translated
    for token, term in prepared.placeholders.items():
        if token in text:
            text = text.replace(token, term)
        else:
            prepared.changes.append(f"MT dropped {term!r}")
    return text
