from lingua.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_MODE_UNSPECIFIED: _ClassVar[SessionMode]
    SESSION_MODE_ONE_WAY: _ClassVar[SessionMode]
    SESSION_MODE_TWO_WAY: _ClassVar[SessionMode]
SESSION_MODE_UNSPECIFIED: SessionMode
SESSION_MODE_ONE_WAY: SessionMode
SESSION_MODE_TWO_WAY: SessionMode

class OpenSessionRequest(_message.Message):
    __slots__ = ("src_lang", "tgt_lang", "dialect", "features", "pairing_code", "client_version", "platform", "tenant_id", "streaming_asr", "require_paired_node", "mode", "lang_a", "lang_b", "pause_ms", "stream_tts", "resume_session_id", "resume_token", "persona")
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    PAIRING_CODE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    STREAMING_ASR_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_PAIRED_NODE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    LANG_A_FIELD_NUMBER: _ClassVar[int]
    LANG_B_FIELD_NUMBER: _ClassVar[int]
    PAUSE_MS_FIELD_NUMBER: _ClassVar[int]
    STREAM_TTS_FIELD_NUMBER: _ClassVar[int]
    RESUME_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    src_lang: str
    tgt_lang: str
    dialect: str
    features: _common_pb2.Features
    pairing_code: str
    client_version: str
    platform: str
    tenant_id: str
    streaming_asr: bool
    require_paired_node: bool
    mode: SessionMode
    lang_a: str
    lang_b: str
    pause_ms: int
    stream_tts: bool
    resume_session_id: str
    resume_token: str
    persona: _common_pb2.Persona
    def __init__(self, src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., dialect: _Optional[str] = ..., features: _Optional[_Union[_common_pb2.Features, _Mapping]] = ..., pairing_code: _Optional[str] = ..., client_version: _Optional[str] = ..., platform: _Optional[str] = ..., tenant_id: _Optional[str] = ..., streaming_asr: _Optional[bool] = ..., require_paired_node: _Optional[bool] = ..., mode: _Optional[_Union[SessionMode, str]] = ..., lang_a: _Optional[str] = ..., lang_b: _Optional[str] = ..., pause_ms: _Optional[int] = ..., stream_tts: _Optional[bool] = ..., resume_session_id: _Optional[str] = ..., resume_token: _Optional[str] = ..., persona: _Optional[_Union[_common_pb2.Persona, _Mapping]] = ...) -> None: ...

class OpenSessionResponse(_message.Message):
    __slots__ = ("session_id", "resume_token", "assigned_node_id", "message", "result_grace_ms")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RESULT_GRACE_MS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    resume_token: str
    assigned_node_id: str
    message: str
    result_grace_ms: int
    def __init__(self, session_id: _Optional[str] = ..., resume_token: _Optional[str] = ..., assigned_node_id: _Optional[str] = ..., message: _Optional[str] = ..., result_grace_ms: _Optional[int] = ...) -> None: ...

class Utterance(_message.Message):
    __slots__ = ("session_id", "utterance_index", "audio", "manual_cut", "src_lang", "tgt_lang", "features", "dialect")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    MANUAL_CUT_FIELD_NUMBER: _ClassVar[int]
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    utterance_index: int
    audio: _common_pb2.Audio
    manual_cut: bool
    src_lang: str
    tgt_lang: str
    features: _common_pb2.Features
    dialect: str
    def __init__(self, session_id: _Optional[str] = ..., utterance_index: _Optional[int] = ..., audio: _Optional[_Union[_common_pb2.Audio, _Mapping]] = ..., manual_cut: _Optional[bool] = ..., src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., features: _Optional[_Union[_common_pb2.Features, _Mapping]] = ..., dialect: _Optional[str] = ...) -> None: ...

class AudioChunk(_message.Message):
    __slots__ = ("session_id", "seq", "audio", "is_final")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    seq: int
    audio: _common_pb2.Audio
    is_final: bool
    def __init__(self, session_id: _Optional[str] = ..., seq: _Optional[int] = ..., audio: _Optional[_Union[_common_pb2.Audio, _Mapping]] = ..., is_final: _Optional[bool] = ...) -> None: ...

class CloseSessionRequest(_message.Message):
    __slots__ = ("session_id", "reason")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    reason: str
    def __init__(self, session_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CloseSessionResponse(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class ClientHeartbeat(_message.Message):
    __slots__ = ("timestamp_ms",)
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    def __init__(self, timestamp_ms: _Optional[int] = ...) -> None: ...

class ServerHeartbeat(_message.Message):
    __slots__ = ("timestamp_ms",)
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    def __init__(self, timestamp_ms: _Optional[int] = ...) -> None: ...

class ClientMessage(_message.Message):
    __slots__ = ("open", "utterance", "audio_chunk", "close", "heartbeat")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CHUNK_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    open: OpenSessionRequest
    utterance: Utterance
    audio_chunk: AudioChunk
    close: CloseSessionRequest
    heartbeat: ClientHeartbeat
    def __init__(self, open: _Optional[_Union[OpenSessionRequest, _Mapping]] = ..., utterance: _Optional[_Union[Utterance, _Mapping]] = ..., audio_chunk: _Optional[_Union[AudioChunk, _Mapping]] = ..., close: _Optional[_Union[CloseSessionRequest, _Mapping]] = ..., heartbeat: _Optional[_Union[ClientHeartbeat, _Mapping]] = ...) -> None: ...

class SessionEvent(_message.Message):
    __slots__ = ("kind", "utterance_index", "node_id", "message")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[SessionEvent.Kind]
        KIND_UTTERANCE_SEALED: _ClassVar[SessionEvent.Kind]
        KIND_DISPATCHED: _ClassVar[SessionEvent.Kind]
        KIND_PAIRED_NODE_UNAVAILABLE: _ClassVar[SessionEvent.Kind]
        KIND_PAIRED_NODE_AVAILABLE: _ClassVar[SessionEvent.Kind]
        KIND_FALLBACK_TO_POOL: _ClassVar[SessionEvent.Kind]
    KIND_UNSPECIFIED: SessionEvent.Kind
    KIND_UTTERANCE_SEALED: SessionEvent.Kind
    KIND_DISPATCHED: SessionEvent.Kind
    KIND_PAIRED_NODE_UNAVAILABLE: SessionEvent.Kind
    KIND_PAIRED_NODE_AVAILABLE: SessionEvent.Kind
    KIND_FALLBACK_TO_POOL: SessionEvent.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: SessionEvent.Kind
    utterance_index: int
    node_id: str
    message: str
    def __init__(self, kind: _Optional[_Union[SessionEvent.Kind, str]] = ..., utterance_index: _Optional[int] = ..., node_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ServerMessage(_message.Message):
    __slots__ = ("opened", "asr_partial", "result", "error", "closed", "heartbeat", "tts_chunk", "event")
    OPENED_FIELD_NUMBER: _ClassVar[int]
    ASR_PARTIAL_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    TTS_CHUNK_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    opened: OpenSessionResponse
    asr_partial: _common_pb2.AsrPartial
    result: _common_pb2.TranslationResult
    error: _common_pb2.Error
    closed: CloseSessionResponse
    heartbeat: ServerHeartbeat
    tts_chunk: _common_pb2.TtsChunk
    event: SessionEvent
    def __init__(self, opened: _Optional[_Union[OpenSessionResponse, _Mapping]] = ..., asr_partial: _Optional[_Union[_common_pb2.AsrPartial, _Mapping]] = ..., result: _Optional[_Union[_common_pb2.TranslationResult, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., closed: _Optional[_Union[CloseSessionResponse, _Mapping]] = ..., heartbeat: _Optional[_Union[ServerHeartbeat, _Mapping]] = ..., tts_chunk: _Optional[_Union[_common_pb2.TtsChunk, _Mapping]] = ..., event: _Optional[_Union[SessionEvent, _Mapping]] = ...) -> None: ...

class PushAudioRequest(_message.Message):
    __slots__ = ("utterance", "audio_chunk")
    UTTERANCE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CHUNK_FIELD_NUMBER: _ClassVar[int]
    utterance: Utterance
    audio_chunk: AudioChunk
    def __init__(self, utterance: _Optional[_Union[Utterance, _Mapping]] = ..., audio_chunk: _Optional[_Union[AudioChunk, _Mapping]] = ...) -> None: ...

class PushAudioResponse(_message.Message):
    __slots__ = ("utterance_index", "accepted")
    UTTERANCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    utterance_index: int
    accepted: bool
    def __init__(self, utterance_index: _Optional[int] = ..., accepted: _Optional[bool] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("session_id", "resume_token")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    resume_token: str
    def __init__(self, session_id: _Optional[str] = ..., resume_token: _Optional[str] = ...) -> None: ...

class TranslateRequest(_message.Message):
    __slots__ = ("audio", "src_lang", "tgt_lang", "dialect", "features", "pairing_code", "tenant_id")
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    PAIRING_CODE_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    audio: _common_pb2.Audio
    src_lang: str
    tgt_lang: str
    dialect: str
    features: _common_pb2.Features
    pairing_code: str
    tenant_id: str
    def __init__(self, audio: _Optional[_Union[_common_pb2.Audio, _Mapping]] = ..., src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., dialect: _Optional[str] = ..., features: _Optional[_Union[_common_pb2.Features, _Mapping]] = ..., pairing_code: _Optional[str] = ..., tenant_id: _Optional[str] = ...) -> None: ...

class TranslateResponse(_message.Message):
    __slots__ = ("session_id", "utterance_index", "job_id", "node_id", "text_asr", "text_translated", "tts_audio", "extras", "timings", "src_lang", "tgt_lang", "attempt_id", "detected_lang", "mt_engine", "tier", "pivot_lang")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_ASR_FIELD_NUMBER: _ClassVar[int]
    TEXT_TRANSLATED_FIELD_NUMBER: _ClassVar[int]
    TTS_AUDIO_FIELD_NUMBER: _ClassVar[int]
    EXTRAS_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANG_FIELD_NUMBER: _ClassVar[int]
    MT_ENGINE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    PIVOT_LANG_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    utterance_index: int
    job_id: str
    node_id: str
    text_asr: str
    text_translated: str
    tts_audio: _common_pb2.Audio
    extras: _common_pb2.Extras
    timings: _common_pb2.Timings
    src_lang: str
    tgt_lang: str
    attempt_id: int
    detected_lang: str
    mt_engine: str
    tier: _common_pb2.TranslationTier
    pivot_lang: str
    def __init__(self, session_id: _Optional[str] = ..., utterance_index: _Optional[int] = ..., job_id: _Optional[str] = ..., node_id: _Optional[str] = ..., text_asr: _Optional[str] = ..., text_translated: _Optional[str] = ..., tts_audio: _Optional[_Union[_common_pb2.Audio, _Mapping]] = ..., extras: _Optional[_Union[_common_pb2.Extras, _Mapping]] = ..., timings: _Optional[_Union[_common_pb2.Timings, _Mapping]] = ..., src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., attempt_id: _Optional[int] = ..., detected_lang: _Optional[str] = ..., mt_engine: _Optional[str] = ..., tier: _Optional[_Union[_common_pb2.TranslationTier, str]] = ..., pivot_lang: _Optional[str] = ...) -> None: ...

class ListLanguagesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LanguageOffer(_message.Message):
    __slots__ = ("src_lang", "tgt_lang", "tier", "engine", "voice", "pivot_lang", "voice_quality", "nodes", "two_way")
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    PIVOT_LANG_FIELD_NUMBER: _ClassVar[int]
    VOICE_QUALITY_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    TWO_WAY_FIELD_NUMBER: _ClassVar[int]
    src_lang: str
    tgt_lang: str
    tier: _common_pb2.TranslationTier
    engine: str
    voice: str
    pivot_lang: str
    voice_quality: str
    nodes: int
    two_way: bool
    def __init__(self, src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., tier: _Optional[_Union[_common_pb2.TranslationTier, str]] = ..., engine: _Optional[str] = ..., voice: _Optional[str] = ..., pivot_lang: _Optional[str] = ..., voice_quality: _Optional[str] = ..., nodes: _Optional[int] = ..., two_way: _Optional[bool] = ...) -> None: ...

class ListLanguagesResponse(_message.Message):
    __slots__ = ("pairs", "detectable_languages")
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    DETECTABLE_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    pairs: _containers.RepeatedCompositeFieldContainer[LanguageOffer]
    detectable_languages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, pairs: _Optional[_Iterable[_Union[LanguageOffer, _Mapping]]] = ..., detectable_languages: _Optional[_Iterable[str]] = ...) -> None: ...
