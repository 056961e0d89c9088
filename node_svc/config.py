"""Node settings (env LINGUA_NODE_*, or the [node] table of the TOML file)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _default_jobs() -> int:
    # Each job's ASR already uses two threads; more parallel jobs than cores/2 only queue on the CPU.
    return max(1, (os.cpu_count() or 2) // 2)


@dataclass
class NodeSettings:
    scheduler: str = "127.0.0.1:50051"
    # Empty: the scheduler assigns one on first registration.
    node_id: str = ""
    display_name: str = ""
    max_concurrent_jobs: int = _default_jobs()
    # Threads for ASR/MT inside one job (0 = min(2, cores)).
    cpu_threads: int = 0
    accept_public_jobs: bool = True
    # Reconnect backoff after the scheduler goes away: exponential with full jitter.
    reconnect_initial_ms: int = 500
    reconnect_max_ms: int = 15_000
    # Seconds a shutting-down node waits for its in-flight jobs.
    drain_grace_s: float = 30.0
    max_message_mb: int = 64
    # Run one tiny job through every model before connecting, so the first real job is not slow.
    warm_up: bool = True
    # Append a JSON line per job start/end to this file (empty: no log).
    job_log: str = ""
    # Optional modules to offer (comma-separated feature names); "all" offers every one that can load.
    modules: str = "all"
    # Local control API (modules on/off) on this port, bound to control_host; -1 disables it.
    control_port: int = 8090
    control_host: str = "127.0.0.1"
    # Where the models come from. Both empty (the default): the models shipped in wheels, loaded directly, no
    # installs. Either set: the local model store (node_svc/models), served lazily, filled from the hub.
    # models_dir empty: $XDG_DATA_HOME/lingua/models or ~/.local/share/lingua/models.
    models_dir: str = ""
    # Model hub (gRPC address) installs come from; empty: 127.0.0.1:50052.
    hub: str = ""
    # Models to install from the hub at start-up when the store lacks them (comma-separated ids; "bundled" =
    # silero-vad, whisper-tiny.en, piper-en-us-joe-medium, phrasebook-m2m100, whisper-base and the Apertium
    # pairs apertium-eng-spa, apertium-fr-es, apertium-eng-cat, apertium-es-pt: BUNDLED_MODEL_IDS).
    install: str = ""
    # Bearer token for a hub whose reads need one (empty: none, or $LINGUA_HUB_TOKEN).
    hub_token: str = ""
    # The hub's Ed25519 public key(s) (base64, or files holding one; comma-separated for key rotation): a version
    # is installed only if its manifest is signed by one of them. Empty: installs are refused, unless
    # allow_unsigned_models (then unverified, with a loud warning; ignored when a key is set).
    hub_public_key: str = ""
    allow_unsigned_models: bool = False
    # Where engines run: auto (CUDA when CTranslate2 sees a GPU), cpu or cuda.
    device: str = "auto"
    # Serve espeak-ng's native voices (when the Debian package is installed) for languages without a Piper voice.
    espeak_voices: bool = True
    # Voice overrides, "lang=model_id,…" (e.g. "es=espeak-ng"); otherwise native > espeak-ng > cross-lingual.
    voices: str = ""


DEFAULT_HUB = "127.0.0.1:50052"


def uses_model_store(settings: NodeSettings) -> bool:
    return bool(settings.models_dir or settings.hub or settings.install)
