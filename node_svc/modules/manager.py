"""Which optional modules a node offers, their models (loaded lazily), and switching them at run time.

A node advertises a feature only when the module is enabled, its dependencies import and its model files
are present; the model itself loads on first use. A module whose load or run fails is marked failed (no
longer advertised) while jobs still return their ASR/MT/TTS results.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lingua_common.features import FEATURE_NAMES

# Python packages each module needs at run time.
_REQUIRES: dict[str, tuple[str, ...]] = {
    "speaker_identification": ("resemblyzer", "torch"),
    "voice_cloning": ("pyworld",),
    "speech_rate_detection": (),
    "speech_rate_control": (),
    "emotion_detection": ("pyworld",),
    "voice_style_detection": ("pyworld",),
    "persona_adaptation": (),
}


@dataclass
class ModuleStatus:
    name: str
    enabled: bool
    available: bool
    loaded: bool
    error: str = ""

    @property
    def advertised(self) -> bool:
        return self.enabled and self.available and not self.error

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "enabled": self.enabled, "available": self.available, "loaded": self.loaded,
                "error": self.error, "advertised": self.advertised}


def _missing_dependency(name: str) -> str:
    for package in _REQUIRES[name]:
        if importlib.util.find_spec(package) is None:
            return f"python package {package!r} is not installed"
    if name == "speaker_identification":
        spec = importlib.util.find_spec("resemblyzer")
        origin = Path(spec.origin) if spec and spec.origin else None
        if origin is None or not (origin.parent / "pretrained.pt").is_file():
            return "resemblyzer's pretrained encoder (pretrained.pt) is missing"
    return ""


class ModuleManager:
    def __init__(self, enabled: list[str] | None = None) -> None:
        wanted = set(FEATURE_NAMES if enabled is None else enabled)
        unknown = wanted - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"unknown module(s) {', '.join(sorted(unknown))}; known: {', '.join(FEATURE_NAMES)}")
        self._lock = threading.Lock()
        self._status: dict[str, ModuleStatus] = {}
        for name in FEATURE_NAMES:
            missing = _missing_dependency(name)
            self._status[name] = ModuleStatus(name, name in wanted, available=not missing, loaded=False,
                                              error=missing)
        self._speaker_encoder: Any = None
        # Bumped on every change of what is advertised, so the agent knows to re-announce.
        self.version = 0

    def supported(self) -> list[str]:
        with self._lock:
            return [n for n, s in self._status.items() if s.advertised]

    def status(self) -> list[ModuleStatus]:
        with self._lock:
            return [ModuleStatus(**vars(s)) for s in self._status.values()]

    def set_enabled(self, name: str, enabled: bool) -> ModuleStatus:
        if name not in self._status:
            raise KeyError(f"unknown module {name!r}; known: {', '.join(FEATURE_NAMES)}")
        with self._lock:
            status = self._status[name]
            if status.enabled != enabled:
                status.enabled = enabled
                if enabled and status.available:
                    status.error = ""  # re-enabling retries a module that failed before
                self.version += 1
            return ModuleStatus(**vars(status))

    def mark_failed(self, name: str, error: str) -> None:
        with self._lock:
            status = self._status[name]
            if not status.error:
                status.error = error
                self.version += 1

    def mark_loaded(self, name: str) -> None:
        with self._lock:
            self._status[name].loaded = True

    def speaker_encoder(self) -> Any:
        """The speaker encoder, loaded on first use (shared by all jobs)."""
        with self._lock:
            if self._speaker_encoder is None:
                from node_svc.modules.speaker import SpeakerEncoder

                self._speaker_encoder = SpeakerEncoder()
            return self._speaker_encoder
