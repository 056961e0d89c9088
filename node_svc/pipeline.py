"""One utterance through VAD -> ASR -> MT -> TTS. Proto-free and synchronous.

CPU bound: callers run ``Pipeline.run`` in a worker thread and map
``PipelineError.code`` onto the wire ErrorCode of the same name.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

import numpy as np

from lingua_common.audio import pcm16_to_float, resample
from node_svc.engines.apertium import Marks
from node_svc.engines.asr import AsrOutput, pick_language
from node_svc.engines.tts import TtsChunk, normalize_language, split_sentences
from node_svc.modules.manager import ModuleManager
from node_svc.modules.stage import Analysis, ModuleRequest, ModuleStage
from node_svc.routes import AUTO, MtOutput
from node_svc.serving import (
    EngineLoaders,
    Installed,
    ModelUnavailable,
    RoutedAsr,
    RoutedMt,
    RoutedTts,
    RoutedVad,
    ServedModels,
)

log = logging.getLogger(__name__)

SAMPLE_RATE: Final = 16000
# Whisper pads every call to a 30 s window, so a call costs about the same for
# 2 s as for 25 s: VAD segments are packed into calls of up to this length.
MAX_ASR_CHUNK_S: Final = 25.0
# For "auto": a language Whisper is this sure of is taken as heard even when the node cannot translate it (the
# client gets UNSUPPORTED_LANGUAGE); below it, the most probable language the node can translate wins.
SURE_LANGUAGE_P: Final = 0.9
_LANG_CODE: Final = re.compile(r"^[a-z]{2,3}$")

ErrorCode = Literal["MODEL_NOT_AVAILABLE", "MODEL_LOAD_FAILED", "UNSUPPORTED_LANGUAGE", "INVALID_AUDIO",
                    "JOB_CANCELLED", "INTERNAL"]
PartialCallback = Callable[[str, bool], None]
TtsChunkCallback = Callable[[bytes, int, str], None]


class PipelineError(Exception):
    """A job failure with a machine-readable code matching the wire ErrorCode names."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message


# Engine shapes the pipeline relies on (read-only properties so plain attributes fit too).
class VadEngine(Protocol):
    def speech_segments(self, audio16k: np.ndarray) -> list[tuple[int, int]]: ...


class AsrEngine(Protocol):
    @property
    def languages(self) -> list[str]: ...

    def transcribe(
        self,
        audio16k: np.ndarray,
        language: str,
        on_segment: Callable[[str], None] | None = None,
        word_timestamps: bool = False,
    ) -> AsrOutput: ...


class MtEngine(Protocol):
    @property
    def language_pairs(self) -> list[tuple[str, str]]: ...

    def supports(self, src: str, tgt: str) -> bool: ...

    def translate(self, sentences: list[str], src: str, tgt: str, context: str = "") -> list[str]: ...


class TtsEngine(Protocol):
    @property
    def voice_name(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def native_languages(self) -> list[str]: ...

    @property
    def cross_lingual_languages(self) -> list[str]: ...

    def quality_for(self, language: str) -> str: ...

    def synthesize(self, text: str, language: str, length_scale: float = 1.0) -> Iterator[TtsChunk]: ...


@dataclass
class PipelineRequest:
    audio: np.ndarray  # float32 mono at 16 kHz
    src_lang: str
    tgt_lang: str
    context_text: str = ""
    # Optional modules the job asked for, with their per-session settings.
    modules: ModuleRequest = field(default_factory=ModuleRequest)
    # A two-way session's languages: the one heard is the source, the other the target (src/tgt ignored).
    two_way: tuple[str, str] | None = None


@dataclass
class PipelineResult:
    text_asr: str
    text_translated: str
    tts_pcm16: bytes
    tts_sample_rate: int
    tts_voice: str
    tts_voice_quality: str
    timings: dict[str, float]  # vad_ms, asr_ms, mt_ms, tts_ms, total_ms (+ modules_ms when any ran)
    notes: list[str] = field(default_factory=list)
    # Optional modules: their outputs (speaker_id, emotion, ...) and, for those that did not run, why.
    extras: dict[str, Any] = field(default_factory=dict)
    module_errors: dict[str, str] = field(default_factory=dict)
    speaker_embedding: np.ndarray | None = None
    # The direction actually translated (the detected source for "auto" and two-way requests).
    src_lang: str = ""
    tgt_lang: str = ""
    detected_lang: str = ""
    detected_probability: float = 0.0
    # How it was translated: engine ("+" joins a pivot chain), tier (lingua_common.model_format), pivot language,
    # and the words the engine marked as unknown / untranslated / not generated.
    mt_engine: str = ""
    mt_tier: int = 0
    pivot_lang: str = ""
    mt_marks: Marks = field(default_factory=Marks)


@dataclass
class Capabilities:
    asr_languages: list[str]
    mt_pairs: list[tuple[str, str]]
    tts_native: list[str]
    tts_cross_lingual: list[str]


class ModelSource(Protocol):
    """The node's model store, as the pipeline sees it."""

    def list(self) -> list[Any]: ...

    def generation(self) -> int: ...


class Pipeline:
    """Holds one instance of each engine; ``run`` is safe to call from several threads."""

    def __init__(self, vad: VadEngine, asr: AsrEngine, mt: MtEngine, tts: TtsEngine,
                 modules: ModuleManager | None = None) -> None:
        self.vad = vad
        self.asr = asr
        self.modules = modules if modules is not None else ModuleManager(enabled=[])
        self.stage = ModuleStage(self.modules, self._tts_words_per_s)
        self._tts_wps: dict[str, float] = {}
        self.mt = mt
        self.tts = tts
        # Set by from_store: where the models come from, and the store generation last synced.
        self.store: ModelSource | None = None
        self.served: ServedModels | None = None
        self.system: list[Any] = []  # engines of the operating system served beside the store's
        self._store_generation = -1
        self._sync_lock = threading.Lock()

    @classmethod
    def from_store(cls, store: ModelSource, cpu_threads: int | None = None,
                   modules: list[str] | None = None, device: str = "cpu", system_models: bool = True,
                   voices: dict[str, str] | None = None) -> Pipeline:
        """Serve whatever the node's model store holds (and, with system_models, espeak-ng's voices); models
        load on first use. `device`: "cpu" or "cuda"; `voices`: language -> TTS model id preferred for it."""
        from node_svc.models.system import system_models as installed_system_models

        served = ServedModels(EngineLoaders(cpu_threads, device))
        pipeline = cls(vad=RoutedVad(served), asr=RoutedAsr(served), mt=RoutedMt(served),
                       tts=RoutedTts(served, voices), modules=ModuleManager(modules))
        pipeline.store, pipeline.served = store, served
        pipeline.system = installed_system_models() if system_models else []
        pipeline.sync_models()
        return pipeline

    @property
    def model_generation(self) -> int:
        """The store generation the engines reflect (-1 without a store)."""
        return self._store_generation

    def sync_models(self) -> bool:
        """Pick up installs and removals made since the last call (cheap when nothing changed)."""
        if self.store is None or self.served is None:
            return False
        with self._sync_lock:
            generation = self.store.generation()
            if generation == self._store_generation:
                return False
            installed: list[Installed] = [*self.store.list(), *self.system]
            self.served.sync(installed)
            self._store_generation = generation
            self._tts_wps.clear()
            return True

    @classmethod
    def bundled(cls, cpu_threads: int | None = None, modules: list[str] | None = None) -> Pipeline:
        """Load every model shipped with the node (no downloads)."""
        # Local imports: importing this module must not load any model.
        from node_svc.engines.asr import WhisperAsr
        from node_svc.engines.mt import M2M100Translator
        from node_svc.engines.tts import PiperTts
        from node_svc.engines.vad import SileroVad

        return cls(
            vad=SileroVad(),
            asr=WhisperAsr(cpu_threads=cpu_threads),
            mt=M2M100Translator.bundled(),
            tts=PiperTts(cpu_threads=cpu_threads),
            modules=ModuleManager(modules),
        )

    def _tts_words_per_s(self, language: str) -> float:
        """How fast the TTS voice speaks `language` at its default pace (measured once per language)."""
        if language not in self._tts_wps:
            probe = "This sentence tells us how fast the voice speaks at its usual pace."
            pcm = b"".join(c.pcm16 for c in self.tts.synthesize(probe, language))
            audio = resample(pcm16_to_float(pcm), self.tts.sample_rate, SAMPLE_RATE)
            # Speaking time only (VAD segments), as speech_rate_detection measures the speaker.
            speech = sum(b - a for a, b in self.vad.speech_segments(audio)) / SAMPLE_RATE
            self._tts_wps[language] = len(probe.split()) / max(speech or len(audio) / SAMPLE_RATE, 0.1)
        return self._tts_wps[language]

    def capabilities(self) -> Capabilities:
        return Capabilities(
            asr_languages=list(self.asr.languages),
            mt_pairs=list(self.mt.language_pairs),
            tts_native=list(self.tts.native_languages),
            tts_cross_lingual=list(self.tts.cross_lingual_languages),
        )

    def warm_up(self) -> None:
        """Run each engine once on a tiny input so the first real job is not slow."""
        try:
            self._warm_up()
        except ModelUnavailable as exc:  # a node without a voice or VAD yet: it will say so per job
            log.warning("warm-up skipped: %s", exc)

    def _warm_up(self) -> None:
        lang = self.tts.native_languages[0] if self.tts.native_languages else "en"
        pcm = b"".join(c.pcm16 for c in self.tts.synthesize("Hello, this is a warm up.", lang))
        audio = resample(pcm16_to_float(pcm), self.tts.sample_rate, SAMPLE_RATE)
        self.vad.speech_segments(audio)
        if lang in self.asr.languages:
            self.asr.transcribe(audio, lang)
        pair = next(iter(self.mt.language_pairs), None)
        if pair is not None:
            self.mt.translate(["Hello."], pair[0], pair[1])

    # ------------------------------------------------------------------ run

    def run(
        self,
        req: PipelineRequest,
        on_partial: PartialCallback | None = None,
        on_tts_chunk: TtsChunkCallback | None = None,
        cancelled: threading.Event | None = None,
    ) -> PipelineResult:
        try:
            return self._run(req, on_partial, on_tts_chunk, cancelled)
        except PipelineError:
            raise
        except ModelUnavailable as error:  # removed or broken between the language check and its use
            raise PipelineError(error.code, str(error)) from error  # type: ignore[arg-type]
        except Exception as error:  # an engine bug must still end the job with a code
            raise PipelineError("INTERNAL", f"{type(error).__name__}: {error}") from error

    def _run(
        self,
        req: PipelineRequest,
        on_partial: PartialCallback | None,
        on_tts_chunk: TtsChunkCallback | None,
        cancelled: threading.Event | None,
    ) -> PipelineResult:
        start = time.perf_counter()
        timings = {"vad_ms": 0.0, "asr_ms": 0.0, "mt_ms": 0.0, "tts_ms": 0.0, "total_ms": 0.0}
        audio = _validate_audio(req.audio)
        detecting = req.two_way is not None or normalize_language(req.src_lang) == AUTO
        if detecting:
            candidates = req.two_way or ()
            for lang in (*candidates, *(() if req.two_way else (req.tgt_lang,))):
                if not _LANG_CODE.match(normalize_language(lang)):
                    raise PipelineError("UNSUPPORTED_LANGUAGE", f"{lang!r} is not a language code")
            if not getattr(self.asr, "can_detect", False) and not (req.two_way and self._one_heard(req.two_way)):
                raise PipelineError("UNSUPPORTED_LANGUAGE",
                                    "this node has no multilingual speech recognition model to identify the language")
            # Checked again once the language is known; the target must be speakable in any case.
            src, tgt = normalize_language(req.src_lang), normalize_language(req.tgt_lang)
        else:
            src, tgt = self._validate_languages(req.src_lang, req.tgt_lang)
        result = PipelineResult(
            text_asr="",
            text_translated="",
            tts_pcm16=b"",
            tts_sample_rate=0,
            tts_voice="",
            tts_voice_quality="",
            timings=timings,
            src_lang=src,
            tgt_lang=tgt,
        )

        def finish() -> PipelineResult:
            timings["total_ms"] = _ms_since(start)
            return result

        _check(cancelled, "before VAD")
        t = time.perf_counter()
        segments = self.vad.speech_segments(audio)
        timings["vad_ms"] = _ms_since(t)
        if not segments:
            result.notes.append("no speech detected")
            if on_partial is not None:
                on_partial("", True)
            return finish()

        if detecting:
            t = time.perf_counter()
            src, tgt = self._detect(audio, segments, req, result)
            timings["lid_ms"] = _ms_since(t)
            src, tgt = self._validate_languages(src, tgt)
            result.src_lang, result.tgt_lang = src, tgt
        voice = self._voice_for(tgt)
        quality = voice.quality_for(tgt)
        result.tts_sample_rate, result.tts_voice, result.tts_voice_quality = voice.sample_rate, voice.voice_name, \
            quality

        t = time.perf_counter()
        words: list[Any] = []
        result.text_asr = self._transcribe(audio, segments, src, on_partial, cancelled,
                                           words if req.modules.needs_words else None)
        timings["asr_ms"] = _ms_since(t)
        if on_partial is not None:
            on_partial(result.text_asr, True)
        if not result.text_asr:
            result.notes.append("no speech recognised")
            return finish()

        mods = req.modules
        analysis = Analysis()
        if mods.features:
            _check(cancelled, "before the optional modules")
            speech = np.concatenate([audio[a:b] for a, b in segments])
            analysis = self.stage.analyse(mods, speech, words, src)

        _check(cancelled, "before translation")
        source_text = self.stage.before_mt(mods, analysis, result.text_asr, src)
        t = time.perf_counter()
        if src == tgt:
            result.text_translated = source_text
        else:
            output = self._translate(split_sentences(source_text), src, tgt, req.context_text)
            result.text_translated = " ".join(s.strip() for s in output.texts if s.strip())
            result.mt_engine, result.mt_tier, result.pivot_lang = output.engine, output.tier, output.pivot
            result.mt_marks = output.marks
            if output.marks.total:
                result.notes.append(f"{output.engine} marked {output.marks.total} word(s) it could not translate")
        timings["mt_ms"] = _ms_since(t)
        result.text_translated = self.stage.after_mt(analysis, result.text_translated)

        _check(cancelled, "before speech synthesis")
        scale = self.stage.length_scale(mods, analysis, tgt) if mods.features else 1.0
        result.tts_pcm16, timings["tts_ms"] = self._synthesize(
            voice, result.text_translated, tgt, on_tts_chunk, cancelled, scale,
            (lambda pcm, rate: self.stage.adapt(mods, analysis, pcm, rate)) if mods.features else None)
        if mods.features:
            self.stage.finish(analysis)
            timings["modules_ms"] = sum(analysis.timings_ms.values())
            result.extras, result.module_errors = analysis.extras, analysis.errors
            result.speaker_embedding = analysis.speaker_embedding
            result.notes += [f"{name} did not run: {why}" for name, why in analysis.errors.items()]
        if quality == "cross_lingual":
            result.notes.append(f"TTS voice {voice.voice_name} speaks {tgt} cross-lingually")
        return finish()

    def _one_heard(self, langs: tuple[str, str]) -> bool:
        return sum(normalize_language(lang) in self.asr.languages for lang in langs) == 1

    def _detect(self, audio: np.ndarray, segments: list[tuple[int, int]], req: PipelineRequest,
                result: PipelineResult) -> tuple[str, str]:
        """(src, tgt) from the language heard: one of a two-way pair, or for "auto" one this node can translate
        into the target — unless Whisper is sure it heard a language the node cannot translate (then say so)."""
        if req.two_way is not None:
            a, b = (normalize_language(x) for x in req.two_way)
            heard = [lang for lang in (a, b) if lang in self.asr.languages]
            if len(heard) == 1 and not getattr(self.asr, "can_detect", False):
                src = heard[0]  # the ASR knows only one of the two: that is the one spoken
            else:
                src, result.detected_probability = pick_language(self._language_probabilities(audio, segments),
                                                                 [a, b])
            result.detected_lang = src
            return (a, b) if src == a else (b, a)
        tgt = normalize_language(req.tgt_lang)
        probs = self._language_probabilities(audio, segments)
        top, top_p = pick_language(probs)
        servable = [lang for lang in self.asr.languages
                    if lang != AUTO and (lang == tgt or self.mt.supports(lang, tgt))]
        if top not in servable and top_p >= SURE_LANGUAGE_P:
            raise PipelineError("UNSUPPORTED_LANGUAGE",
                                f"heard {top!r} (p={top_p:.2f}); this node cannot translate {top}->{tgt} "
                                f"(it translates into {tgt} from: {', '.join(sorted(servable)) or 'nothing'})")
        src, result.detected_probability = pick_language(probs, servable)
        result.detected_lang = src
        return src, tgt

    def _language_probabilities(self, audio: np.ndarray, segments: list[tuple[int, int]]) -> dict[str, float]:
        speech = next(_pack_segments(audio, segments, int(MAX_ASR_CHUNK_S * SAMPLE_RATE)))
        try:
            probs: dict[str, float] = self.asr.language_probabilities(speech)  # type: ignore[attr-defined]
        except ModelUnavailable as exc:
            raise PipelineError("UNSUPPORTED_LANGUAGE", str(exc)) from exc
        return probs

    def _voice_for(self, language: str) -> Any:
        """The TTS engine that speaks `language` (a routed TTS picks per language; a single voice is itself)."""
        pick = getattr(self.tts, "voice_for", None)
        return pick(language) if pick is not None else self.tts

    def _translate(self, sentences: list[str], src: str, tgt: str, context: str) -> MtOutput:
        detailed = getattr(self.mt, "translate_output", None)
        if detailed is not None:
            output: MtOutput = detailed(sentences, src, tgt, context)
            return output
        texts = self.mt.translate(sentences, src, tgt, context=context)
        tier = getattr(self.mt, "tier", 0)
        return MtOutput(texts, getattr(self.mt, "engine", "") or getattr(self.mt, "model_id", ""), tier)

    def _transcribe(
        self,
        audio: np.ndarray,
        segments: list[tuple[int, int]],
        src: str,
        on_partial: PartialCallback | None,
        cancelled: threading.Event | None,
        words: list[Any] | None = None,
    ) -> str:
        """The transcript; when `words` is given, word timestamps are collected into it."""
        done: list[str] = []
        for chunk in _pack_segments(audio, segments, int(MAX_ASR_CHUNK_S * SAMPLE_RATE)):
            _check(cancelled, "during speech recognition")
            prefix = " ".join(done)

            def on_segment(text: str, prefix: str = prefix) -> None:
                # Raising here stops Whisper's lazy decoding loop at the next segment.
                _check(cancelled, "during speech recognition")
                if on_partial is not None:
                    on_partial(f"{prefix} {text}" if prefix else text, False)

            out = self.asr.transcribe(chunk, src, on_segment=on_segment, word_timestamps=words is not None)
            if words is not None:
                words.extend(out.words)
            text = out.text.strip()
            if text:
                done.append(text)
        return " ".join(done)

    def _synthesize(
        self,
        voice: Any,
        text: str,
        tgt: str,
        on_tts_chunk: TtsChunkCallback | None,
        cancelled: threading.Event | None,
        length_scale: float = 1.0,
        transform: Callable[[bytes, int], bytes] | None = None,
    ) -> tuple[bytes, float]:
        """All audio for ``text``, streaming each sentence; time excludes the callbacks.

        `transform` (voice adaptation) rewrites each sentence's audio before it is streamed.
        """
        pcm = bytearray()
        engine_s = 0.0
        chunks = voice.synthesize(text, tgt, length_scale)
        while True:
            t = time.perf_counter()
            chunk = next(chunks, None)
            if chunk is not None and transform is not None:
                chunk = TtsChunk(transform(chunk.pcm16, chunk.sample_rate), chunk.sample_rate, chunk.sentence)
            engine_s += time.perf_counter() - t
            if chunk is None:
                break
            pcm += chunk.pcm16
            if on_tts_chunk is not None:
                on_tts_chunk(chunk.pcm16, chunk.sample_rate, chunk.sentence)
            _check(cancelled, "during speech synthesis")
        return bytes(pcm), engine_s * 1000.0

    # ------------------------------------------------------------ validation

    def _validate_languages(self, src_raw: str, tgt_raw: str) -> tuple[str, str]:
        """Fail before any compute when a stage cannot serve the request."""
        src, tgt = normalize_language(src_raw), normalize_language(tgt_raw)
        for raw, code in ((src_raw, src), (tgt_raw, tgt)):
            if not _LANG_CODE.match(code):
                raise PipelineError("UNSUPPORTED_LANGUAGE", f"{raw!r} is not a language code")
        if src not in self.asr.languages:
            raise self._language_error(
                (src,), f"no speech recognition model for {src!r} (have: {', '.join(self.asr.languages)})"
            )
        if src != tgt and not self.mt.supports(src, tgt):
            pairs = ", ".join(f"{a}->{b}" for a, b in self.mt.language_pairs) or "none"
            raise self._language_error((src, tgt), f"no translation model for {src}->{tgt} (have: {pairs})")
        if tgt not in self.tts.native_languages and tgt not in self.tts.cross_lingual_languages:
            raise self._language_error((tgt,), f"no speech synthesis voice can speak {tgt!r}")
        return src, tgt

    def _language_error(self, codes: tuple[str, ...], message: str) -> PipelineError:
        # A language this node knows in some stage merely lacks a model here;
        # one no stage has ever heard of is unsupported outright.
        caps = self.capabilities()
        known = {*caps.asr_languages, *caps.tts_native, *caps.tts_cross_lingual}
        known.update(code for pair in caps.mt_pairs for code in pair)
        unknown = [code for code in codes if code not in known]
        if not unknown:
            return PipelineError("MODEL_NOT_AVAILABLE", message)
        return PipelineError(
            "UNSUPPORTED_LANGUAGE", f"language {', '.join(map(repr, unknown))} is not supported: {message}"
        )


def _validate_audio(audio: np.ndarray) -> np.ndarray:
    arr = np.asarray(audio)
    if arr.ndim != 1:
        raise PipelineError("INVALID_AUDIO", f"audio must be mono 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise PipelineError("INVALID_AUDIO", "audio is empty")
    if not np.issubdtype(arr.dtype, np.floating):
        raise PipelineError("INVALID_AUDIO", f"audio must be float samples, got {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if not np.all(np.isfinite(arr)):
        raise PipelineError("INVALID_AUDIO", "audio contains NaN or infinite samples")
    return arr


def _pack_segments(audio: np.ndarray, segments: list[tuple[int, int]], max_len: int) -> Iterator[np.ndarray]:
    """Concatenate consecutive speech segments (dropping the silence between them) up to max_len."""
    group: list[np.ndarray] = []
    size = 0
    for s, e in segments:
        if group and size + (e - s) > max_len:
            yield np.concatenate(group)
            group, size = [], 0
        group.append(audio[s:e])
        size += e - s
    if group:
        yield np.concatenate(group)


def _check(cancelled: threading.Event | None, where: str) -> None:
    if cancelled is not None and cancelled.is_set():
        raise PipelineError("JOB_CANCELLED", f"job cancelled {where}")


def _ms_since(t: float) -> float:
    return (time.perf_counter() - t) * 1000.0
