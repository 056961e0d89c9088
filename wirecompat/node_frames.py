"""The original node protocol (`/ws/node`, reference §2.3): node frames in, scheduler frames out.

Pure translation between the JSON frames and lingua.v1 NodeService messages; the connection logic
(attempt ids, heartbeats, failover) lives in node_bridge.
"""

from __future__ import annotations

import time
from typing import Any

from lingua.v1 import common_pb2, node_pb2, session_pb2
from lingua_common.audio import AudioLimits, decode_audio, float_to_pcm16
from wirecompat import wire
from wirecompat.wire import Frame

# What job audio is sent as: the original's default, which every original node handles.
SAMPLE_RATE = 16000

_KINDS = {"asr": node_pb2.MODEL_KIND_ASR, "nmt": node_pb2.MODEL_KIND_MT, "mt": node_pb2.MODEL_KIND_MT,
          "tts": node_pb2.MODEL_KIND_TTS, "vad": node_pb2.MODEL_KIND_VAD, "emotion": node_pb2.MODEL_KIND_EMOTION,
          "speaker": node_pb2.MODEL_KIND_SPEAKER}
_STATES = {"ready": node_pb2.MODEL_STATE_READY, "downloading": node_pb2.MODEL_STATE_DOWNLOADING,
           "not_installed": node_pb2.MODEL_STATE_NOT_INSTALLED, "error": node_pb2.MODEL_STATE_ERROR,
           "verifying": node_pb2.MODEL_STATE_LOADING}


# ---- node → scheduler ---------------------------------------------------------------------------------


def _models(frame: Frame) -> list[node_pb2.InstalledModel]:
    """InstalledModel list (+ the later capability_state map) as our models.

    asr/tts languages come from src_lang/tgt_lang; an ASR model without a language (multilingual Whisper)
    covers every language the node's MT and TTS models name. `enabled: false` and capability states other
    than ready keep a model out of scheduling (the original ignored `enabled`, reference §15.7).
    """
    raw = frame.get("installed_models") or []
    states = wire.opt_object(frame, "capability_state") or {}
    if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
        raise wire.bad("`installed_models` must be a list of objects")
    models: list[node_pb2.InstalledModel] = []
    languages: set[str] = set()
    for m in raw:
        kind = _KINDS.get(wire.opt_str(m, "kind").lower(), node_pb2.MODEL_KIND_OTHER)
        model_id = wire.req_str(m, "model_id")
        src, tgt = wire.opt_str(m, "src_lang"), wire.opt_str(m, "tgt_lang")
        state = _STATES.get(str(states.get(model_id, "ready")), node_pb2.MODEL_STATE_ERROR)
        if not wire.opt_bool(m, "enabled", True):
            state = node_pb2.MODEL_STATE_NOT_INSTALLED
        model = node_pb2.InstalledModel(model_id=model_id, kind=kind, dialect=wire.opt_str(m, "dialect"),  # type: ignore[arg-type]
                                        version=wire.opt_str(m, "version"), state=state)  # type: ignore[arg-type]
        if kind == node_pb2.MODEL_KIND_MT and src and tgt:
            # The original nodes run neural MT (NLLB / M2M100 / Marian): they rank as neural.
            model.pairs.add(src_lang=src, tgt_lang=tgt, tier=common_pb2.TRANSLATION_TIER_NEURAL,
                            engine=f"original-node:{wire.opt_str(m, 'kind').lower() or 'mt'}")
        elif kind == node_pb2.MODEL_KIND_TTS and (tgt or src):
            model.languages.append(tgt or src)
        elif kind == node_pb2.MODEL_KIND_ASR and src:
            model.languages.append(src)
        if state == node_pb2.MODEL_STATE_READY:
            languages.update(model.languages, *((p.src_lang, p.tgt_lang) for p in model.pairs))
        models.append(model)
    for model in models:
        if model.kind == node_pb2.MODEL_KIND_ASR and not model.languages:
            model.languages.extend(sorted(languages))
    return models


def _features(frame: Frame) -> common_pb2.Features:
    return wire.features_in(frame.get("features_supported"), "features_supported") or common_pb2.Features()


def register(frame: Frame, max_jobs: int) -> node_pb2.NodeRegister:
    """node_register as NodeRegister (auth_token is the bridge's business)."""
    hw = wire.opt_object(frame, "hardware") or {}
    gpus = hw.get("gpus") or []
    if not isinstance(gpus, list) or not all(isinstance(g, dict) for g in gpus):
        raise wire.bad("`hardware.gpus` must be a list of objects")
    hardware = node_pb2.Hardware(
        cpu_cores=wire.opt_uint(hw, "cpu_cores"), memory_mb=int(wire.opt_number(hw, "memory_gb") * 1024),
        gpus=[node_pb2.Gpu(name=wire.opt_str(g, "name"), memory_mb=int(wire.opt_number(g, "memory_gb") * 1024))
              for g in gpus])
    return node_pb2.NodeRegister(
        node_id=wire.opt_str(frame, "node_id"), version=wire.opt_str(frame, "version"),
        platform=wire.opt_str(frame, "platform"), hardware=hardware, installed_models=_models(frame),
        features_supported=_features(frame), accept_public_jobs=wire.opt_bool(frame, "accept_public_jobs", True),
        # Not in the original (it assumed 4 per node); a node may say how many it runs at once.
        max_concurrent_jobs=wire.opt_uint(frame, "max_concurrent_jobs", max_jobs),
        display_name=wire.opt_str(frame, "display_name"))


def usage(frame: Frame) -> node_pb2.ResourceUsage:
    u = wire.opt_object(frame, "resource_usage") or {}
    return node_pb2.ResourceUsage(
        cpu_percent=wire.opt_number(u, "cpu_percent"), mem_percent=wire.opt_number(u, "mem_percent"),
        gpu_percent=wire.opt_number(u, "gpu_percent"), gpu_mem_percent=wire.opt_number(u, "gpu_mem_percent"),
        running_jobs=wire.opt_uint(u, "running_jobs"))


def capabilities(frame: Frame, features: common_pb2.Features) -> node_pb2.NodeHeartbeat | None:
    """A heartbeat announcing new capabilities when the frame carries models (a full replacement list, or a
    later capability_state map); None when it does not."""
    if frame.get("installed_models") is None and frame.get("capability_state") is None:
        return None
    if frame.get("features_supported") is not None:
        features = _features(frame)
    return node_pb2.NodeHeartbeat(capabilities_changed=True, installed_models=_models(frame),
                                  features_supported=features, timestamp_ms=int(time.time() * 1000))


def _extras(extra: Frame | None) -> common_pb2.Extras:
    if not extra:
        return common_pb2.Extras()
    return common_pb2.Extras(emotion=wire.opt_str(extra, "emotion"), voice_style=wire.opt_str(extra, "voice_style"),
                             speech_rate_wps=wire.opt_number(extra, "speech_rate"),
                             speaker_id=wire.opt_str(extra, "speaker_id"))


def _tts(frame: Frame) -> common_pb2.Audio:
    data = wire.b64(frame, "tts_audio", required=False)
    encoding = wire.encoding_in(wire.opt_str(frame, "tts_format", "pcm16"))
    # The original had no rate field: PCM16 is 16 kHz unless the node says otherwise (tts_sample_rate).
    rate = wire.opt_uint(frame, "tts_sample_rate", SAMPLE_RATE) if encoding == common_pb2.PCM16 else 0
    return common_pb2.Audio(data=data, encoding=encoding, sample_rate_hz=rate, channels=1)  # type: ignore[arg-type]


def node_error(error: Frame | None, default_code: int) -> common_pb2.Error:
    """A node's {code, message, details?} as our Error (unknown codes: `default_code`, original code kept)."""
    error = error or {}
    name = wire.opt_str(error, "code")
    code = wire.code_in(name, default_code)
    out = common_pb2.Error(code=code, message=wire.opt_str(error, "message") or "the node reported a failure")  # type: ignore[arg-type]
    details = error.get("details")
    if isinstance(details, dict):
        out.details.update({str(k): str(v) for k, v in details.items()})
    if name and wire.code_out(code) != name:
        out.details["node_code"] = name
    return out


def job_result(frame: Frame, attempt_id: int) -> node_pb2.JobResult:
    job_id = wire.req_str(frame, "job_id")
    result = node_pb2.JobResult(job_id=job_id, attempt_id=attempt_id, success=wire.opt_bool(frame, "success"),
                                processing_ms=wire.opt_number(frame, "processing_time_ms"))
    if result.success:
        result.result.CopyFrom(common_pb2.TranslationResult(
            job_id=job_id, text_asr=wire.opt_str(frame, "text_asr"),
            text_translated=wire.opt_str(frame, "text_translated"), tts_audio=_tts(frame),
            extras=_extras(wire.opt_object(frame, "extra"))))
    else:  # the original sent nothing to the client for a failure without `error`; every job ends explicitly here
        result.error.CopyFrom(node_error(wire.opt_object(frame, "error"), common_pb2.PROCESSING_ERROR))
        result.error.job_id = job_id
    return result


def model_not_available(frame: Frame, attempt_id: int) -> node_pb2.JobResult:
    """The model manager's MODEL_NOT_AVAILABLE report, as the failed job result it stands for."""
    model = wire.opt_str(frame, "model_id")
    error = common_pb2.Error(code=common_pb2.MODEL_NOT_AVAILABLE, job_id=wire.req_str(frame, "job_id"),
                             message=f"model {model} is {wire.opt_str(frame, 'reason', 'not available')}")
    return node_pb2.JobResult(job_id=error.job_id, attempt_id=attempt_id, success=False, error=error)


def asr_partial(frame: Frame, attempt_id: int) -> common_pb2.AsrPartial:
    return common_pb2.AsrPartial(job_id=wire.req_str(frame, "job_id"), attempt_id=attempt_id,
                                 utterance_index=wire.opt_uint(frame, "utterance_index", maximum=wire.UINT64_MAX),
                                 text=wire.opt_str(frame, "text"), is_final=wire.opt_bool(frame, "is_final"))


# ---- scheduler → node ---------------------------------------------------------------------------------


def register_ack(registered: node_pb2.Registered) -> Frame:
    return {"type": "node_register_ack", "node_id": registered.node_id, "message": "registered",
            "status": _state(registered.state)}


def _state(state: int) -> str:
    return node_pb2.NodeState.Name(state).removeprefix("NODE_STATE_").lower()  # type: ignore[arg-type]


def job_audio(audio: common_pb2.Audio) -> bytes:
    """Any job audio as PCM16 at 16 kHz mono (CPU: run in a thread), decoded by the bounded decoder as a
    native node does (declared container, at most DEFAULT_MAX_SECONDS); raises AudioDecodeError (its
    `code_name` is INVALID_AUDIO or PAYLOAD_TOO_LARGE)."""
    encoding = common_pb2.AudioEncoding.Name(audio.encoding) if audio.encoding else "PCM16"
    return float_to_pcm16(decode_audio(audio.data, encoding, audio.sample_rate_hz or SAMPLE_RATE,
                                       audio.channels or 1, target_rate=SAMPLE_RATE, limits=AudioLimits()))


def job_assign(job: node_pb2.JobAssign, pcm16: bytes) -> Frame:
    two_way = job.mode == session_pb2.SESSION_MODE_TWO_WAY
    frame: Frame = {
        "type": "job_assign", "job_id": job.job_id, "attempt_id": job.attempt_id, "session_id": job.session_id,
        "utterance_index": job.utterance_index, "src_lang": job.src_lang or job.lang_a,
        "tgt_lang": job.tgt_lang or job.lang_b,
        "pipeline": {"use_asr": True, "use_nmt": True, "use_tts": True},
        "audio": wire.to_b64(pcm16), "audio_format": "pcm16", "sample_rate": SAMPLE_RATE,
        "mode": "two_way_auto" if two_way else "one_way", "enable_streaming_asr": job.streaming_asr,
        "trace_id": job.job_id,
    }
    optional: dict[str, Any] = {"dialect": job.dialect, "features": wire.features_out(job.features),
                                "lang_a": job.lang_a, "lang_b": job.lang_b, "context_text": job.context_text}
    frame.update({k: v for k, v in optional.items() if v})  # null fields are omitted, as in the original
    if job.streaming_asr:
        frame["partial_update_interval_ms"] = 1000
    return frame


def job_cancel(cancel: node_pb2.JobCancel) -> Frame:
    return {"type": "job_cancel", "job_id": cancel.job_id, "trace_id": cancel.job_id, "reason": cancel.reason}


def node_status(node_id: str, status: node_pb2.NodeStatus) -> Frame:
    return {"type": "node_status", "node_id": node_id, "status": _state(status.state), "reason": status.reason,
            "timestamp": int(time.time())}


def pairing_code(code: node_pb2.PairingCode) -> Frame:
    return {"type": "pairing_code", "code": code.code, "expires_at": code.expires_at_unix_ms}
