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
from lingua_common.model_format import ENGINE_APERTIUM, ENGINE_ESPEAK
from node_svc.engines.apertium import Marks
from node_svc.engines.asr import AsrOutput, pick_language
from node_svc.engines.device import onnx_providers
from node_svc.engines.tts import TtsChunk
from node_svc.models.local import version_key
from node_svc.routes import AUTO, MtOutput, MtRoute, mt_offers, plan_routes

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
    def engine(self) -> str: ...
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
    """The real engines for each kind of installed model directory, by the engine its manifest names."""

    def __init__(self, cpu_threads: int | None = None, device: str = "cpu") -> None:
        self.cpu_threads = cpu_threads
        self.device = device

    def asr(self, model: Installed) -> Any:
        from node_svc.engines.asr import WhisperAsr
        from node_svc.engines.device import ct2_compute_type

        engine = WhisperAsr(model_path=str(model.path), cpu_threads=self.cpu_threads, device=self.device,
                            compute_type=ct2_compute_type(self.device))
        engine.model_name = model.model_id
        return engine

    def mt(self, model: Installed) -> Any:
        if model.engine == ENGINE_APERTIUM:
            from node_svc.engines.apertium import ApertiumTranslator

            return ApertiumTranslator(model.path)
        from node_svc.engines.mt import M2M100Translator

        return M2M100Translator(model.path, intra_threads=min(2, self.cpu_threads or 2), device=self.device)

    def tts(self, model: Installed) -> Any:
        if model.engine == ENGINE_ESPEAK:
            from node_svc.engines.espeak import EspeakTts

            return EspeakTts()
        from node_svc.engines.tts import PiperTts

        onnx = next(p for p in sorted(model.path.glob("*.onnx")))
        return PiperTts(model_path=onnx, config_path=onnx.with_name(onnx.name + ".json"),
                        cpu_threads=self.cpu_threads, providers=onnx_providers(self.device))

    def vad(self, model: Installed) -> Any:
        from node_svc.engines.vad import SileroVad

        return SileroVad(next(p for p in sorted(model.path.glob("*.onnx"))), providers=onnx_providers(self.device))


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
        """What the node advertises: the serving version of each model (ERROR when none can load), each MT
        pair with its tier and engine, and the pivot pairs the node can chain."""
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
                    languages=list(model.languages), state=state, engine=model.engine)  # type: ignore[arg-type]
                if kind == "mt":
                    offered = mt_offers(model)
                    entry.pairs.extend(common_pb2.LanguagePair(src_lang=s, tgt_lang=t, tier=tier,  # type: ignore[arg-type]
                                                               engine=model.engine or model.model_id)
                                       for (s, t), tier in offered)
                    if not offered and state == node_pb2.MODEL_STATE_READY:
                        entry.state = node_pb2.MODEL_STATE_NOT_INSTALLED  # e.g. its Debian package is missing
                if kind == "asr" and len(model.languages) > 1:
                    entry.languages.append(AUTO)  # a multilingual model identifies the spoken language
                if kind == "tts" and state == node_pb2.MODEL_STATE_READY:
                    self._voice_languages(slot, entry)
                out.append(entry)
        pivots = plan_routes(self.direct_routes())
        pivot_pairs = [r for r in pivots.values() if r.pivot]
        if pivot_pairs:
            out.append(node_pb2.InstalledModel(
                model_id="pivot", kind=node_pb2.MODEL_KIND_MT, engine="pivot", state=node_pb2.MODEL_STATE_READY,
                pairs=[common_pb2.LanguagePair(src_lang=r.src, tgt_lang=r.tgt, tier=r.tier,  # type: ignore[arg-type]
                                               engine=r.engine, pivot_lang=r.pivot) for r in pivot_pairs]))
        return out

    def direct_routes(self) -> list[MtRoute]:
        """Every pair an installed MT model translates directly (whose engine can run here)."""
        routes = []
        for slot in self.slots("mt"):
            model = slot.serving
            if model is None:
                continue
            for (src, tgt), tier in mt_offers(model):
                routes.append(MtRoute(src, tgt, tier, model.engine or model.model_id,
                                      legs=((slot.model_id, src, tgt),)))
        return routes

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
    """MtEngine over every installed MT model: each pair by its best route (tier), pivots included."""

    def __init__(self, models: ServedModels) -> None:
        self._models = models

    def routes(self) -> dict[tuple[str, str], MtRoute]:
        return plan_routes(self._models.direct_routes())

    @property
    def language_pairs(self) -> list[tuple[str, str]]:
        return list(self.routes())

    def supports(self, src: str, tgt: str) -> bool:
        return (src, tgt) in self.routes()

    def translate_output(self, sentences: list[str], src: str, tgt: str, context: str = "") -> MtOutput:
        route = self.routes().get((src, tgt))
        if route is None:
            raise ModelUnavailable(f"no installed translation model for {src}->{tgt}")
        texts, marks = list(sentences), Marks()
        for model_id, leg_src, leg_tgt in route.legs:
            engine = self._slot(model_id).engine()
            if hasattr(engine, "translate_marked"):
                out = engine.translate_marked(texts, leg_src, leg_tgt)
                texts = out.texts
                marks.add(out.marks)
            else:
                texts = engine.translate(texts, leg_src, leg_tgt, context if len(route.legs) == 1 else "")
        return MtOutput(texts, route.engine, route.tier, route.pivot, marks)

    def translate(self, sentences: list[str], src: str, tgt: str, context: str = "") -> list[str]:
        return self.translate_output(sentences, src, tgt, context).texts

    def _slot(self, model_id: str) -> VersionedModel[Any]:
        slot = next((s for s in self._models.slots("mt") if s.model_id == model_id), None)
        if slot is None:
            raise ModelUnavailable(f"translation model {model_id} was removed")
        return slot

    @property
    def model_id(self) -> str:
        return ",".join(s.model_id for s in self._models.slots("mt"))


class RoutedAsr:
    """AsrEngine over every installed ASR model: a language goes to the most specialised model that knows it
    (tiny.en for English, the multilingual model for the rest); language identification to a multilingual one."""

    def __init__(self, models: ServedModels) -> None:
        self._models = models

    def _slot_for(self, language: str) -> VersionedModel[Any] | None:
        knowing = [(len(serving.languages), slot.model_id, slot) for slot in self._models.slots("asr")
                   if (serving := slot.serving) is not None and language in serving.languages]
        return min(knowing, key=lambda k: (k[0], k[1]))[2] if knowing else None

    def _detector(self) -> VersionedModel[Any] | None:
        multilingual = [(-len(serving.languages), slot.model_id, slot) for slot in self._models.slots("asr")
                        if (serving := slot.serving) is not None and len(serving.languages) > 1]
        return min(multilingual, key=lambda k: (k[0], k[1]))[2] if multilingual else None

    @property
    def languages(self) -> list[str]:
        langs: dict[str, None] = {}
        for slot in self._models.slots("asr"):
            if (serving := slot.serving) is not None:
                langs.update(dict.fromkeys(serving.languages))
        return list(langs)

    @property
    def can_detect(self) -> bool:
        return self._detector() is not None

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

    def language_probabilities(self, audio16k: np.ndarray) -> dict[str, float]:
        """Language identification by the multilingual model: code -> probability."""
        slot = self._detector()
        if slot is None:
            raise ModelUnavailable("no multilingual speech recognition model is installed to identify the language")
        probs: dict[str, float] = slot.engine().language_probabilities(audio16k)
        return probs

    def detect_language(self, audio16k: np.ndarray, candidates: Sequence[str] = ()) -> tuple[str, float]:
        """(language, probability) by the multilingual model; among `candidates` when given."""
        return pick_language(self.language_probabilities(audio16k), candidates)


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
    """The voice for each target language: a voice native in it, else espeak-ng's own voice for it, else a voice
    speaking it cross-lingually; `preferred` (language -> model id, node setting `voices`) overrides."""

    def __init__(self, models: ServedModels, preferred: dict[str, str] | None = None) -> None:
        super().__init__(models, "tts")
        self.preferred = dict(preferred or {})

    def _engines(self) -> list[tuple[str, Any]]:
        return [(slot.model_id, slot.engine()) for slot in self._models.slots("tts") if slot.serving is not None]

    @property
    def engine(self) -> Any:
        """The default voice: the first neural voice (a node's "own" voice), else the first one."""
        engines = self._engines()
        if not engines:
            raise ModelUnavailable("no tts model is installed")
        return next((e for _, e in engines if e.voice_name != "espeak-ng"), engines[0][1])

    def voice_for(self, language: str) -> Any:
        engines = self._engines()
        wanted = self.preferred.get(language)
        for model_id, engine in engines:
            if model_id == wanted and engine.supports(language):
                return engine
        ranked = [(_QUALITY_RANK.get(engine.quality_for(language), 9), i, engine)
                  for i, (_, engine) in enumerate(engines) if engine.supports(language)]
        if not ranked:
            raise ModelUnavailable(f"no installed voice can speak {language!r}")
        return min(ranked, key=lambda r: (r[0], r[1]))[2]

    @property
    def native_languages(self) -> list[str]:
        return sorted({lang for _, e in self._engines() for lang in e.native_languages})

    @property
    def cross_lingual_languages(self) -> list[str]:
        native = set(self.native_languages)
        return sorted({lang for _, e in self._engines() for lang in e.cross_lingual_languages} - native)

    def quality_for(self, language: str) -> str:
        quality: str = self.voice_for(language).quality_for(language)
        return quality

    def synthesize(self, text: str, language: str, length_scale: float = 1.0) -> Iterator[TtsChunk]:
        chunks: Iterator[TtsChunk] = self.voice_for(language).synthesize(text, language, length_scale)
        return chunks


_QUALITY_RANK = {"native": 0, "espeak_native": 1, "cross_lingual": 2}


class RoutedVad(SingleEngine):
    def __init__(self, models: ServedModels) -> None:
        super().__init__(models, "vad")

    def speech_segments(self, audio16k: np.ndarray) -> list[tuple[int, int]]:
        segments: list[tuple[int, int]] = self.engine.speech_segments(audio16k)
        return segments
