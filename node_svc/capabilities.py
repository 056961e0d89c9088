"""What a node advertises (installed models, features), and how job options map onto its modules."""

from __future__ import annotations

from typing import Any

import numpy as np

from lingua.v1 import common_pb2, node_pb2
from lingua_common.features import FEATURE_NAMES
from node_svc.modules.stage import ModuleRequest
from node_svc.pipeline import Pipeline

# Extras fields the modules fill, with the type the proto field has.
_EXTRAS: dict[str, type] = {
    "speaker_id": str, "speaker_similarity": float, "speech_rate_wps": float, "speech_rate_sps": float,
    "emotion": str, "arousal": float, "valence": float, "voice_style": str, "persona": str,
    "tts_length_scale": float,
}


def module_request(job: node_pb2.JobAssign) -> ModuleRequest:
    """The optional modules a job asked for, with the session's persona and known speakers."""
    features = frozenset(name for name in FEATURE_NAMES if getattr(job.features, name))
    persona = None
    if "persona_adaptation" in features:
        from node_svc.modules.persona import PersonaConfig

        p = job.persona
        persona = PersonaConfig(register=p.register, remove_fillers=p.remove_fillers,
                                mask_profanity=p.mask_profanity, glossary=list(p.glossary))
    known = [(s.speaker_id, np.asarray(s.embedding, dtype=np.float32)) for s in job.known_speakers]
    return ModuleRequest(features=features, persona=persona, known_speakers=known)


def module_extras(extras: dict[str, Any]) -> dict[str, Any]:
    """The modules' outputs as keyword arguments for common_pb2.Extras."""
    return {key: kind(extras[key]) for key, kind in _EXTRAS.items() if key in extras}


def installed_models(pipeline: Pipeline) -> list[node_pb2.InstalledModel]:
    speaker = ([node_pb2.InstalledModel(model_id="resemblyzer-voice-encoder", kind=node_pb2.MODEL_KIND_SPEAKER,
                                        version="0.1.4", state=node_pb2.MODEL_STATE_READY)]
               if "speaker_identification" in pipeline.modules.supported() else [])
    if pipeline.served is not None:  # models from the node's store
        return [*pipeline.served.protos(), *speaker]
    caps = pipeline.capabilities()
    asr_id = f"whisper-{getattr(pipeline.asr, 'model_name', 'tiny.en')}"
    mt_id = getattr(pipeline.mt, "model_id", "m2m100")
    mt_version = getattr(pipeline.mt, "version", "")
    mt_engine, mt_tier = getattr(pipeline.mt, "engine", ""), getattr(pipeline.mt, "tier", 0)
    return [
        node_pb2.InstalledModel(model_id="silero-vad", kind=node_pb2.MODEL_KIND_VAD,
                                state=node_pb2.MODEL_STATE_READY, version="6"),
        node_pb2.InstalledModel(model_id=asr_id, kind=node_pb2.MODEL_KIND_ASR, languages=caps.asr_languages,
                                state=node_pb2.MODEL_STATE_READY),
        node_pb2.InstalledModel(model_id=mt_id, kind=node_pb2.MODEL_KIND_MT, version=mt_version, engine=mt_engine,
                                pairs=[common_pb2.LanguagePair(src_lang=s, tgt_lang=t, tier=mt_tier, engine=mt_engine)  # type: ignore[arg-type]
                                       for s, t in caps.mt_pairs],
                                state=node_pb2.MODEL_STATE_READY),
        node_pb2.InstalledModel(model_id=f"piper-{pipeline.tts.voice_name}", kind=node_pb2.MODEL_KIND_TTS,
                                engine="piper",
                                languages=caps.tts_native, cross_lingual_languages=caps.tts_cross_lingual,
                                state=node_pb2.MODEL_STATE_READY),
        *speaker,
    ]
