"""The original protocol's frames ↔ lingua.v1 messages (wirecompat), checked against reference §2's tables."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from lingua.v1 import common_pb2, node_pb2, session_pb2
from lingua_common.audio import encode_wav, float_to_pcm16
from lingua_common.errors import LinguaError
from wirecompat import node_frames, session_frames, wire


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _parse(frame: dict[str, object]) -> session_frames.ClientFrame:
    return session_frames.parse(wire.decode(json.dumps(frame)))


def _code(exc: pytest.ExceptionInfo[LinguaError]) -> str:
    return common_pb2.ErrorCode.Name(exc.value.code)  # type: ignore[arg-type]


# ---- conventions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"no_type": 1}', '{"type": 7}'])
def test_frames_that_are_not_typed_json_objects_are_invalid_messages(text: str) -> None:
    with pytest.raises(LinguaError) as exc:
        wire.decode(text)
    assert _code(exc) == "INVALID_MESSAGE" and exc.value.message.startswith("invalid message format")


def test_feature_flags_round_trip_the_six_bits_and_omit_null_ones() -> None:
    features = wire.features_in({"emotion_detection": True, "voice_style_detection": None,
                                 "speech_rate_detection": False, "persona_adaptation": True})
    assert features is not None
    assert wire.features_out(features) == {"emotion_detection": True, "persona_adaptation": True}
    assert wire.features_in(None) is None and wire.features_out(common_pb2.Features()) is None
    with pytest.raises(LinguaError) as exc:
        wire.features_in({"x_ray_vision": True})
    assert _code(exc) == "UNSUPPORTED_FEATURE"


def test_error_codes_use_the_original_names_where_it_had_one() -> None:
    frame = wire.error_frame(common_pb2.Error(code=common_pb2.NO_AVAILABLE_NODE, message="no node",
                                              utterance_index=3, retry_after_ms=2000))
    assert frame == {"type": "error", "code": "NODE_UNAVAILABLE", "message": "no node",
                     "details": {"utterance_index": 3, "retry_after_ms": 2000, "lingua_code": "NO_AVAILABLE_NODE"}}
    assert wire.error_frame(common_pb2.Error(code=common_pb2.INTERNAL, message="x"))["code"] == "INTERNAL_ERROR"
    assert wire.error_frame(common_pb2.Error(code=common_pb2.INVALID_PAIRING_CODE, message="x")) == {
        "type": "error", "code": "INVALID_PAIRING_CODE", "message": "x"}
    assert wire.code_in("INTERNAL_ERROR", 0) == common_pb2.INTERNAL
    assert wire.code_in("MODEL_NOT_AVAILABLE", 0) == common_pb2.MODEL_NOT_AVAILABLE
    assert wire.code_in("INFERENCE_BACKEND_ERROR", common_pb2.PROCESSING_ERROR) == common_pb2.PROCESSING_ERROR


# ---- session side -------------------------------------------------------------------------------------


def test_session_init_maps_every_field_and_never_takes_the_tenant_from_the_client() -> None:
    init = _parse({"type": "session_init", "client_version": "1.2.0", "platform": "android", "src_lang": "zh",
                   "tgt_lang": "en", "dialect": "cn", "features": {"emotion_detection": True},
                   "pairing_code": "123456", "tenant_id": "tenant-1", "enable_streaming_asr": True})
    assert isinstance(init, session_frames.SessionInit) and init.partials
    r = init.request
    assert (r.client_version, r.platform, r.src_lang, r.tgt_lang, r.dialect, r.pairing_code) == (
        "1.2.0", "android", "zh", "en", "cn", "123456")
    assert r.features.emotion_detection and not r.features.voice_style_detection
    assert r.tenant_id == "" and r.mode == session_pb2.SESSION_MODE_ONE_WAY
    with pytest.raises(LinguaError) as exc:
        _parse({"type": "session_init", "client_version": "1", "platform": "web", "src_lang": "en"})
    assert _code(exc) == "INVALID_MESSAGE" and "tgt_lang" in exc.value.message


def test_utterance_features_replace_the_session_defaults_only_when_present() -> None:
    base = {"type": "utterance", "session_id": "s-1", "utterance_index": 4, "manual_cut": True, "src_lang": "en",
            "tgt_lang": "fr", "audio": _b64(b"\x01\x00" * 800), "audio_format": "wav", "sample_rate": 22050}
    plain = _parse({**base, "features": None})
    assert isinstance(plain, session_frames.UtteranceIn)
    u = plain.utterance
    assert (u.session_id, u.utterance_index, u.manual_cut, u.src_lang, u.tgt_lang) == ("s-1", 4, True, "en", "fr")
    assert (u.audio.encoding, u.audio.sample_rate_hz) == (common_pb2.WAV, 22050)
    assert not u.HasField("features") and not u.HasField("dialect")
    empty = _parse({**base, "features": {}})
    assert isinstance(empty, session_frames.UtteranceIn) and empty.utterance.HasField("features")
    for broken, field in (({**base, "audio": "%%%"}, "audio"), ({**base, "utterance_index": -1}, "utterance_index"),
                          ({**base, "audio_format": "mp4"}, "audio format")):
        with pytest.raises(LinguaError) as exc:
            _parse(broken)
        assert _code(exc) == "INVALID_MESSAGE" and field in exc.value.message


def test_audio_chunk_without_session_id_as_the_dec_2025_web_client_sent_it() -> None:
    chunk = _parse({"type": "audio_chunk", "seq": 7, "is_final": True})
    assert isinstance(chunk, session_frames.AudioChunkIn)
    assert (chunk.chunk.session_id, chunk.chunk.seq, chunk.chunk.is_final, chunk.chunk.audio.data) == ("", 7, True, b"")
    assert chunk.chunk.audio.encoding == common_pb2.PCM16 and chunk.chunk.audio.sample_rate_hz == 16000


def test_server_only_and_hint_types_are_ignored_unknown_ones_are_not() -> None:
    assert isinstance(_parse({"type": "tts_play_ended", "session_id": "s"}), session_frames.Ignored)
    assert isinstance(_parse({"type": "translation_result"}), session_frames.Ignored)
    with pytest.raises(LinguaError) as exc:
        _parse({"type": "room_create"})
    assert _code(exc) == "INVALID_MESSAGE"


def test_translation_result_carries_pcm16_at_16khz_and_only_the_extras_that_exist() -> None:
    tone = np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050).astype(np.float32) * 0.3
    audio = common_pb2.Audio(data=float_to_pcm16(tone), encoding=common_pb2.PCM16, sample_rate_hz=22050)
    pcm = session_frames.tts_pcm16(audio)
    assert abs(len(pcm) / 2 - 16000) < 200  # one second, resampled to the original's rate
    assert session_frames.tts_pcm16(common_pb2.Audio()) == b""
    result = common_pb2.TranslationResult(session_id="s", utterance_index=2, job_id="j", text_asr="a",
                                          text_translated="b", extras=common_pb2.Extras(emotion="happy"))
    frame = session_frames.translation_result(result, b"\x00\x00", "t")
    assert frame == {"type": "translation_result", "session_id": "s", "utterance_index": 2, "job_id": "j",
                     "text_asr": "a", "text_translated": "b", "tts_audio": "AAA=", "tts_format": "pcm16",
                     "trace_id": "t", "extra": {"emotion": "happy"}}


# ---- node side ----------------------------------------------------------------------------------------


def _register_frame(**over: object) -> dict[str, object]:
    return {"type": "node_register", "node_id": None, "version": "1.0.0", "platform": "windows",
            "hardware": {"cpu_cores": 8, "memory_gb": 16, "gpus": [{"name": "RTX 3060", "memory_gb": 12}]},
            "installed_models": [
                {"model_id": "whisper", "kind": "asr", "version": "1"},
                {"model_id": "m2m-zh-en", "kind": "nmt", "src_lang": "zh", "tgt_lang": "en", "version": "1"},
                {"model_id": "piper-en", "kind": "tts", "tgt_lang": "en", "version": "1"},
                {"model_id": "piper-ja", "kind": "tts", "tgt_lang": "ja", "version": "1", "enabled": False},
                {"model_id": "xlmr", "kind": "emotion", "version": "1"}],
            "features_supported": {"emotion_detection": True}, "accept_public_jobs": False, **over}


def test_node_register_becomes_a_node_register_the_scheduler_can_score() -> None:
    reg = node_frames.register(_register_frame(), max_jobs=4)
    assert (reg.node_id, reg.version, reg.platform, reg.accept_public_jobs, reg.max_concurrent_jobs) == (
        "", "1.0.0", "windows", False, 4)
    assert reg.hardware.cpu_cores == 8 and reg.hardware.memory_mb == 16384
    assert [(g.name, g.memory_mb) for g in reg.hardware.gpus] == [("RTX 3060", 12288)]
    models = {m.model_id: m for m in reg.installed_models}
    assert list(models["whisper"].languages) == ["en", "zh"]  # multilingual ASR: the languages of ready models
    assert [(p.src_lang, p.tgt_lang) for p in models["m2m-zh-en"].pairs] == [("zh", "en")]
    assert models["piper-ja"].state == node_pb2.MODEL_STATE_NOT_INSTALLED  # `enabled: false` is honoured
    assert models["xlmr"].kind == node_pb2.MODEL_KIND_EMOTION and reg.features_supported.emotion_detection
    later = node_frames.register(_register_frame(node_id="node-1", max_concurrent_jobs=2,
                                                 capability_state={"piper-en": "downloading"}), max_jobs=4)
    assert later.node_id == "node-1" and later.max_concurrent_jobs == 2
    assert {m.model_id: m for m in later.installed_models}["piper-en"].state == node_pb2.MODEL_STATE_DOWNLOADING


def test_heartbeat_usage_and_capability_replacement() -> None:
    beat = {"type": "node_heartbeat", "node_id": "n", "timestamp": 1,
            "resource_usage": {"cpu_percent": 50.5, "gpu_percent": 60, "gpu_mem_percent": 70, "mem_percent": 30,
                               "running_jobs": 2}}
    u = node_frames.usage(beat)
    assert (u.cpu_percent, u.gpu_percent, u.gpu_mem_percent, u.mem_percent, u.running_jobs) == (50.5, 60, 70, 30, 2)
    assert node_frames.capabilities(beat, common_pb2.Features()) is None
    changed = node_frames.capabilities({**beat, "installed_models": []}, common_pb2.Features(emotion_detection=True))
    assert changed is not None and changed.capabilities_changed and not changed.installed_models
    assert changed.features_supported.emotion_detection


def test_job_assign_has_the_original_fields_and_omits_empty_optionals() -> None:
    job = node_pb2.JobAssign(job_id="job-1", attempt_id=2, session_id="s-1", utterance_index=5, src_lang="zh",
                             tgt_lang="en", features=common_pb2.Features(speech_rate_detection=True),
                             streaming_asr=True)
    frame = node_frames.job_assign(job, b"\x01\x00")
    assert frame == {"type": "job_assign", "job_id": "job-1", "attempt_id": 2, "session_id": "s-1",
                     "utterance_index": 5, "src_lang": "zh", "tgt_lang": "en",
                     "pipeline": {"use_asr": True, "use_nmt": True, "use_tts": True}, "audio": "AQA=",
                     "audio_format": "pcm16", "sample_rate": 16000, "mode": "one_way", "enable_streaming_asr": True,
                     "trace_id": "job-1", "features": {"speech_rate_detection": True},
                     "partial_update_interval_ms": 1000}
    wav = common_pb2.Audio(data=encode_wav(b"\x00\x10" * 8000, 8000), encoding=common_pb2.WAV)
    assert len(node_frames.job_audio(wav)) == 16000 * 2  # one second of 8 kHz WAV as 16 kHz PCM16


def test_job_results_success_and_every_kind_of_failure() -> None:
    ok = node_frames.job_result({"type": "job_result", "job_id": "j", "node_id": "n", "session_id": "s",
                                 "utterance_index": 0, "success": True, "text_asr": "你好", "text_translated": None,
                                 "tts_audio": _b64(b"\x00\x00" * 4), "extra": {"emotion": "happy", "speech_rate": 2.5},
                                 "processing_time_ms": 1234}, attempt_id=3)
    assert (ok.job_id, ok.attempt_id, ok.success, ok.processing_ms) == ("j", 3, True, 1234)
    r = ok.result
    assert (r.text_asr, r.text_translated, r.extras.emotion, r.extras.speech_rate_wps) == ("你好", "", "happy", 2.5)
    assert (r.tts_audio.encoding, r.tts_audio.sample_rate_hz, r.tts_audio.data) == (common_pb2.PCM16, 16000, b"\0" * 8)
    model = node_frames.job_result({"type": "job_result", "job_id": "j", "success": False,
                                    "error": {"code": "MODEL_NOT_AVAILABLE", "message": "no m2m",
                                              "details": {"model_id": "m2m"}}}, 1)
    assert model.error.code == common_pb2.MODEL_NOT_AVAILABLE and dict(model.error.details) == {"model_id": "m2m"}
    bare = node_frames.job_result({"type": "job_result", "job_id": "j", "success": False}, 1)
    assert bare.error.code == common_pb2.PROCESSING_ERROR and bare.error.job_id == "j"  # never a silent failure
    odd = node_frames.job_result({"type": "job_result", "job_id": "j", "success": False,
                                  "error": {"code": "CUDA_ON_FIRE", "message": "m"}}, 1)
    assert odd.error.code == common_pb2.PROCESSING_ERROR and odd.error.details["node_code"] == "CUDA_ON_FIRE"
    report = node_frames.model_not_available({"type": "MODEL_NOT_AVAILABLE", "node_id": "n", "job_id": "j",
                                              "model_id": "m2m", "version": "1", "reason": "downloading"}, 2)
    assert (report.attempt_id, report.error.code) == (2, common_pb2.MODEL_NOT_AVAILABLE)
    assert "downloading" in report.error.message


def test_legacy_session_options_from_gateway_settings() -> None:
    from gateway.config import GatewaySettings
    from gateway.legacy_session import LegacyOptions
    from lingua_common.settings import load_settings

    defaults = LegacyOptions.from_settings(GatewaySettings())
    assert defaults.key_sources == {"header", "query", "first_frame"} and defaults.anonymous_tenant == ""
    env = {"LINGUA_GATEWAY_LEGACY_WS_AUTH": "query, first_frame", "LINGUA_GATEWAY_LEGACY_WS_ANONYMOUS_TENANT": "tn-x",
           "LINGUA_GATEWAY_MAX_UPLOAD_MB": "2"}
    options = LegacyOptions.from_settings(load_settings(GatewaySettings, "gateway", env=env))
    assert options.key_sources == {"query", "first_frame"} and options.anonymous_tenant == "tn-x"
    assert options.max_frame_bytes == 2 * 1024 * 1024
    with pytest.raises(ValueError, match="cookie"):
        LegacyOptions.from_settings(GatewaySettings(legacy_ws_auth=["cookie"]))
