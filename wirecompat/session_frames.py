"""The original session protocol (`/ws/session`, reference §2.2): client frames in, server frames out.

Client: session_init, utterance, audio_chunk, client_heartbeat, session_close (tts_play_ended and the
server-only types are accepted and ignored, as the original did). Server: session_init_ack,
translation_result, asr_partial, server_heartbeat, session_close_ack, error.
"""

from __future__ import annotations

from dataclasses import dataclass

from lingua.v1 import common_pb2, session_pb2
from lingua_common.audio import AudioLimits, decode_audio, float_to_pcm16
from wirecompat import wire
from wirecompat.wire import Frame

# The original's audio: PCM16, 16 kHz, mono — what utterances default to and what TTS is sent back as.
SAMPLE_RATE = 16000
# Synthesized speech comes from nodes (volunteer machines): decoded within bounds too, more generous than an
# utterance (a translation may be spoken more slowly than its source).
TTS_LIMITS = AudioLimits(max_seconds=600.0)


@dataclass(frozen=True)
class SessionInit:
    request: session_pb2.OpenSessionRequest
    trace_id: str
    # enable_streaming_asr (a later field): the client wants asr_partial frames.
    partials: bool


@dataclass(frozen=True)
class UtteranceIn:
    utterance: session_pb2.Utterance


@dataclass(frozen=True)
class AudioChunkIn:
    chunk: session_pb2.AudioChunk


@dataclass(frozen=True)
class HeartbeatIn:
    session_id: str


@dataclass(frozen=True)
class CloseIn:
    session_id: str
    reason: str


@dataclass(frozen=True)
class Ignored:
    kind: str


ClientFrame = SessionInit | UtteranceIn | AudioChunkIn | HeartbeatIn | CloseIn | Ignored

# Types a client may send that need no answer: the later group-window hint, and server-only types
# (the original logged and ignored those).
_IGNORED = {"tts_play_ended", "session_init_ack", "translation_result", "asr_partial", "server_heartbeat",
            "session_close_ack", "error", "ui_event", "language_detected"}


def _mode(frame: Frame) -> tuple[int, str, str]:
    mode = wire.opt_str(frame, "mode", "one_way")
    if mode == "one_way":
        return session_pb2.SESSION_MODE_ONE_WAY, "", ""
    if mode == "two_way_auto":
        return session_pb2.SESSION_MODE_TWO_WAY, wire.req_str(frame, "lang_a"), wire.req_str(frame, "lang_b")
    raise wire.bad(f"`mode` is one_way or two_way_auto, not {mode!r}")


def _session_init(frame: Frame) -> SessionInit:
    mode, lang_a, lang_b = _mode(frame)
    request = session_pb2.OpenSessionRequest(
        client_version=wire.req_str(frame, "client_version"), platform=wire.req_str(frame, "platform"),
        src_lang=wire.req_str(frame, "src_lang"), tgt_lang=wire.req_str(frame, "tgt_lang"),
        dialect=wire.opt_str(frame, "dialect"), pairing_code=wire.opt_str(frame, "pairing_code"),
        mode=mode, lang_a=lang_a, lang_b=lang_b,  # type: ignore[arg-type]
        # Partials are always asked for upstream; the endpoint forwards them only to clients that want them.
        streaming_asr=True)
    features = wire.features_in(frame.get("features"))
    if features is not None:
        request.features.CopyFrom(features)
    # tenant_id is never taken from the client: the gateway stamps it from the API key.
    return SessionInit(request, wire.opt_str(frame, "trace_id"), wire.opt_bool(frame, "enable_streaming_asr"))


def _utterance(frame: Frame) -> UtteranceIn:
    encoding = wire.encoding_in(wire.opt_str(frame, "audio_format", "pcm16"))
    audio = common_pb2.Audio(data=wire.b64(frame, "audio"), encoding=encoding,  # type: ignore[arg-type]
                             sample_rate_hz=wire.opt_uint(frame, "sample_rate", SAMPLE_RATE), channels=1)
    utterance = session_pb2.Utterance(
        session_id=wire.req_str(frame, "session_id"),
        utterance_index=wire.req_uint(frame, "utterance_index", wire.UINT64_MAX),
        audio=audio, manual_cut=wire.opt_bool(frame, "manual_cut"))
    for key in ("src_lang", "tgt_lang", "dialect"):  # absent: the session's (the original required src/tgt)
        if frame.get(key) is not None:
            setattr(utterance, key, wire.opt_str(frame, key))
    features = wire.features_in(frame.get("features"))
    if features is not None:  # present: replaces the session's features wholesale, as in the original
        utterance.features.CopyFrom(features)
        utterance.features.SetInParent()
    return UtteranceIn(utterance)


def _audio_chunk(frame: Frame) -> AudioChunkIn:
    # session_id may be missing: the Dec-2025 web client left it out (reference §15.9); the connection knows it.
    chunk = session_pb2.AudioChunk(
        session_id=wire.opt_str(frame, "session_id"), seq=wire.req_uint(frame, "seq"),
        is_final=wire.opt_bool(frame, "is_final"),
        audio=common_pb2.Audio(data=wire.b64(frame, "payload", required=False), encoding=common_pb2.PCM16,
                               sample_rate_hz=SAMPLE_RATE, channels=1))
    return AudioChunkIn(chunk)


def parse(frame: Frame) -> ClientFrame:
    kind = frame["type"]
    if kind == "session_init":
        return _session_init(frame)
    if kind == "utterance":
        return _utterance(frame)
    if kind == "audio_chunk":
        return _audio_chunk(frame)
    if kind == "client_heartbeat":
        return HeartbeatIn(wire.req_str(frame, "session_id"))
    if kind == "session_close":
        return CloseIn(wire.req_str(frame, "session_id"), wire.opt_str(frame, "reason", "client closed"))
    if kind in _IGNORED:
        return Ignored(kind)
    raise wire.bad(f"unknown message type {kind!r}")


# ---- server frames ------------------------------------------------------------------------------------


def init_ack(opened: session_pb2.OpenSessionResponse, trace_id: str) -> Frame:
    frame: Frame = {"type": "session_init_ack", "session_id": opened.session_id,
                    "message": opened.message or "session created", "trace_id": trace_id or opened.session_id}
    if opened.assigned_node_id:  # null fields are omitted, as the original serialised them
        frame["assigned_node_id"] = opened.assigned_node_id
    return frame


def tts_pcm16(audio: common_pb2.Audio) -> bytes:
    """Synthesised speech as PCM16 at 16 kHz mono, which is what the original's clients play (CPU: run in a
    thread). Empty when the utterance had no speech."""
    if not audio.data:
        return b""
    encoding = common_pb2.AudioEncoding.Name(audio.encoding) if audio.encoding else "PCM16"
    return float_to_pcm16(decode_audio(audio.data, encoding, audio.sample_rate_hz or SAMPLE_RATE,
                                       audio.channels or 1, target_rate=SAMPLE_RATE, limits=TTS_LIMITS))


def translation_result(result: common_pb2.TranslationResult, tts: bytes, trace_id: str) -> Frame:
    frame: Frame = {"type": "translation_result", "session_id": result.session_id,
                    "utterance_index": result.utterance_index, "job_id": result.job_id,
                    "text_asr": result.text_asr, "text_translated": result.text_translated,
                    "tts_audio": wire.to_b64(tts), "tts_format": "pcm16", "trace_id": trace_id}
    e = result.extras
    extra: Frame = {}
    if e.emotion:
        extra["emotion"] = e.emotion
    if e.speech_rate_wps:
        extra["speech_rate"] = e.speech_rate_wps
    if e.voice_style:
        extra["voice_style"] = e.voice_style
    if extra:
        frame["extra"] = extra
    return frame


def asr_partial(partial: common_pb2.AsrPartial, trace_id: str) -> Frame:
    return {"type": "asr_partial", "session_id": partial.session_id, "utterance_index": partial.utterance_index,
            "job_id": partial.job_id, "text": partial.text, "is_final": partial.is_final, "trace_id": trace_id}


def server_heartbeat(session_id: str, timestamp_ms: int) -> Frame:
    return {"type": "server_heartbeat", "session_id": session_id, "timestamp": timestamp_ms}


def close_ack(session_id: str) -> Frame:
    return {"type": "session_close_ack", "session_id": session_id}
