"""Protobuf ↔ JSON pieces shared by the REST API and the WebSocket frames."""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from lingua.client import tier_name
from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import LinguaError, code_name
from lingua_common.features import FEATURE_NAMES


def features_from_json(value: Any) -> common_pb2.Features:
    """Features as `{"emotion_detection": true, ...}`, a list of names, or a JSON string of either."""
    if isinstance(value, str):
        if not value.strip():
            return common_pb2.Features()
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise LinguaError(common_pb2.INVALID_MESSAGE, f"features is not valid JSON: {exc}") from None
    if value is None:
        return common_pb2.Features()
    if isinstance(value, list):
        wanted = dict.fromkeys(value, True)
    elif isinstance(value, dict):
        wanted = value
    else:
        raise LinguaError(common_pb2.INVALID_MESSAGE, "features must be an object of booleans or a list of names")
    unknown = [str(n) for n in wanted if n not in FEATURE_NAMES]
    if unknown:
        raise LinguaError(common_pb2.UNSUPPORTED_FEATURE,
                          f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURE_NAMES)}")
    if not all(isinstance(v, bool) for v in wanted.values()):
        raise LinguaError(common_pb2.INVALID_MESSAGE, "features values must be true or false")
    return common_pb2.Features(**{name: True for name, on in wanted.items() if on})


def encoding_from_name(name: str) -> int:
    """An AudioEncoding from its name (case-insensitive); INVALID_MESSAGE for anything else."""
    value = common_pb2.AudioEncoding.DESCRIPTOR.values_by_name.get(name.strip().upper())
    if value is None or value.number == common_pb2.AUDIO_ENCODING_UNSPECIFIED:
        raise LinguaError(common_pb2.INVALID_MESSAGE,
                          f"unknown audio encoding {name!r} (PCM16, WAV, FLAC, OGG_OPUS, WEBM_OPUS, MP3)")
    return int(value.number)


def _plain(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def languages_json(response: session_pb2.ListLanguagesResponse) -> dict[str, Any]:
    """What `GET /v1/languages` returns: every pair the mesh serves now, and the languages it can detect."""
    return {
        "pairs": [{"src_lang": p.src_lang, "tgt_lang": p.tgt_lang, "tier": tier_name(p.tier), "engine": p.engine,
                   "voice": p.voice, "voice_quality": p.voice_quality, "pivot_lang": p.pivot_lang,
                   "nodes": p.nodes, "two_way": p.two_way} for p in response.pairs],
        "detectable_languages": list(response.detectable_languages),
    }


def result_json(result: common_pb2.TranslationResult | session_pb2.TranslateResponse) -> dict[str, Any]:
    """A result with its speech inlined as base64 (what the REST response and the `result` frame carry)."""
    tts = result.tts_audio
    return {
        "session_id": result.session_id,
        "utterance_index": result.utterance_index,
        "job_id": result.job_id,
        "node_id": result.node_id,
        "src_lang": result.src_lang,
        "tgt_lang": result.tgt_lang,
        "text_asr": result.text_asr,
        "text_translated": result.text_translated,
        # Which language was heard (src "auto" or a two-way session; else ""), and how it was translated.
        "detected_lang": result.detected_lang,
        "mt_engine": result.mt_engine,
        "tier": tier_name(result.tier),
        "pivot_lang": result.pivot_lang,
        "tts_audio_b64": base64.b64encode(tts.data).decode("ascii"),
        "tts_encoding": common_pb2.AudioEncoding.Name(tts.encoding) if tts.encoding else "PCM16",
        "tts_sample_rate_hz": tts.sample_rate_hz,
        "extras": _plain(result.extras),
        "timings": _plain(result.timings),
    }


def error_json(error: common_pb2.Error) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code_name(error.code), "message": error.message}
    if error.HasField("utterance_index"):
        out["utterance_index"] = error.utterance_index
    if error.retry_after_ms:
        out["retry_after_ms"] = error.retry_after_ms
    if error.session_id:
        out["session_id"] = error.session_id
    return out
