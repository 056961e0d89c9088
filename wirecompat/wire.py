"""Conventions shared by both sides of the original protocol: frames, fields, codes, features, audio names.

Every frame is a JSON object with a `type`; optional fields may be absent or null; audio is base64. A frame
that breaks these rules raises LinguaError(INVALID_MESSAGE) with the original's "invalid message format"
wording.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError, code_name

Frame = dict[str, Any]

# The original's six FeatureFlags bits, plus voice_cloning (in its module system and client examples).
FEATURE_NAMES: tuple[str, ...] = (
    "emotion_detection", "voice_style_detection", "speech_rate_detection", "speech_rate_control",
    "speaker_identification", "persona_adaptation", "voice_cloning",
)

# Audio format names of the original, plus ours (lower case) for clients that send other containers.
_FORMATS: dict[str, int] = {
    "pcm16": common_pb2.PCM16, "wav": common_pb2.WAV, "opus": common_pb2.OGG_OPUS, "ogg_opus": common_pb2.OGG_OPUS,
    "webm_opus": common_pb2.WEBM_OPUS, "flac": common_pb2.FLAC, "mp3": common_pb2.MP3,
}
# Where our code name differs from the original's for the same condition.
_TO_ORIGINAL: dict[int, str] = {
    common_pb2.INTERNAL: "INTERNAL_ERROR",
    common_pb2.ERROR_CODE_UNSPECIFIED: "INTERNAL_ERROR",
    common_pb2.NO_AVAILABLE_NODE: "NODE_UNAVAILABLE",
}
_FROM_ORIGINAL: dict[str, int] = {"INTERNAL_ERROR": common_pb2.INTERNAL}


def bad(what: str) -> LinguaError:
    return LinguaError(common_pb2.INVALID_MESSAGE, f"invalid message format: {what}")


def decode(text: str) -> Frame:
    """One text frame as a JSON object with a string `type`."""
    try:
        frame = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise bad("a frame is a JSON object with a string `type` field")
    return frame


def req_str(frame: Frame, key: str) -> str:
    value = frame.get(key)
    if not isinstance(value, str):
        raise bad(f"missing or non-string field `{key}` in `{frame.get('type')}`")
    return value


def opt_str(frame: Frame, key: str, default: str = "") -> str:
    value = frame.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise bad(f"field `{key}` must be a string or null")
    return value


UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
# Numbers (percentages, gigabytes, milliseconds, rates) are finite and at most this big.
NUMBER_MAX = 1e12


def req_uint(frame: Frame, key: str, maximum: int = UINT32_MAX) -> int:
    """A non-negative integer up to `maximum` (uint32 unless said: the protobuf field it goes into)."""
    value = frame.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise bad(f"missing or invalid field `{key}` (an integer from 0 to {maximum}) in `{frame.get('type')}`")
    return value


def opt_uint(frame: Frame, key: str, default: int = 0, maximum: int = UINT32_MAX) -> int:
    return default if frame.get(key) is None else req_uint(frame, key, maximum)


def opt_number(frame: Frame, key: str, default: float = 0.0) -> float:
    value = frame.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not -NUMBER_MAX <= value <= NUMBER_MAX:
        raise bad(f"field `{key}` must be a number (at most {NUMBER_MAX:g} in size)")
    return float(value)


def opt_bool(frame: Frame, key: str, default: bool = False) -> bool:
    value = frame.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad(f"field `{key}` must be true or false")
    return value


def opt_object(frame: Frame, key: str) -> Frame | None:
    value = frame.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad(f"field `{key}` must be an object")
    return value


def b64(frame: Frame, key: str, required: bool = True) -> bytes:
    value = frame.get(key)
    if value is None and not required:
        return b""
    if not isinstance(value, str):
        raise bad(f"missing or non-string field `{key}` (base64)")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad(f"field `{key}` is not valid base64") from None


def to_b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def features_in(value: Any, key: str = "features") -> common_pb2.Features | None:
    """FeatureFlags (each bit true/false/null) as Features; None when absent or null."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad(f"field `{key}` must be an object of feature flags")
    unknown = sorted(str(k) for k in value if k not in FEATURE_NAMES)
    if unknown:
        raise LinguaError(common_pb2.UNSUPPORTED_FEATURE,
                          f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURE_NAMES)}")
    if any(v is not None and not isinstance(v, bool) for v in value.values()):
        raise bad(f"`{key}` values must be true, false or null")
    features = common_pb2.Features(**{name: True for name, on in value.items() if on})
    return features


def features_out(features: common_pb2.Features) -> Frame | None:
    """Features as FeatureFlags with only the set bits (the original omits null bits); None when none set."""
    on = {name: True for name in FEATURE_NAMES if getattr(features, name)}
    return on or None


def encoding_in(name: str) -> int:
    """An original `audio_format` / `tts_format` name as an AudioEncoding."""
    encoding = _FORMATS.get(name.strip().lower())
    if encoding is None:
        raise bad(f"unknown audio format {name!r} (pcm16, wav or opus)")
    return encoding


def code_out(code: int) -> str:
    """Our ErrorCode as the original's code string (the same name wherever the original had one)."""
    return _TO_ORIGINAL.get(code, code_name(code))


def code_in(name: str, default: int) -> int:
    """An original code string as our ErrorCode; `default` for a name we do not have."""
    if name in _FROM_ORIGINAL:
        return _FROM_ORIGINAL[name]
    value = common_pb2.ErrorCode.DESCRIPTOR.values_by_name.get(name)
    return default if value is None or value.number == common_pb2.ERROR_CODE_UNSPECIFIED else int(value.number)


def error_frame(error: common_pb2.Error) -> Frame:
    """`error` {code, message, details?}; details carry what the original had no field for."""
    details: Frame = dict(error.details)
    if error.HasField("utterance_index"):
        details["utterance_index"] = error.utterance_index
    if error.retry_after_ms:
        details["retry_after_ms"] = error.retry_after_ms
    if error.job_id:
        details["job_id"] = error.job_id
    original = code_out(error.code)
    if original != code_name(error.code):
        details["lingua_code"] = code_name(error.code)
    frame: Frame = {"type": "error", "code": original, "message": error.message}
    if details:
        frame["details"] = details
    return frame
