"""The model-format contract shared by the hub, its importers and the node: engine names, manifest file names,
translation tiers, and the Apertium language-pair packages Lingua knows how to publish.

Nothing here loads an engine: the hub and the CLI import it without ctranslate2, onnxruntime or Apertium.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Engine kinds, as written in a model's catalog entry (hub `Model.engine`) and the node's store manifest.
ENGINE_CT2_M2M100: Final = "ctranslate2-m2m100"
ENGINE_CT2_WHISPER: Final = "ctranslate2-whisper"
ENGINE_APERTIUM: Final = "apertium"
ENGINE_PIPER: Final = "piper"
ENGINE_ESPEAK: Final = "espeak-ng"
ENGINE_SILERO: Final = "silero-onnx"

# File names inside model directories.
MT_MANIFEST: Final = "lingua_model.json"  # a Lingua CTranslate2 MT model's manifest
SPM_NAME: Final = "sentencepiece.bpe.model"  # its SentencePiece model
APERTIUM_MANIFEST: Final = "apertium.json"  # an Apertium pair: which Debian package and modes it needs

# Translation tiers, best first; the values are lingua.v1.TranslationTier numbers.
TIER_NEURAL: Final = 1
TIER_RULE_BASED: Final = 2
TIER_PIVOT: Final = 3
TIER_DEMO: Final = 4
TIER_NAMES: Final = {TIER_NEURAL: "neural", TIER_RULE_BASED: "rule_based", TIER_PIVOT: "pivot", TIER_DEMO: "demo"}
TIER_BY_NAME: Final = {name: tier for tier, name in TIER_NAMES.items()}

# The multilingual Whisper shipped in two PyPI wheels (model.bin split in halves).
WHISPER_BASE_ID: Final = "whisper-base"
WHISPER_TINY_EN_ID: Final = "whisper-tiny.en"


@dataclass(frozen=True)
class ApertiumPackage:
    """One Debian Apertium data package and the translation modes (directions) it installs."""

    package: str
    version: str  # the version Lingua publishes it under (the data's upstream release)
    modes: tuple[tuple[str, str, str], ...]  # (src ISO 639-1, tgt ISO 639-1, Apertium mode name)

    @property
    def model_id(self) -> str:
        return self.package

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(src, tgt) for src, tgt, _ in self.modes]

    def manifest(self) -> dict[str, object]:
        return {"engine": ENGINE_APERTIUM, "package": self.package, "version": self.version,
                "modes": [{"src": s, "tgt": t, "mode": m} for s, t, m in self.modes]}


# Pairs published by `lingua hub import-bundled` (each works on a node whose Debian package is installed).
APERTIUM_PACKAGES: Final = (
    ApertiumPackage("apertium-eng-spa", "0.8.0", (("en", "es", "eng-spa"), ("es", "en", "spa-eng"))),
    ApertiumPackage("apertium-fr-es", "0.9.0", (("fr", "es", "fr-es"), ("es", "fr", "es-fr"))),
    ApertiumPackage("apertium-eng-cat", "1.0.0", (("en", "ca", "eng-cat"), ("ca", "en", "cat-eng"))),
    ApertiumPackage("apertium-es-pt", "1.1.0", (("es", "pt", "es-pt"), ("pt", "es", "pt-es"))),
)
