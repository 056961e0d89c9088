"""Run-time machine translation with a CTranslate2-converted M2M100 model.

Only ctranslate2 + sentencepiece are used here: the node never imports torch or transformers
(those are build-time tools, see scripts/build_mt_fixture.py).

A model directory holds the CTranslate2 files (model.bin, config.json, shared_vocabulary.json),
the SentencePiece model `sentencepiece.bpe.model` and a `lingua_model.json` manifest:

    {"model_id": ..., "version": ..., "kind": "mt", "language_pairs": [["en", "fr"], ...],
     "source_normalization": "basic" | "asr", "beam_size": 2, ...}

M2M100 input format: `__src__ <pieces> </s>`; the target language is forced by decoding with
`target_prefix=[["__tgt__"]]`, and that first token is dropped from the hypothesis.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import ctranslate2
import sentencepiece as spm

from lingua_common.model_format import ENGINE_CT2_M2M100, TIER_BY_NAME, TIER_NEURAL

MANIFEST_NAME: Final = "lingua_model.json"
SPM_NAME: Final = "sentencepiece.bpe.model"
BUNDLED_DIR: Final = Path(__file__).resolve().parent.parent / "bundled" / "phrasebook_m2m100"

_EOS: Final = "</s>"
# Tokens that must never reach the user even if a small model emits them.
_SPECIAL_RE: Final = re.compile(r"^(?:__[a-z]{2,3}__|<unk>|<s>|</s>|<pad>|madeupword\d+)$")
# ASR engines and keyboards disagree on apostrophes; the vocabularies only know the ASCII one.
_QUOTES: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})
# Everything that is not a letter, digit or apostrophe separates words in the "asr" form.
_NON_WORD_RE: Final = re.compile(r"[^\w']+|_")
_EDGE_APOSTROPHE_RE: Final = re.compile(r"(?<!\w)'|'(?!\w)")
# Whisper writes contractions ("where's", "I'd like") where a phrasebook spells them out; both
# sides are mapped to the spelled-out form. The mapping only has to be deterministic, not
# linguistically exact ("'d" is always "would"), because training applies the same function.
_EN_CONTRACTIONS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"\bcan't\b", "cannot"),
        (r"\bwon't\b", "will not"),
        (r"\bshan't\b", "shall not"),
        (r"\blet's\b", "let us"),
        (r"\bi'm\b", "i am"),
        (r"n't\b", " not"),
        (r"'re\b", " are"),
        (r"'ll\b", " will"),
        (r"'ve\b", " have"),
        (r"'d\b", " would"),
        (
            r"\b(it|that|what|where|there|here|he|she|who|how|when|why|everything|nothing"
            r"|someone|somebody|everyone)'s\b",
            r"\1 is",
        ),
    )
)

# The decoder never needs to be much longer than the source; this also bounds runaway loops.
_MAX_DECODING_CAP: Final = 200
_MAX_INPUT_TOKENS: Final = 200


class MtUnsupportedPair(ValueError):
    """The model does not translate this (source, target) language pair."""


def basic_clean(text: str) -> str:
    """Unicode NFC, ASCII apostrophes and single spaces: safe for any model."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_QUOTES).split())


def normalize_asr(text: str, lang: str) -> str:
    """Map ASR-ish text to a canonical key: lowercase, no punctuation, contractions expanded.

    "Where's the train station?" and "where is the train station" both become
    "where is the train station". The phrasebook build trains on this form too, so the model sees
    the same string whatever casing/punctuation the recogniser chose.
    """
    text = basic_clean(text).lower()
    if lang == "en":
        for pattern, repl in _EN_CONTRACTIONS:
            text = pattern.sub(repl, text)
    text = _NON_WORD_RE.sub(" ", text)
    text = _EDGE_APOSTROPHE_RE.sub(" ", text)
    return " ".join(text.split())


def _load_manifest(model_dir: Path) -> dict[str, Any]:
    path = model_dir / MANIFEST_NAME
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    for key in ("model_id", "version", "language_pairs"):
        if key not in data:
            raise ValueError(f"{path}: missing {key!r}")
    return data


class M2M100Translator:
    """Batch translator over a CTranslate2 M2M100 model. Thread-safe: one instance serves all.

    ctranslate2.Translator.translate_batch releases the GIL and may be called concurrently; the
    SentencePiece processor is only read after construction.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        intra_threads: int = 1,
        inter_threads: int = 1,
        device: str = "cpu",
        beam_size: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        manifest = _load_manifest(self.model_dir)
        self.model_id: str = str(manifest["model_id"])
        self.version: str = str(manifest["version"])
        self.language_pairs: list[tuple[str, str]] = [(str(src), str(tgt)) for src, tgt in manifest["language_pairs"]]
        # A real checkpoint is neural; the phrasebook says "demo" (lingua_common.model_format tiers).
        self.engine = ENGINE_CT2_M2M100
        self.tier: int = TIER_BY_NAME.get(str(manifest.get("tier", "neural")), TIER_NEURAL)
        self._pairs = frozenset(self.language_pairs)
        # "asr": the model was trained on normalize_asr() keys (the phrasebook). Real M2M100
        # checkpoints want cased, punctuated text, so they default to the light cleanup only.
        self._normalization: str = str(manifest.get("source_normalization", "basic"))
        if self._normalization not in ("basic", "asr"):
            raise ValueError(f"unknown source_normalization {self._normalization!r}")
        # Beam search with length normalisation can trade a confident word for a shorter
        # hypothesis; a memorising model like the phrasebook decodes best greedily (beam 1), so
        # the manifest may pin it. Real models default to a small beam.
        self._beam_size = int(beam_size if beam_size is not None else manifest.get("beam_size", 2))
        if self._beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {self._beam_size}")
        self._sp = spm.SentencePieceProcessor(model_file=str(self.model_dir / SPM_NAME))
        # Loaded once; compute_type "default" keeps the int8 weights the model was saved with.
        self._translator = ctranslate2.Translator(
            str(self.model_dir),
            device=device,
            compute_type="default",
            intra_threads=intra_threads,
            inter_threads=inter_threads,
        )

    @classmethod
    def bundled(cls, **kw: Any) -> M2M100Translator:
        """The tiny phrasebook demo model committed under node_svc/bundled/."""
        return cls(BUNDLED_DIR, **kw)

    def supports(self, src: str, tgt: str) -> bool:
        return (src, tgt) in self._pairs

    def prepare_source(self, text: str, src: str) -> str:
        """The exact string fed to the tokenizer (exposed so tests and tools can check it)."""
        if self._normalization == "asr":
            return normalize_asr(text, src)
        return basic_clean(text)

    def translate(self, sentences: Sequence[str], src: str, tgt: str, context: str = "") -> list[str]:
        """Translate sentences in one batch, keeping order; blank input gives "".

        `context` (earlier group utterances) is accepted for API stability but ignored: the
        phrasebook model has no notion of context and M2M100 is sentence-level anyway.
        """
        del context
        if not self.supports(src, tgt):
            raise MtUnsupportedPair(
                f"{self.model_id} does not translate {src}->{tgt} (supported: {sorted(self._pairs)})"
            )
        out = [""] * len(sentences)
        todo: list[int] = []
        batch: list[list[str]] = []
        for i, sentence in enumerate(sentences):
            prepared = self.prepare_source(sentence, src)
            if not prepared:
                continue
            pieces: list[str] = self._sp.encode(prepared, out_type=str)
            todo.append(i)
            batch.append([f"__{src}__", *pieces[:_MAX_INPUT_TOKENS], _EOS])
        if not batch:
            return out
        longest = max(len(tokens) for tokens in batch)
        results = self._translator.translate_batch(
            batch,
            target_prefix=[[f"__{tgt}__"]] * len(batch),
            beam_size=self._beam_size,
            max_decoding_length=min(_MAX_DECODING_CAP, 2 * longest + 10),
        )
        for i, result in zip(todo, results, strict=True):
            hypothesis: list[str] = result.hypotheses[0]
            # Drop the forced language token and anything else that is not text.
            text_pieces = [tok for tok in hypothesis[1:] if not _SPECIAL_RE.match(tok)]
            out[i] = str(self._sp.decode(text_pieces)).strip()
        return out
