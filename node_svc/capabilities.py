"""What a node advertises: its installed models as the scheduler matches them."""

from __future__ import annotations

from lingua.v1 import common_pb2, node_pb2
from node_svc.pipeline import Pipeline


def installed_models(pipeline: Pipeline) -> list[node_pb2.InstalledModel]:
    caps = pipeline.capabilities()
    asr_id = f"whisper-{getattr(pipeline.asr, 'model_name', 'tiny.en')}"
    mt_id = getattr(pipeline.mt, "model_id", "m2m100")
    mt_version = getattr(pipeline.mt, "version", "")
    return [
        node_pb2.InstalledModel(model_id="silero-vad", kind=node_pb2.MODEL_KIND_VAD,
                                state=node_pb2.MODEL_STATE_READY, version="6"),
        node_pb2.InstalledModel(model_id=asr_id, kind=node_pb2.MODEL_KIND_ASR, languages=caps.asr_languages,
                                state=node_pb2.MODEL_STATE_READY),
        node_pb2.InstalledModel(model_id=mt_id, kind=node_pb2.MODEL_KIND_MT, version=mt_version,
                                pairs=[common_pb2.LanguagePair(src_lang=s, tgt_lang=t) for s, t in caps.mt_pairs],
                                state=node_pb2.MODEL_STATE_READY),
        node_pb2.InstalledModel(model_id=f"piper-{pipeline.tts.voice_name}", kind=node_pb2.MODEL_KIND_TTS,
                                languages=caps.tts_native, cross_lingual_languages=caps.tts_cross_lingual,
                                state=node_pb2.MODEL_STATE_READY),
    ]
