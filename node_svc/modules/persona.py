"""persona_adaptation: rule-based text changes before MT, configured per session.

In order: glossary terms (names, product terms) are swapped for placeholder tokens, so nothing below and
nothing in MT touches them; fillers are removed; profanity is masked; the English register is shifted
(formal: contractions and slang spelled out; informal: the reverse for a few common ones). After MT,
`restore` puts the glossary terms back. Every step is a whole-word, case-insensitive rule; none of them
runs unless the session's PersonaConfig asks for it, so the defaults change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

# --- fillers ---------------------------------------------------------------------------------------------
# Hesitation sounds: never content, removed wherever they stand.
HESITATIONS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm"),  # not "mm": millimetres
    "fr": ("euh", "heu", "hum", "bah", "beh"),
}
# Discourse fillers are also ordinary words ("I like it", "do you know", "what kind of room", "c'est
# quoi"), so they are removed only where they are set off as fillers: with a comma or a clause edge on
# both sides ("so, like, we left", "You know, it's late.", "c'est bien, quoi.").
DISCOURSE_FILLERS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("like", "you know", "i mean", "you see", "sort of", "kind of", "basically"),
    "fr": ("ben", "genre", "tu vois", "tu sais", "quoi", "en fait"),
}

# --- profanity -------------------------------------------------------------------------------------------
# A small built-in list per language (whole words, inflections listed), masked as first letter + asterisks.
PROFANITY: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        "damn", "damned", "dammit", "goddamn", "hell", "shit", "shitty", "bullshit", "fuck", "fucks", "fucked",
        "fucking", "motherfucker", "crap", "crappy", "bastard", "bastards", "bitch", "bitches", "asshole",
        "assholes", "piss", "pissed", "dickhead", "wanker", "bollocks",
    ),
    "fr": ("merde", "putain", "bordel", "connard", "connards", "connasse", "salaud", "salope", "enculé", "foutre"),
}

# --- English register ------------------------------------------------------------------------------------
_APOS: Final = "['\u2019]"  # ASR and keyboards write the apostrophe either way
# Formal: contractions and slang spelled out. Ordered: specific forms before the generic suffix rules.
FORMAL_EN: Final[tuple[tuple[str, str], ...]] = (
    (rf"\bcan{_APOS}t\b", "cannot"),
    (rf"\bwon{_APOS}t\b", "will not"),
    (rf"\bshan{_APOS}t\b", "shall not"),
    (rf"\bain{_APOS}t\b", "is not"),
    (rf"\bI{_APOS}m\b", "I am"),
    (rf"\blet{_APOS}s\b", "let us"),
    (rf"\by{_APOS}all\b", "you all"),
    (r"\b(\w+)n" + _APOS + r"t\b", r"\1 not"),
    (r"\b(\w+)" + _APOS + r"re\b", r"\1 are"),
    (r"\b(\w+)" + _APOS + r"ll\b", r"\1 will"),
    (r"\b(\w+)" + _APOS + r"ve\b", r"\1 have"),
    (r"\b(I|you|he|she|we|they|it|that|there|who)" + _APOS + r"d\b", r"\1 would"),
    # "'s" is "has" before been/got ("it's been"), "is" otherwise; possessives ("John's") are left alone.
    (r"\b(it|that|what|where|there|here|he|she|who|how|when|why|everything|nothing|someone|somebody|everyone)"
     + _APOS + r"s(?=\s+(?:been|got)\b)", r"\1 has"),
    (r"\b(it|that|what|where|there|here|he|she|who|how|when|why|everything|nothing|someone|somebody|everyone)"
     + _APOS + r"s\b", r"\1 is"),
    (r"\bgonna\b", "going to"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "have to"),
    (r"\bkinda\b", "kind of"),
    (r"\bsorta\b", "sort of"),
    (r"\bdunno\b", "do not know"),
    (r"\blemme\b", "let me"),
    (r"\bgimme\b", "give me"),
    (rf"(?:\bcuz|{_APOS}cause)\b", "because"),
    (r"\b(?:yeah|yep|yup)\b", "yes"),
    (r"\bnope\b", "no"),
    (r"(?<![\w-])hi(?![\w-])", "hello"),  # not the "hi" of "hi-fi"
    (r"\bthanks\b", "thank you"),
)
# A contraction cannot end a clause ("Yes, it is." never becomes "Yes, it's."): the pronoun + verb
# contractions need a following word.
_NEXT_WORD: Final = r"(?=\s+\w)"
# Informal: the reverse for the common, unambiguous ones. "going to" -> "gonna" is left out: it is wrong
# before a place ("going to Paris").
# Negations first, so "we will not" becomes "we won't", not "we'll not".
INFORMAL_EN: Final[tuple[tuple[str, str], ...]] = (
    (r"\bcan ?not\b", "can't"),
    (r"\bwill not\b", "won't"),
    (r"\b(do|does|did|is|are|was|were|have|has|had|would|could|should) not\b", r"\1n't"),
    (r"\bI am" + _NEXT_WORD, "I'm"),
    (r"\b(you|we|they) are" + _NEXT_WORD, r"\1're"),
    (r"\b(it|that|what|there|he|she) is" + _NEXT_WORD, r"\1's"),
    (r"\b(I|you|we|they|he|she|it) will" + _NEXT_WORD, r"\1'll"),
    (r"\bwant to\b", "wanna"),
    (r"\bthank you\b", "thanks"),
    (r"\bhello\b", "hi"),
)
REGISTERS: Final = ("formal", "informal")

# --- glossary placeholders -------------------------------------------------------------------------------
# A glossary term becomes "ZQX" + a letter index (ZQXA, ZQXB, ..., ZQXBA ...): a letter sequence no
# language uses, made of single ASCII letters that every SentencePiece vocabulary has, so the tokenizer
# never maps it to <unk> and an MT model can copy it through. Letters, not digits: the bundled phrasebook
# model's vocabulary has no pieces for digits, and it lowercases its input (restore matches any case).
PLACEHOLDER_PREFIX: Final = "ZQX"
_LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# A placeholder-like leftover after restore: the prefix (MT may put spaces between its letters) and letters.
_PLACEHOLDER_DEBRIS: Final = re.compile(r"(?<![^\W\d_])Z\s?Q\s?X[A-Z]*(?![^\W\d_])", re.IGNORECASE)

# --- clean-up after removals -----------------------------------------------------------------------------
_CAPITALISE: Final = "\x00"  # marks a removed sentence-initial filler: the next letter becomes upper case
_SENTENCE_END: Final = ".!?\u2026"
_SPACES: Final = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_COMMA: Final = re.compile(r"\s+([,.\u2026])")
# French sets ! ? ; : off with a space; English does not.
_SPACE_BEFORE_MARK: Final = re.compile(r"\s+([!?;:])")
_COMMA_BEFORE_END: Final = re.compile(r",\s*([.!?;:\u2026])")
_LEADING_JUNK: Final = re.compile(r"^[\s,;.!?\u2026]+")
# A sentence mark left alone after a removed one-word sentence ("Fine. Um. Bye." -> "Fine. . Bye.").
_ORPHAN_MARK: Final = re.compile(r"(?<=[.!?\u2026])\s+[.!?\u2026]+(?=\s|$)")


@dataclass
class PersonaConfig:
    register: str = ""  # "formal" | "informal" | "" (unchanged)
    remove_fillers: bool = False
    mask_profanity: bool = False
    glossary: list[str] = field(default_factory=list)  # names/terms that must survive translation unchanged


@dataclass
class Prepared:
    text: str  # what goes to MT
    placeholders: dict[str, str] = field(default_factory=dict)  # token -> glossary term
    changes: list[str] = field(default_factory=list)  # human-readable notes, also from restore


def _language(code: str) -> str:
    return code.strip().lower().replace("_", "-").split("-")[0]


def _word(phrase: str) -> str:
    """Regex for a phrase as whole words; inner spaces match any run of whitespace."""
    return r"(?<![\w'\u2019])" + r"\s+".join(re.escape(part) for part in phrase.split()) + r"(?![\w'\u2019])"


def _placeholder(index: int) -> str:
    """ZQXA ... ZQXZ, ZQXAA, ZQXAB ... (bijective base 26: no index gets a prefix of another's letters)."""
    suffix = ""
    while True:
        index, digit = divmod(index, len(_LETTERS))
        suffix = _LETTERS[digit] + suffix
        if index == 0:
            return PLACEHOLDER_PREFIX + suffix
        index -= 1


def _placeholder_pattern(token: str) -> re.Pattern[str]:
    """The token in any case, letters possibly split by single spaces (as MT or detokenisers may do)."""
    return re.compile(r"(?<![^\W\d_])" + r"\s?".join(token) + r"(?![^\W\d_])", re.IGNORECASE)


def _match_case(source: str, replacement: str) -> str:
    if len(source) > 1 and source.isupper():
        return replacement.upper()
    if source[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _protect_glossary(out: Prepared, glossary: list[str]) -> None:
    # Longest first, so "Lingua Labs" wins over "Lingua"; otherwise in the configured order (deterministic).
    terms = sorted(dict.fromkeys(t.strip() for t in glossary if t.strip()), key=len, reverse=True)
    for term in terms:
        pattern = re.compile(_word(term), re.IGNORECASE)
        if not pattern.search(out.text):
            continue
        token = _placeholder(len(out.placeholders))
        out.text = pattern.sub(token, out.text)
        out.placeholders[token] = term
        out.changes.append(f"glossary: kept {term!r}")


def _remove_fillers(out: Prepared, lang: str) -> None:
    removed: list[str] = []

    def remover(discourse: bool) -> Callable[[re.Match[str]], str]:
        def sub(m: re.Match[str]) -> str:
            before = m.string[: m.start()].rstrip()
            after = m.string[m.end() :].lstrip()
            at_start = not m.group("lc") and (not before or before[-1] in _SENTENCE_END or before[-1] == _CAPITALISE)
            at_end = not m.group("rc") and (not after or after[0] in _SENTENCE_END + ";:")
            if discourse and not ((m.group("lc") or at_start) and (m.group("rc") or at_end)):
                return m.group(0)  # an ordinary word here, not a filler
            removed.append(m.group("f").lower())
            if m.group("lc") and m.group("rc"):
                # "So, um, we" -> "So, we" (the comma belongs to the opener); "it is, like, great" -> "it is
                # great" (both commas were only there for the filler).
                clause = re.split(r"[.!?\u2026]\s", before.replace(_CAPITALISE, ""))[-1]
                return ", " if len(clause.split()) <= 1 else " "
            if m.group("lc"):
                return ", " if after and after[0].isalnum() else ""  # "fine, you know." -> "fine."
            if at_start:
                # "Um, I think" -> "I think"; capitalise the next word only if the filler carried the capital.
                return _CAPITALISE if m.group("f")[:1].isupper() else ""
            return " "

        return sub

    for words, discourse in ((HESITATIONS.get(lang, ()), False), (DISCOURSE_FILLERS.get(lang, ()), True)):
        for filler in sorted(words, key=len, reverse=True):
            # A trailing comma or ellipsis ("Euh... je pense") goes with the filler.
            pattern = re.compile(rf"(?P<lc>,\s*)?(?P<f>{_word(filler)})(?P<rc>\s*(?:,|\.\.\.|\u2026))?", re.IGNORECASE)
            out.text = pattern.sub(remover(discourse), out.text)
    if not removed:
        return
    text = re.sub(_CAPITALISE + r"\s*(\w)", lambda m: m.group(1).upper(), out.text).replace(_CAPITALISE, "")
    out.text = _tidy(text, lang)
    out.changes.append(f"removed {len(removed)} filler(s): {', '.join(dict.fromkeys(removed))}")


def _tidy(text: str, lang: str) -> str:
    """Spacing and punctuation left over where words were taken out."""
    text = _ORPHAN_MARK.sub("", _COMMA_BEFORE_END.sub(r"\1", _SPACES.sub(" ", text)))
    text = _SPACE_BEFORE_COMMA.sub(r"\1", text)
    if lang != "fr":
        text = _SPACE_BEFORE_MARK.sub(r"\1", text)
    return _LEADING_JUNK.sub("", text).strip()


def _mask_profanity(out: Prepared, lang: str) -> None:
    words = PROFANITY.get(lang)
    if words is None:
        out.changes.append(f"profanity: no word list for {lang!r}, nothing masked")
        return
    # Whole words; a possessive "'s" after the word still counts as the word.
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w'\u2019])(?:{alternatives})(?!\w)", re.IGNORECASE)
    out.text, n = pattern.subn(lambda m: m.group(0)[0] + "*" * (len(m.group(0)) - 1), out.text)
    if n:
        out.changes.append(f"masked {n} word(s)")


def _shift_register(out: Prepared, register: str, lang: str) -> None:
    if lang != "en":
        out.changes.append(f"register: no {register} rules for {lang!r}, unchanged")
        return
    count = 0
    for source, target in FORMAL_EN if register == "formal" else INFORMAL_EN:
        pattern = re.compile(source, re.IGNORECASE)

        def sub(m: re.Match[str], target: str = target) -> str:
            nonlocal count
            count += 1
            return _match_case(m.group(0), m.expand(target))

        out.text = pattern.sub(sub, out.text)
    if count:
        out.changes.append(f"{register} register: {count} change(s)")


def prepare(text: str, config: PersonaConfig, language: str = "en") -> Prepared:
    """The text to send to MT for this session's persona, with the placeholders `restore` needs.

    Raises ValueError for a register other than "formal", "informal" or "".
    """
    register = config.register.strip().lower()
    if register and register not in REGISTERS:
        raise ValueError(f"unknown register {config.register!r}; expected one of {', '.join(REGISTERS)} or ''")
    lang = _language(language)
    out = Prepared(text=text)
    _protect_glossary(out, config.glossary)
    if config.remove_fillers:
        _remove_fillers(out, lang)
    if config.mask_profanity:
        _mask_profanity(out, lang)
    if register:
        _shift_register(out, register, lang)
    return out


def restore(translated: str, prepared: Prepared) -> str:
    """`translated` with the glossary terms, spelled as configured, back in place of their placeholders.

    A placeholder MT dropped is reported in prepared.changes (the term is not invented back in); a
    placeholder MT garbled into an unknown one is removed and reported, so no token reaches the listener.
    """
    text = translated
    for token, term in prepared.placeholders.items():
        text, n = _placeholder_pattern(token).subn(term.replace("\\", "\\\\"), text)  # the term literally
        if not n:
            prepared.changes.append(f"glossary: MT dropped {term!r}")
    text, debris = _PLACEHOLDER_DEBRIS.subn("", text)
    if debris:
        text = _SPACE_BEFORE_COMMA.sub(r"\1", _SPACES.sub(" ", text)).strip()  # not _tidy: keep MT's marks
        prepared.changes.append(f"glossary: removed {debris} garbled placeholder(s)")
    return text
