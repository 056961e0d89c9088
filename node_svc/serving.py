"""Which installed model serves each request, loaded lazily, with a fallback to the previous version.

The node's model store (node_svc/models) says what is on disk; this module turns that into engines the
pipeline can call. A newly installed model is advertised at once and loaded on its first job; if a
new version fails to load, the version already in memory keeps serving and the new one is marked
broken (it is retried only when the store changes again).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from lingua.v1 import common_pb2, node_pb2
from node_svc.engines.asr import AsrOutput
from node_svc.engines.tts import TtsChunk
from node_svc.models.local import version_key

log = logging.getLogger(__name__)

E = TypeVar("E")


class Installed(Protocol):
    """One installed model version, as the store describes it."""

    @property
    def model_id(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def kind(self) -> int: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    @property
    def pairs(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def dialect(self) -> str: ...
    @property
    def path(self) -> Path: ...


class ModelUnavailable(Exception):
    """No installed model for the request (MODEL_NOT_AVAILABLE) or none that loads (MODEL_LOAD_FAILED)."""

    def __init__(self, message: str, code: str = "MODEL_NOT_AVAILABLE") -> None:
        super().__init__(message)
        self.code = code


class VersionedModel(Generic[E]):
    """One model id: its installed versions (oldest first), the one in memory, the ones that failed."""

    def __init__(self, model_id: str, loader: Callable[[Installed], E]) -> None:
        self.model_id = model_id
        self._loader = loader
        self._versions: list[Installed] = []
        self._failed: dict[str, str] = {}
        self._loaded: tuple[Installed, E] | None = None
        self._lock = threading.Lock()

    def offer(self, versions: Sequence[Installed]) -> None:
        """The installed versions now, oldest first. A version that failed stays failed until reinstalled."""
        with self._lock:
            now = {v.version for v in versions}
            self._failed = {k: why for k, why in self._failed.items() if k in now}
            self._versions = list(versions)

    @property
    def target(self) -> Installed | None:
        """The version that should serve: the newest one not known to be broken."""
        return next((v for v in reversed(self._versions) if v.version not in self._failed), None)

    @property
    def serving(self) -> Installed | None:
        """What a job would run on: the target, or the loaded version when every newer one failed."""
        target = self.target
        if target is not None:
            return target
        return self._loaded[0] if self._loaded is not None else None

    @property
    def failures(self) -> dict[str, str]:
        return dict(self._failed)

    @property
    def loaded_version(self) -> str:
        return self._loaded[0].version if self._loaded is not None else ""

    def engine(self) -> E:
        """The engine for the newest loadable version, loading it now if needed."""
        with self._lock:
            while (target := self.target) is not None:
                if self._loaded is not None and self._loaded[0].version == target.version:
                    return self._loaded[1]
                try:
                    engine = self._loader(target)
                except Exception as exc:  # any load failure: keep serving what we have
                    self._failed[target.version] = f"{type(exc).__name__}: {exc}"
                    log.error("loading %s %s failed: %s", self.model_id, target.version, exc)
                    continue
                previous = self._loaded[0].version if self._loaded is not None else ""
                self._loaded = (target, engine)
                log.info("loaded %s %s%s", self.model_id, target.version,
                         f" (replacing {previous})" if previous else "")
                return engine
            if self._loaded is not None:
                return self._loaded[1]
            failures = "; ".join(f"{v}: {why}" for v, why in self._failed.items()) or "no version installed"
            raise ModelUnavailable(f"{self.model_id}: {failures}", "MODEL_LOAD_FAILED")


class Loaders(Protocol):
    def asr(self, model: Installed) -> Any: ...
    def mt(self, model: Installed) -> Any: ...
    def tts(self, model: Installed) -> Any: ...
    def vad(self, model: Installed) -> Any: ...


class EngineLoaders:
    """The real engines for each kind of installed model directory."""

    def __init__(self, cpu_threads: int | None = None) -> None:
        self.cpu_threads = cpu_threads

    def asr(self, model: Installed) -> Any:
        from node_svc.engines.asr import WhisperAsr

        engine = WhisperAsr(model_path=str(model.path), cpu_threads=self.cpu_threads)
        engine.model_name = model.model_id
        return engine

    def mt(self, model: Installed) -> Any:
        from node_svc.engines.mt import M2M100Translator

        return M2M100Translator(model.path, intra_threads=min(2, self.cpu_threads or 2))

    def tts(self, model: Installed) -> Any:
        from node_svc.engines.tts import PiperTts

        onnx = next(p for p in sorted(model.path.glob("*.onnx")))
        return PiperTts(model_path=onnx, config_path=onnx.with_name(onnx.name + ".json"),
                        cpu_threads=self.cpu_threads)

    def vad(self, model: Installed) -> Any:
        from node_svc.engines.vad import SileroVad

        return SileroVad(next(p for p in sorted(model.path.glob("*.onnx"))))


_KIND_NAMES: dict[int, str] = {node_pb2.MODEL_KIND_ASR: "asr", node_pb2.MODEL_KIND_MT: "mt",
                               node_pb2.MODEL_KIND_TTS: "tts", node_pb2.MODEL_KIND_VAD: "vad"}


class ServedModels:
    """Every installed ASR/MT/TTS/VAD model, by kind and id, synced from the store's listing."""

    def __init__(self, loaders: Loaders) -> None:
        self._loaders = loaders
        self.by_kind: dict[str, dict[str, VersionedModel[Any]]] = {k: {} for k in _KIND_NAMES.values()}
        self._lock = threading.Lock()

    def sync(self, installed: Sequence[Installed]) -> None:
        """Take the store's listing (any order)."""
        grouped: dict[tuple[str, str], list[Installed]] = {}
        for model in installed:
            kind = _KIND_NAMES.get(model.kind)
            if kind is not None:
                grouped.setdefault((kind, model.model_id), []).append(model)
        with self._lock:
            for kind, models in self.by_kind.items():
                for model_id in [m for m in models if (kind, m) not in grouped]:
                    del models[model_id]  # uninstalled: stop advertising and routing to it
            for (kind, model_id), versions in grouped.items():
                versions.sort(key=lambda m: version_key(m.version))
                slot = self.by_kind[kind].get(model_id)
                if slot is None:
                    slot = VersionedModel(model_id, getattr(self._loaders, kind))
                    self.by_kind[kind][model_id] = slot
                slot.offer(versions)

    def slots(self, kind: str) -> list[VersionedModel[Any]]:
        with self._lock:
            return [self.by_kind[kind][m] for m in sorted(self.by_kind[kind])]

    def first(self, kind: str) -> VersionedModel[Any]:
        slots = [s for s in self.slots(kind) if s.serving is not None]
        if not slots:
            raise ModelUnavailable(f"no {kind} model is installed ({kind} models: "
                                   f"{', '.join(s.model_id for s in self.slots(kind)) or 'none'})")
        return slots[0]

    def protos(self) -> list[node_pb2.InstalledModel]:
        """What the node advertises: the serving version of each model (ERROR when none can load)."""
        out = []
        for kind in _KIND_NAMES.values():
            for slot in self.slots(kind):
                model = slot.serving
                if model is None:
                    broken = next(iter(slot._versions), None)
                    if broken is None:
                        continue
                    model, state = broken, node_pb2.MODEL_STATE_ERROR
                else:
                    state = node_pb2.MODEL_STATE_READY
                entry = node_pb2.InstalledModel(
                    model_id=model.model_id, kind=model.kind, version=model.version, dialect=model.dialect,  # type: ignore[arg-type]
                    languages=list(model.languages), state=state,  # type: ignore[arg-type]
                    pairs=[common_pb2.LanguagePair(src_lang=s, tgt_lang=t) for s, t in model.pairs])
                if kind == "tts" and state == node_pb2.MODEL_STATE_READY:
                    self._voice_languages(slot, entry)
                out.append(entry)
        return out

    @staticmethod
    def _voice_languages(slot: VersionedModel[Any], entry: node_pb2.InstalledModel) -> None:
        """A voice speaks more than its manifest says (cross-lingually, by phonemes): ask the engine."""
        try:
            engine = slot.engine()
        except ModelUnavailable:
            entry.state = node_pb2.MODEL_STATE_ERROR
            return
        del entry.languages[:]
        entry.languages.extend(engine.native_languages)
        entry.cross_lingual_languages.extend(engine.cross_lingual_languages)


class RoutedMt:
    """MtEngine over every installed MT model: a pair goes to the model that offers it."""

    def __init__(self, models: ServedModels) -> None:
        self._models = models

    def _slot_for(self, src: str, tgt: str) -> VersionedModel[Any] | None:
        for slot in self._models.slots("mt"):
            serving = slot.serving
            if serving is not None and (src, tgt) in serving.pairs:
                return slot
        return None

    @property
    def language_pairs(self) -> list[tuple[str, str]]:
        pairs: dict[tuple[str, str], None] = {}
        for slot in self._models.slots("mt"):
            if (serving := slot.serving) is not None:
                pairs.update(dict.fromkeys(serving.pairs))
        return list(pairs)

    def supports(self, src: str, tgt: str) -> bool:
        return self._slot_for(src, tgt) is not None

    def translate(self, sentences: list[str], src: str, tgt: str, context: str = "") -> list[str]:
        slot = self._slot_for(src, tgt)
        if slot is None:
            raise ModelUnavailable(f"no installed translation model for {src}->{tgt}")
        result: list[str] = slot.engine().translate(sentences, src, tgt, context)
        return result

    @property
    def model_id(self) -> str:
        return ",".join(s.model_id for s in self._models.slots("mt"))


class RoutedAsr:
    """AsrEngine over every installed ASR model: a language goes to the first model that knows it."""

    def __init__(self, models: ServedModels) -> None:
        self._models = models

    def _slot_for(self, language: str) -> VersionedModel[Any] | None:
        for slot in self._models.slots("asr"):
            serving = slot.serving
            if serving is not None and language in serving.languages:
                return slot
        return None

    @property
    def languages(self) -> list[str]:
        langs: dict[str, None] = {}
        for slot in self._models.slots("asr"):
            if (serving := slot.serving) is not None:
                langs.update(dict.fromkeys(serving.languages))
        return list(langs)

    @property
    def model_name(self) -> str:
        return ",".join(s.model_id for s in self._models.slots("asr"))

    def transcribe(self, audio16k: np.ndarray, language: str, on_segment: Callable[[str], None] | None = None,
                   word_timestamps: bool = False) -> AsrOutput:
        slot = self._slot_for(language)
        if slot is None:
            raise ModelUnavailable(f"no installed speech recognition model for {language!r}")
        out: AsrOutput = slot.engine().transcribe(audio16k, language, on_segment=on_segment,
                                                  word_timestamps=word_timestamps)
        return out

    def detect_language(self, audio16k: np.ndarray, candidates: list[str]) -> str:
        for slot in self._models.slots("asr"):
            engine = slot.engine()
            if getattr(engine, "is_multilingual", False):
                detected: str = engine.detect_language(audio16k, candidates)
                return detected
        return candidates[0]


class SingleEngine:
    """The first installed model of a kind (TTS voice, VAD), newest loadable version, delegating calls."""

    def __init__(self, models: ServedModels, kind: str) -> None:
        self._models = models
        self._kind = kind

    @property
    def engine(self) -> Any:
        return self._models.first(self._kind).engine()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


class RoutedTts(SingleEngine):
    def __init__(self, models: ServedModels) -> None:
        super().__init__(models, "tts")

    def synthesize(self, text: str, language: str, length_scale: float = 1.0) -> Iterator[TtsChunk]:
        chunks: Iterator[TtsChunk] = self.engine.synthesize(text, language, length_scale)
        return chunks


class RoutedVad(SingleEngine):
    def __init__(self, models: ServedModels) -> None:
        super().__init__(models, "vad")

    def speech_segments(self, audio16k: np.ndarray) -> list[tuple[int, int]]:
        segments: list[tuple[int, int]] = self.engine.speech_segments(audio16k)
        return segments
