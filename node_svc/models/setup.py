"""A node serving from its model store: the store, the hub installer, the start-up install list, the pipeline."""

from __future__ import annotations

import os
from pathlib import Path

from node_svc.config import DEFAULT_HUB, NodeSettings
from node_svc.engines.device import resolve_device
from node_svc.models.installer import ModelInstaller
from node_svc.models.manager import NodeModelManager, parse_install_list
from node_svc.models.store import ModelStore, default_models_dir
from node_svc.models.trust import ModelTrust
from node_svc.pipeline import Pipeline


def model_store(settings: NodeSettings) -> ModelStore:
    return ModelStore(Path(settings.models_dir).expanduser() if settings.models_dir else default_models_dir())


def hub_token(settings: NodeSettings) -> str:
    return settings.hub_token or os.environ.get("LINGUA_HUB_TOKEN", "")


def model_trust(settings: NodeSettings) -> ModelTrust:
    """Which hub versions this node installs (hub_public_key, allow_unsigned_models)."""
    return ModelTrust.from_settings(settings.hub_public_key, settings.allow_unsigned_models)


def store_backed_pipeline(settings: NodeSettings, cpu_threads: int | None,
                          modules: list[str] | None) -> tuple[Pipeline, NodeModelManager]:
    """Install what `settings.install` lists and the store lacks, then build a pipeline over the store."""
    store = model_store(settings)
    installer = ModelInstaller(store, settings.hub or DEFAULT_HUB, hub_token(settings), trust=model_trust(settings))
    manager = NodeModelManager(store, installer)
    manager.ensure(parse_install_list(settings.install))
    pipeline = Pipeline.from_store(store, cpu_threads, modules, device=resolve_device(settings.device),
                                   system_models=settings.espeak_voices, voices=parse_voices(settings.voices))
    manager.pipeline = pipeline
    return pipeline, manager


def parse_voices(setting: str) -> dict[str, str]:
    """"es=espeak-ng, fr=piper-fr" -> {"es": "espeak-ng", "fr": "piper-fr"}; ValueError on a malformed item."""
    voices = {}
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        lang, sep, model_id = item.partition("=")
        if not sep or not lang.strip() or not model_id.strip():
            raise ValueError(f"voices: {item!r} is not lang=model_id")
        voices[lang.strip()] = model_id.strip()
    return voices
