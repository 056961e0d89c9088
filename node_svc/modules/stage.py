"""The optional modules as pipeline stages, in the order the design fixes:

ASR → speaker id → speech rate detection → emotion / voice style → persona → MT → speech rate control
→ voice adaptation ("voice_cloning") → TTS output.

Each stage runs only when the job asked for its feature. A failing module never fails the job: its
extra is left out and `errors[name]` says why. A failure that is not about this job's input (the model
would not load, a bug) also stops the node advertising the feature.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from node_svc.modules.manager import ModuleManager

T = TypeVar("T")


@dataclass
class ModuleRequest:
    features: frozenset[str] = frozenset()
    persona: Any = None  # node_svc.modules.persona.PersonaConfig
    known_speakers: list[tuple[str, np.ndarray]] = field(default_factory=list)

    def wants(self, name: str) -> bool:
        return name in self.features

    @property
    def needs_words(self) -> bool:
        return bool(self.features & {"speech_rate_detection", "speech_rate_control", "emotion_detection",
                                     "voice_style_detection"})


@dataclass
class Analysis:
    extras: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    speaker_id: str = ""
    speaker_embedding: np.ndarray | None = None
    rate: Any = None  # node_svc.modules.rate.SpeechRate
    voice: Any = None  # node_svc.modules.voice.VoiceProfile
    prepared: Any = None  # node_svc.modules.persona.Prepared
    timings_ms: dict[str, float] = field(default_factory=dict)
    pending: Future[Any] | None = None


class ModuleStage:
    def __init__(self, manager: ModuleManager, tts_words_per_s: Callable[[str], float]) -> None:
        self.manager = manager
        self._tts_wps = tts_words_per_s
        self._background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="module")

    def finish(self, out: Analysis) -> Analysis:
        """Wait for modules still running beside MT/TTS; the analysis is complete afterwards."""
        if out.pending is not None:
            out.pending.result()
            out.pending = None
        return out

    def _run(self, name: str, req: ModuleRequest, out: Analysis, fn: Callable[[], T]) -> T | None:
        if not req.wants(name):
            return None
        if name not in self.manager.supported():
            out.errors[name] = "module disabled or unavailable on this node"
            return None
        start = time.perf_counter()
        try:
            value = fn()
        except ValueError as exc:  # about this job's input (e.g. too little speech): the module is fine
            out.errors[name] = str(exc)
            return None
        except Exception as exc:  # the module itself is broken: stop advertising it
            out.errors[name] = f"{type(exc).__name__}: {exc}"
            self.manager.mark_failed(name, out.errors[name])
            return None
        finally:
            out.timings_ms[name] = out.timings_ms.get(name, 0.0) + (time.perf_counter() - start) * 1000
        self.manager.mark_loaded(name)
        return value

    # ---- after ASR -------------------------------------------------------------------------------

    def analyse(self, req: ModuleRequest, audio16k: np.ndarray, words: list[Any], src: str) -> Analysis:
        out = Analysis()
        if req.wants("speaker_identification"):
            # Nothing downstream needs the speaker id, so its embedding (torch, releases the GIL) runs
            # beside MT and TTS; finish() collects it.
            out.pending = self._background.submit(
                self._run, "speaker_identification", req, out, lambda: self._speaker(req, audio16k, out))
        rate = self._run("speech_rate_detection", req, out, lambda: self._rate(words, src, out))
        if rate is None and req.wants("speech_rate_control") and words:
            rate = self._rate(words, src, None)  # control needs the rate even if detection was not asked
        out.rate = rate
        needs_prosody = req.wants("emotion_detection") or req.wants("voice_style_detection")
        track: tuple[np.ndarray, np.ndarray] | None = None
        if needs_prosody:
            from node_svc.modules.prosody import pitch_track

            try:  # one pitch track serves emotion and voice-style detection
                track = pitch_track(audio16k)
            except Exception:  # prosody then computes its own, and reports its own failure
                track = None
        prosody = None
        if needs_prosody:
            from node_svc.modules import prosody as prosody_mod

            name = "emotion_detection" if req.wants("emotion_detection") else "voice_style_detection"
            prosody = self._run(name, req, out, lambda: prosody_mod.analyse(audio16k, rate, track))
            if prosody is not None:
                self._run("emotion_detection", req, out, lambda: self._emotion(prosody, out))
                self._run("voice_style_detection", req, out,
                          lambda: out.extras.__setitem__("voice_style", prosody_mod.voice_style(prosody)))
        # Voice adaptation tracks pitch itself (YIN): prosody's DIO track has octave errors on low voices.
        self._run("voice_cloning", req, out, lambda: self._voice_profile(audio16k, out))
        return out

    def _speaker(self, req: ModuleRequest, audio16k: np.ndarray, out: Analysis) -> None:
        from node_svc.modules.speaker import identify

        embedding = self.manager.speaker_encoder().embed(audio16k)
        speaker_id, similarity, _new = identify(embedding, req.known_speakers)
        out.speaker_id, out.speaker_embedding = speaker_id, embedding
        out.extras["speaker_id"] = speaker_id
        out.extras["speaker_similarity"] = similarity

    def _rate(self, words: list[Any], src: str, out: Analysis | None) -> Any:
        from node_svc.modules.rate import measure

        if not words:
            raise ValueError("no words with timestamps to measure a speech rate on")
        rate = measure(words, src)
        if out is not None:
            out.extras["speech_rate_wps"] = rate.words_per_s
            out.extras["speech_rate_sps"] = rate.syllables_per_s
        return rate

    def _emotion(self, prosody: Any, out: Analysis) -> None:
        from node_svc.modules.prosody import emotion

        found = emotion(prosody)
        out.extras.update(emotion=found.label, arousal=found.arousal, valence=found.valence)

    def _voice_profile(self, audio16k: np.ndarray, out: Analysis) -> None:
        from node_svc.modules.voice import analyse

        out.voice = analyse(audio16k)

    # ---- around MT -------------------------------------------------------------------------------

    def before_mt(self, req: ModuleRequest, out: Analysis, text: str, src: str) -> str:
        if req.persona is None:
            return text

        def prepare() -> str:
            from node_svc.modules.persona import prepare as prepare_text

            out.prepared = prepare_text(text, req.persona, src)
            out.extras["persona"] = "; ".join(out.prepared.changes)
            return str(out.prepared.text)

        prepared = self._run("persona_adaptation", req, out, prepare)
        return text if prepared is None else prepared

    def after_mt(self, out: Analysis, translated: str) -> str:
        if out.prepared is None:
            return translated
        from node_svc.modules.persona import restore

        restored = str(restore(translated, out.prepared))
        out.extras["persona"] = "; ".join(out.prepared.changes)  # restore() may add notes ("MT dropped ...")
        return restored

    # ---- TTS -------------------------------------------------------------------------------------

    def length_scale(self, req: ModuleRequest, out: Analysis, tgt: str) -> float:
        def scale() -> float:
            from node_svc.modules.rate import length_scale

            if out.rate is None:
                raise ValueError("no speech rate was measured for this utterance")
            value = float(length_scale(out.rate, self._tts_wps(tgt)))
            out.extras["tts_length_scale"] = value
            return value

        value = self._run("speech_rate_control", req, out, scale)
        return 1.0 if value is None else value

    def adapt(self, req: ModuleRequest, out: Analysis, pcm16: bytes, sample_rate: int) -> bytes:
        if out.voice is None or not req.wants("voice_cloning"):
            return pcm16

        def adapt() -> bytes:
            from node_svc.modules.voice import adapt as adapt_voice

            return bytes(adapt_voice(pcm16, sample_rate, out.voice))

        adapted = self._run("voice_cloning", req, out, adapt)
        return pcm16 if adapted is None else adapted
