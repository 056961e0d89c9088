"""Engines that come with the operating system rather than the model store: espeak-ng's own voices (Debian
package `espeak-ng`). The node serves them beside its installed models, like any other model."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from lingua.v1 import node_pb2
from lingua_common.model_format import ENGINE_ESPEAK


@dataclass(frozen=True)
class SystemModel:
    model_id: str
    version: str
    kind: int
    languages: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    dialect: str
    engine: str
    path: Path


def system_models() -> list[SystemModel]:
    """espeak-ng as a TTS model when it is installed (nothing otherwise)."""
    from node_svc.engines.espeak import espeak_binary, system_languages

    binary = espeak_binary()
    languages = system_languages()
    if binary is None or not languages:
        return []
    try:
        banner = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return []
    version = next((word for word in banner if word[:1].isdigit()), "system")
    return [SystemModel("espeak-ng", version, node_pb2.MODEL_KIND_TTS, tuple(sorted(languages)), (), "",
                        ENGINE_ESPEAK, Path(binary))]
