from lingua.v1 import common_pb2 as _common_pb2
from lingua.v1 import session_pb2 as _session_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_KIND_UNSPECIFIED: _ClassVar[ModelKind]
    MODEL_KIND_ASR: _ClassVar[ModelKind]
    MODEL_KIND_MT: _ClassVar[ModelKind]
    MODEL_KIND_TTS: _ClassVar[ModelKind]
    MODEL_KIND_VAD: _ClassVar[ModelKind]
    MODEL_KIND_SPEAKER: _ClassVar[ModelKind]
    MODEL_KIND_EMOTION: _ClassVar[ModelKind]
    MODEL_KIND_OTHER: _ClassVar[ModelKind]

class ModelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATE_UNSPECIFIED: _ClassVar[ModelState]
    MODEL_STATE_READY: _ClassVar[ModelState]
    MODEL_STATE_LOADING: _ClassVar[ModelState]
    MODEL_STATE_DOWNLOADING: _ClassVar[ModelState]
    MODEL_STATE_NOT_INSTALLED: _ClassVar[ModelState]
    MODEL_STATE_ERROR: _ClassVar[ModelState]

class NodeState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NODE_STATE_UNSPECIFIED: _ClassVar[NodeState]
    NODE_STATE_REGISTERING: _ClassVar[NodeState]
    NODE_STATE_READY: _ClassVar[NodeState]
    NODE_STATE_DEGRADED: _ClassVar[NodeState]
    NODE_STATE_DRAINING: _ClassVar[NodeState]
    NODE_STATE_OFFLINE: _ClassVar[NodeState]
MODEL_KIND_UNSPECIFIED: ModelKind
MODEL_KIND_ASR: ModelKind
MODEL_KIND_MT: ModelKind
MODEL_KIND_TTS: ModelKind
MODEL_KIND_VAD: ModelKind
MODEL_KIND_SPEAKER: ModelKind
MODEL_KIND_EMOTION: ModelKind
MODEL_KIND_OTHER: ModelKind
MODEL_STATE_UNSPECIFIED: ModelState
MODEL_STATE_READY: ModelState
MODEL_STATE_LOADING: ModelState
MODEL_STATE_DOWNLOADING: ModelState
MODEL_STATE_NOT_INSTALLED: ModelState
MODEL_STATE_ERROR: ModelState
NODE_STATE_UNSPECIFIED: NodeState
NODE_STATE_REGISTERING: NodeState
NODE_STATE_READY: NodeState
NODE_STATE_DEGRADED: NodeState
NODE_STATE_DRAINING: NodeState
NODE_STATE_OFFLINE: NodeState

class Gpu(_message.Message):
    __slots__ = ("name", "memory_mb")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    name: str
    memory_mb: int
    def __init__(self, name: _Optional[str] = ..., memory_mb: _Optional[int] = ...) -> None: ...

class Hardware(_message.Message):
    __slots__ = ("cpu_cores", "memory_mb", "gpus")
    CPU_CORES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    cpu_cores: int
    memory_mb: int
    gpus: _containers.RepeatedCompositeFieldContainer[Gpu]
    def __init__(self, cpu_cores: _Optional[int] = ..., memory_mb: _Optional[int] = ..., gpus: _Optional[_Iterable[_Union[Gpu, _Mapping]]] = ...) -> None: ...

class InstalledModel(_message.Message):
    __slots__ = ("model_id", "kind", "languages", "pairs", "dialect", "version", "state", "cross_lingual_languages", "engine")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CROSS_LINGUAL_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    kind: ModelKind
    languages: _containers.RepeatedScalarFieldContainer[str]
    pairs: _containers.RepeatedCompositeFieldContainer[_common_pb2.LanguagePair]
    dialect: str
    version: str
    state: ModelState
    cross_lingual_languages: _containers.RepeatedScalarFieldContainer[str]
    engine: str
    def __init__(self, model_id: _Optional[str] = ..., kind: _Optional[_Union[ModelKind, str]] = ..., languages: _Optional[_Iterable[str]] = ..., pairs: _Optional[_Iterable[_Union[_common_pb2.LanguagePair, _Mapping]]] = ..., dialect: _Optional[str] = ..., version: _Optional[str] = ..., state: _Optional[_Union[ModelState, str]] = ..., cross_lingual_languages: _Optional[_Iterable[str]] = ..., engine: _Optional[str] = ...) -> None: ...

class ResourceUsage(_message.Message):
    __slots__ = ("cpu_percent", "mem_percent", "gpu_percent", "gpu_mem_percent", "running_jobs")
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEM_PERCENT_FIELD_NUMBER: _ClassVar[int]
    GPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    GPU_MEM_PERCENT_FIELD_NUMBER: _ClassVar[int]
    RUNNING_JOBS_FIELD_NUMBER: _ClassVar[int]
    cpu_percent: float
    mem_percent: float
    gpu_percent: float
    gpu_mem_percent: float
    running_jobs: int
    def __init__(self, cpu_percent: _Optional[float] = ..., mem_percent: _Optional[float] = ..., gpu_percent: _Optional[float] = ..., gpu_mem_percent: _Optional[float] = ..., running_jobs: _Optional[int] = ...) -> None: ...

class NodeRegister(_message.Message):
    __slots__ = ("node_id", "version", "platform", "hardware", "installed_models", "features_supported", "max_concurrent_jobs", "accept_public_jobs", "auth_token", "display_name")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    INSTALLED_MODELS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_JOBS_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_PUBLIC_JOBS_FIELD_NUMBER: _ClassVar[int]
    AUTH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    version: str
    platform: str
    hardware: Hardware
    installed_models: _containers.RepeatedCompositeFieldContainer[InstalledModel]
    features_supported: _common_pb2.Features
    max_concurrent_jobs: int
    accept_public_jobs: bool
    auth_token: str
    display_name: str
    def __init__(self, node_id: _Optional[str] = ..., version: _Optional[str] = ..., platform: _Optional[str] = ..., hardware: _Optional[_Union[Hardware, _Mapping]] = ..., installed_models: _Optional[_Iterable[_Union[InstalledModel, _Mapping]]] = ..., features_supported: _Optional[_Union[_common_pb2.Features, _Mapping]] = ..., max_concurrent_jobs: _Optional[int] = ..., accept_public_jobs: _Optional[bool] = ..., auth_token: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class NodeHeartbeat(_message.Message):
    __slots__ = ("resource_usage", "capabilities_changed", "installed_models", "features_supported", "timestamp_ms")
    RESOURCE_USAGE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_CHANGED_FIELD_NUMBER: _ClassVar[int]
    INSTALLED_MODELS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    resource_usage: ResourceUsage
    capabilities_changed: bool
    installed_models: _containers.RepeatedCompositeFieldContainer[InstalledModel]
    features_supported: _common_pb2.Features
    timestamp_ms: int
    def __init__(self, resource_usage: _Optional[_Union[ResourceUsage, _Mapping]] = ..., capabilities_changed: _Optional[bool] = ..., installed_models: _Optional[_Iterable[_Union[InstalledModel, _Mapping]]] = ..., features_supported: _Optional[_Union[_common_pb2.Features, _Mapping]] = ..., timestamp_ms: _Optional[int] = ...) -> None: ...

class JobAck(_message.Message):
    __slots__ = ("job_id", "attempt_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt_id: int
    def __init__(self, job_id: _Optional[str] = ..., attempt_id: _Optional[int] = ...) -> None: ...

class JobStarted(_message.Message):
    __slots__ = ("job_id", "attempt_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt_id: int
    def __init__(self, job_id: _Optional[str] = ..., attempt_id: _Optional[int] = ...) -> None: ...

class JobResult(_message.Message):
    __slots__ = ("job_id", "attempt_id", "success", "result", "error", "processing_ms", "speaker")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_MS_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt_id: int
    success: bool
    result: _common_pb2.TranslationResult
    error: _common_pb2.Error
    processing_ms: float
    speaker: _common_pb2.KnownSpeaker
    def __init__(self, job_id: _Optional[str] = ..., attempt_id: _Optional[int] = ..., success: _Optional[bool] = ..., result: _Optional[_Union[_common_pb2.TranslationResult, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., processing_ms: _Optional[float] = ..., speaker: _Optional[_Union[_common_pb2.KnownSpeaker, _Mapping]] = ...) -> None: ...

class PairingCodeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NodeError(_message.Message):
    __slots__ = ("code", "message", "details")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: _common_pb2.ErrorCode
    message: str
    details: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[_Union[_common_pb2.ErrorCode, str]] = ..., message: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ...) -> None: ...

class NodeDrain(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ModelInstallOrder(_message.Message):
    __slots__ = ("request_id", "model_id", "version")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    model_id: str
    version: str
    def __init__(self, request_id: _Optional[str] = ..., model_id: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ModelInstallStatus(_message.Message):
    __slots__ = ("request_id", "node_id", "model_id", "version", "state", "done_bytes", "total_bytes", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DONE_BYTES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    node_id: str
    model_id: str
    version: str
    state: ModelState
    done_bytes: int
    total_bytes: int
    error: _common_pb2.Error
    def __init__(self, request_id: _Optional[str] = ..., node_id: _Optional[str] = ..., model_id: _Optional[str] = ..., version: _Optional[str] = ..., state: _Optional[_Union[ModelState, str]] = ..., done_bytes: _Optional[int] = ..., total_bytes: _Optional[int] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ...) -> None: ...

class NodeMessage(_message.Message):
    __slots__ = ("register", "heartbeat", "job_ack", "job_started", "asr_partial", "job_result", "pairing_code_request", "node_error", "tts_chunk", "drain", "model_install_status")
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    JOB_ACK_FIELD_NUMBER: _ClassVar[int]
    JOB_STARTED_FIELD_NUMBER: _ClassVar[int]
    ASR_PARTIAL_FIELD_NUMBER: _ClassVar[int]
    JOB_RESULT_FIELD_NUMBER: _ClassVar[int]
    PAIRING_CODE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    NODE_ERROR_FIELD_NUMBER: _ClassVar[int]
    TTS_CHUNK_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    MODEL_INSTALL_STATUS_FIELD_NUMBER: _ClassVar[int]
    register: NodeRegister
    heartbeat: NodeHeartbeat
    job_ack: JobAck
    job_started: JobStarted
    asr_partial: _common_pb2.AsrPartial
    job_result: JobResult
    pairing_code_request: PairingCodeRequest
    node_error: NodeError
    tts_chunk: _common_pb2.TtsChunk
    drain: NodeDrain
    model_install_status: ModelInstallStatus
    def __init__(self, register: _Optional[_Union[NodeRegister, _Mapping]] = ..., heartbeat: _Optional[_Union[NodeHeartbeat, _Mapping]] = ..., job_ack: _Optional[_Union[JobAck, _Mapping]] = ..., job_started: _Optional[_Union[JobStarted, _Mapping]] = ..., asr_partial: _Optional[_Union[_common_pb2.AsrPartial, _Mapping]] = ..., job_result: _Optional[_Union[JobResult, _Mapping]] = ..., pairing_code_request: _Optional[_Union[PairingCodeRequest, _Mapping]] = ..., node_error: _Optional[_Union[NodeError, _Mapping]] = ..., tts_chunk: _Optional[_Union[_common_pb2.TtsChunk, _Mapping]] = ..., drain: _Optional[_Union[NodeDrain, _Mapping]] = ..., model_install_status: _Optional[_Union[ModelInstallStatus, _Mapping]] = ...) -> None: ...

class Registered(_message.Message):
    __slots__ = ("node_id", "heartbeat_interval_ms", "auth_token", "state")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    AUTH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    heartbeat_interval_ms: int
    auth_token: str
    state: NodeState
    def __init__(self, node_id: _Optional[str] = ..., heartbeat_interval_ms: _Optional[int] = ..., auth_token: _Optional[str] = ..., state: _Optional[_Union[NodeState, str]] = ...) -> None: ...

class JobAssign(_message.Message):
    __slots__ = ("job_id", "attempt_id", "session_id", "utterance_index", "src_lang", "tgt_lang", "dialect", "features", "audio", "context_text", "deadline_unix_ms", "streaming_asr", "stream_tts", "mode", "lang_a", "lang_b", "persona", "known_speakers")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_TEXT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    STREAMING_ASR_FIELD_NUMBER: _ClassVar[int]
    STREAM_TTS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    LANG_A_FIELD_NUMBER: _ClassVar[int]
    LANG_B_FIELD_NUMBER: _ClassVar[int]
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    KNOWN_SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt_id: int
    session_id: str
    utterance_index: int
    src_lang: str
    tgt_lang: str
    dialect: str
    features: _common_pb2.Features
    audio: _common_pb2.Audio
    context_text: str
    deadline_unix_ms: int
    streaming_asr: bool
    stream_tts: bool
    mode: _session_pb2.SessionMode
    lang_a: str
    lang_b: str
    persona: _common_pb2.Persona
    known_speakers: _containers.RepeatedCompositeFieldContainer[_common_pb2.KnownSpeaker]
    def __init__(self, job_id: _Optional[str] = ..., attempt_id: _Optional[int] = ..., session_id: _Optional[str] = ..., utterance_index: _Optional[int] = ..., src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., dialect: _Optional[str] = ..., features: _Optional[_Union[_common_pb2.Features, _Mapping]] = ..., audio: _Optional[_Union[_common_pb2.Audio, _Mapping]] = ..., context_text: _Optional[str] = ..., deadline_unix_ms: _Optional[int] = ..., streaming_asr: _Optional[bool] = ..., stream_tts: _Optional[bool] = ..., mode: _Optional[_Union[_session_pb2.SessionMode, str]] = ..., lang_a: _Optional[str] = ..., lang_b: _Optional[str] = ..., persona: _Optional[_Union[_common_pb2.Persona, _Mapping]] = ..., known_speakers: _Optional[_Iterable[_Union[_common_pb2.KnownSpeaker, _Mapping]]] = ...) -> None: ...

class JobCancel(_message.Message):
    __slots__ = ("job_id", "attempt_id", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt_id: int
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., attempt_id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class NodeStatus(_message.Message):
    __slots__ = ("state", "reason")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    state: NodeState
    reason: str
    def __init__(self, state: _Optional[_Union[NodeState, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class PairingCode(_message.Message):
    __slots__ = ("code", "expires_at_unix_ms")
    CODE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    code: str
    expires_at_unix_ms: int
    def __init__(self, code: _Optional[str] = ..., expires_at_unix_ms: _Optional[int] = ...) -> None: ...

class SchedulerMessage(_message.Message):
    __slots__ = ("registered", "job_assign", "job_cancel", "node_status", "pairing_code", "error", "install_model")
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    JOB_ASSIGN_FIELD_NUMBER: _ClassVar[int]
    JOB_CANCEL_FIELD_NUMBER: _ClassVar[int]
    NODE_STATUS_FIELD_NUMBER: _ClassVar[int]
    PAIRING_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    INSTALL_MODEL_FIELD_NUMBER: _ClassVar[int]
    registered: Registered
    job_assign: JobAssign
    job_cancel: JobCancel
    node_status: NodeStatus
    pairing_code: PairingCode
    error: _common_pb2.Error
    install_model: ModelInstallOrder
    def __init__(self, registered: _Optional[_Union[Registered, _Mapping]] = ..., job_assign: _Optional[_Union[JobAssign, _Mapping]] = ..., job_cancel: _Optional[_Union[JobCancel, _Mapping]] = ..., node_status: _Optional[_Union[NodeStatus, _Mapping]] = ..., pairing_code: _Optional[_Union[PairingCode, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., install_model: _Optional[_Union[ModelInstallOrder, _Mapping]] = ...) -> None: ...
