"""The JSON frames of `GET /v1/stream` (CONTRACT.md): client commands in, server frames out.

Client: `start` (languages, features, audio format), `audio` (`data` base64; binary frames carry the same
bytes raw), `end_utterance` (seals the audio sent so far into one utterance), `stop`.
Server: `started`, `asr_partial`, `result`, `error`, `stopped`, plus `event` (e.g. an utterance was sealed,
with its index) and `tts_chunk` (only when `stream_tts` was asked for).
Anything malformed is a LinguaError(INVALID_MESSAGE); the handler answers it with an `error` frame.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from gateway.json_codec import encoding_from_name, error_json, features_from_json, result_json
from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import LinguaError


@dataclass(frozen=True)
class Start:
    request: session_pb2.OpenSessionRequest
    # Encoding, rate and channels of the audio frames that follow.
    audio_format: common_pb2.Audio


@dataclass(frozen=True)
class AudioData:
    data: bytes
    final: bool = False


@dataclass(frozen=True)
class EndUtterance:
    pass


@dataclass(frozen=True)
class Stop:
    reason: str


Command = Start | AudioData | EndUtterance | Stop


def _bad(message: str) -> LinguaError:
    return LinguaError(common_pb2.INVALID_MESSAGE, message)


def _str(frame: dict[str, Any], key: str, default: str = "") -> str:
    value = frame.get(key, default)
    if not isinstance(value, str):
        raise _bad(f"`{key}` must be a string")
    return value


def _int(frame: dict[str, Any], key: str, default: int) -> int:
    value = frame.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(f"`{key}` must be a non-negative integer")
    return value


def _bool(frame: dict[str, Any], key: str, default: bool) -> bool:
    value = frame.get(key, default)
    if not isinstance(value, bool):
        raise _bad(f"`{key}` must be true or false")
    return value


def _start(frame: dict[str, Any]) -> Start:
    mode = _str(frame, "mode", "one_way").lower()
    if mode not in ("one_way", "two_way"):
        raise _bad("`mode` is one_way or two_way")
    encoding = encoding_from_name(_str(frame, "encoding", "PCM16"))
    rate = _int(frame, "sample_rate_hz", 16000)
    if encoding == common_pb2.PCM16 and not 8000 <= rate <= 48000:
        raise _bad(f"`sample_rate_hz` must be between 8000 and 48000 for PCM16, got {rate}")
    persona = frame.get("persona")
    request = session_pb2.OpenSessionRequest(
        src_lang=_str(frame, "src_lang", "en"), tgt_lang=_str(frame, "tgt_lang", "en"),
        dialect=_str(frame, "dialect"), features=features_from_json(frame.get("features")),
        pairing_code=_str(frame, "pairing_code"), client_version=_str(frame, "client_version"),
        platform=_str(frame, "platform", "websocket"), streaming_asr=_bool(frame, "streaming_asr", True),
        require_paired_node=_bool(frame, "require_paired_node", False),
        mode=session_pb2.SESSION_MODE_TWO_WAY if mode == "two_way" else session_pb2.SESSION_MODE_ONE_WAY,
        lang_a=_str(frame, "lang_a"), lang_b=_str(frame, "lang_b"), pause_ms=_int(frame, "pause_ms", 0),
        stream_tts=_bool(frame, "stream_tts", False), resume_session_id=_str(frame, "resume_session_id"),
        resume_token=_str(frame, "resume_token"))
    if persona is not None:
        if not isinstance(persona, dict):
            raise _bad("`persona` must be an object")
        try:
            request.persona.register = str(persona.get("register", ""))
            request.persona.remove_fillers = bool(persona.get("remove_fillers", False))
            request.persona.mask_profanity = bool(persona.get("mask_profanity", False))
            request.persona.glossary.extend(str(g) for g in persona.get("glossary", []))
        except TypeError as exc:
            raise _bad(f"`persona` is malformed: {exc}") from None
    audio_format = common_pb2.Audio(encoding=encoding,  # type: ignore[arg-type]
                                    sample_rate_hz=rate, channels=_int(frame, "channels", 1) or 1)
    return Start(request, audio_format)


def parse_text(text: str) -> Command:
    """One text frame as a command."""
    try:
        frame = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(f"frame is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(frame, dict):
        raise _bad("a frame is a JSON object with a `type` field")
    kind = frame.get("type")
    if kind == "start":
        return _start(frame)
    if kind == "audio":
        # `chunk` is the original gateway's name for the same field.
        raw = frame.get("data", frame.get("chunk"))
        if not isinstance(raw, str) or not raw:
            raise _bad("an `audio` frame needs `data`: base64 audio (or send the bytes as a binary frame)")
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise _bad("`data` is not valid base64") from None
        return AudioData(data, final=_bool(frame, "final", False))
    if kind == "end_utterance":
        return EndUtterance()
    if kind == "stop":
        return Stop(_str(frame, "reason", "client stopped"))
    known = "start, audio, end_utterance, stop"
    raise _bad(f"unknown frame type {kind!r} (one of {known})" if kind is not None
               else f"frame has no `type` (one of {known})")


def error_frame(error: common_pb2.Error) -> dict[str, Any]:
    return {"type": "error", **error_json(error)}


def server_frame(msg: session_pb2.ServerMessage) -> dict[str, Any] | None:
    """A scheduler message as the frame the client gets (None: nothing to tell, e.g. heartbeats)."""
    kind = msg.WhichOneof("kind")
    if kind == "opened":
        o = msg.opened
        return {"type": "started", "session_id": o.session_id, "resume_token": o.resume_token,
                "assigned_node_id": o.assigned_node_id, "result_grace_ms": o.result_grace_ms, "message": o.message}
    if kind == "asr_partial":
        p = msg.asr_partial
        return {"type": "asr_partial", "session_id": p.session_id, "utterance_index": p.utterance_index,
                "text": p.text, "is_final": p.is_final}
    if kind == "result":
        return {"type": "result", **result_json(msg.result)}
    if kind == "error":
        return error_frame(msg.error)
    if kind == "closed":
        return {"type": "stopped", "session_id": msg.closed.session_id}
    if kind == "tts_chunk":
        t = msg.tts_chunk
        return {"type": "tts_chunk", "utterance_index": t.utterance_index, "seq": t.seq, "text": t.text,
                "audio_b64": base64.b64encode(t.audio.data).decode("ascii"),
                "sample_rate_hz": t.audio.sample_rate_hz}
    if kind == "event":
        e = msg.event
        name = session_pb2.SessionEvent.Kind.Name(e.kind).removeprefix("KIND_").lower()
        return {"type": "event", "kind": name, "utterance_index": e.utterance_index, "node_id": e.node_id,
                "message": e.message}
    return None
