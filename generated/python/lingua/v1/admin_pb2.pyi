from lingua.v1 import common_pb2 as _common_pb2
from lingua.v1 import node_pb2 as _node_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeInfo(_message.Message):
    __slots__ = ("node_id", "state", "state_reason", "version", "platform", "hardware", "installed_models", "features_supported", "max_concurrent_jobs", "reserved_jobs", "resource_usage", "last_heartbeat_unix_ms", "connected_since_unix_ms", "accept_public_jobs", "asr_languages", "mt_pairs", "tts_languages", "jobs_completed", "jobs_failed", "seconds_per_audio_second", "display_name", "tts_cross_lingual_languages")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    INSTALLED_MODELS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_JOBS_FIELD_NUMBER: _ClassVar[int]
    RESERVED_JOBS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_USAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_SINCE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_PUBLIC_JOBS_FIELD_NUMBER: _ClassVar[int]
    ASR_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    MT_PAIRS_FIELD_NUMBER: _ClassVar[int]
    TTS_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    JOBS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    JOBS_FAILED_FIELD_NUMBER: _ClassVar[int]
    SECONDS_PER_AUDIO_SECOND_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    TTS_CROSS_LINGUAL_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    state: _node_pb2.NodeState
    state_reason: str
    version: str
    platform: str
    hardware: _node_pb2.Hardware
    installed_models: _containers.RepeatedCompositeFieldContainer[_node_pb2.InstalledModel]
    features_supported: _common_pb2.Features
    max_concurrent_jobs: int
    reserved_jobs: int
    resource_usage: _node_pb2.ResourceUsage
    last_heartbeat_unix_ms: int
    connected_since_unix_ms: int
    accept_public_jobs: bool
    asr_languages: _containers.RepeatedScalarFieldContainer[str]
    mt_pairs: _containers.RepeatedCompositeFieldContainer[_common_pb2.LanguagePair]
    tts_languages: _containers.RepeatedScalarFieldContainer[str]
    jobs_completed: int
    jobs_failed: int
    seconds_per_audio_second: float
    display_name: str
    tts_cross_lingual_languages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node_id: _Optional[str] = ..., state: _Optional[_Union[_node_pb2.NodeState, str]] = ..., state_reason: _Optional[str] = ..., version: _Optional[str] = ..., platform: _Optional[str] = ..., hardware: _Optional[_Union[_node_pb2.Hardware, _Mapping]] = ..., installed_models: _Optional[_Iterable[_Union[_node_pb2.InstalledModel, _Mapping]]] = ..., features_supported: _Optional[_Union[_common_pb2.Features, _Mapping]] = ..., max_concurrent_jobs: _Optional[int] = ..., reserved_jobs: _Optional[int] = ..., resource_usage: _Optional[_Union[_node_pb2.ResourceUsage, _Mapping]] = ..., last_heartbeat_unix_ms: _Optional[int] = ..., connected_since_unix_ms: _Optional[int] = ..., accept_public_jobs: _Optional[bool] = ..., asr_languages: _Optional[_Iterable[str]] = ..., mt_pairs: _Optional[_Iterable[_Union[_common_pb2.LanguagePair, _Mapping]]] = ..., tts_languages: _Optional[_Iterable[str]] = ..., jobs_completed: _Optional[int] = ..., jobs_failed: _Optional[int] = ..., seconds_per_audio_second: _Optional[float] = ..., display_name: _Optional[str] = ..., tts_cross_lingual_languages: _Optional[_Iterable[str]] = ...) -> None: ...

class ListNodesRequest(_message.Message):
    __slots__ = ("states", "src_lang", "tgt_lang")
    STATES_FIELD_NUMBER: _ClassVar[int]
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[_node_pb2.NodeState]
    src_lang: str
    tgt_lang: str
    def __init__(self, states: _Optional[_Iterable[_Union[_node_pb2.NodeState, str]]] = ..., src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ...) -> None: ...

class ListNodesResponse(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeInfo]
    def __init__(self, nodes: _Optional[_Iterable[_Union[NodeInfo, _Mapping]]] = ...) -> None: ...

class GetNodeRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class GetNodeResponse(_message.Message):
    __slots__ = ("node",)
    NODE_FIELD_NUMBER: _ClassVar[int]
    node: NodeInfo
    def __init__(self, node: _Optional[_Union[NodeInfo, _Mapping]] = ...) -> None: ...

class DrainNodeRequest(_message.Message):
    __slots__ = ("node_id", "reason")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    reason: str
    def __init__(self, node_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DrainNodeResponse(_message.Message):
    __slots__ = ("node",)
    NODE_FIELD_NUMBER: _ClassVar[int]
    node: NodeInfo
    def __init__(self, node: _Optional[_Union[NodeInfo, _Mapping]] = ...) -> None: ...

class SessionInfo(_message.Message):
    __slots__ = ("session_id", "tenant_id", "src_lang", "tgt_lang", "paired_node_id", "created_unix_ms", "utterances_received", "results_delivered", "errors_delivered", "pending", "platform")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    PAIRED_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    UTTERANCES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    RESULTS_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    tenant_id: str
    src_lang: str
    tgt_lang: str
    paired_node_id: str
    created_unix_ms: int
    utterances_received: int
    results_delivered: int
    errors_delivered: int
    pending: int
    platform: str
    def __init__(self, session_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., paired_node_id: _Optional[str] = ..., created_unix_ms: _Optional[int] = ..., utterances_received: _Optional[int] = ..., results_delivered: _Optional[int] = ..., errors_delivered: _Optional[int] = ..., pending: _Optional[int] = ..., platform: _Optional[str] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions",)
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[SessionInfo]
    def __init__(self, sessions: _Optional[_Iterable[_Union[SessionInfo, _Mapping]]] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("nodes_total", "nodes_by_state", "sessions_active", "jobs_dispatched", "jobs_completed", "jobs_failed", "jobs_in_flight", "queue_depth", "dispatch_latency_p50_ms", "dispatch_latency_p99_ms", "uptime_s", "jobs_redispatched", "results_timed_out", "pairing_codes_live", "jobs_stale_results", "dispatch_latency_p90_ms")
    class NodesByStateEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    NODES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    NODES_BY_STATE_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    JOBS_DISPATCHED_FIELD_NUMBER: _ClassVar[int]
    JOBS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    JOBS_FAILED_FIELD_NUMBER: _ClassVar[int]
    JOBS_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_LATENCY_P99_MS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    JOBS_REDISPATCHED_FIELD_NUMBER: _ClassVar[int]
    RESULTS_TIMED_OUT_FIELD_NUMBER: _ClassVar[int]
    PAIRING_CODES_LIVE_FIELD_NUMBER: _ClassVar[int]
    JOBS_STALE_RESULTS_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_LATENCY_P90_MS_FIELD_NUMBER: _ClassVar[int]
    nodes_total: int
    nodes_by_state: _containers.ScalarMap[str, int]
    sessions_active: int
    jobs_dispatched: int
    jobs_completed: int
    jobs_failed: int
    jobs_in_flight: int
    queue_depth: int
    dispatch_latency_p50_ms: float
    dispatch_latency_p99_ms: float
    uptime_s: float
    jobs_redispatched: int
    results_timed_out: int
    pairing_codes_live: int
    jobs_stale_results: int
    dispatch_latency_p90_ms: float
    def __init__(self, nodes_total: _Optional[int] = ..., nodes_by_state: _Optional[_Mapping[str, int]] = ..., sessions_active: _Optional[int] = ..., jobs_dispatched: _Optional[int] = ..., jobs_completed: _Optional[int] = ..., jobs_failed: _Optional[int] = ..., jobs_in_flight: _Optional[int] = ..., queue_depth: _Optional[int] = ..., dispatch_latency_p50_ms: _Optional[float] = ..., dispatch_latency_p99_ms: _Optional[float] = ..., uptime_s: _Optional[float] = ..., jobs_redispatched: _Optional[int] = ..., results_timed_out: _Optional[int] = ..., pairing_codes_live: _Optional[int] = ..., jobs_stale_results: _Optional[int] = ..., dispatch_latency_p90_ms: _Optional[float] = ...) -> None: ...

class ExplainDispatchRequest(_message.Message):
    __slots__ = ("src_lang", "tgt_lang", "dialect", "features", "tenant_id", "paired_node_id")
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAIRED_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    src_lang: str
    tgt_lang: str
    dialect: str
    features: _common_pb2.Features
    tenant_id: str
    paired_node_id: str
    def __init__(self, src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., dialect: _Optional[str] = ..., features: _Optional[_Union[_common_pb2.Features, _Mapping]] = ..., tenant_id: _Optional[str] = ..., paired_node_id: _Optional[str] = ...) -> None: ...

class CandidateScore(_message.Message):
    __slots__ = ("node_id", "score", "terms", "tier", "engine", "pivot_lang")
    class TermsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    PIVOT_LANG_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    score: float
    terms: _containers.ScalarMap[str, float]
    tier: _common_pb2.TranslationTier
    engine: str
    pivot_lang: str
    def __init__(self, node_id: _Optional[str] = ..., score: _Optional[float] = ..., terms: _Optional[_Mapping[str, float]] = ..., tier: _Optional[_Union[_common_pb2.TranslationTier, str]] = ..., engine: _Optional[str] = ..., pivot_lang: _Optional[str] = ...) -> None: ...

class ExcludedNode(_message.Message):
    __slots__ = ("node_id", "reasons")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node_id: _Optional[str] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class PoolStep(_message.Message):
    __slots__ = ("pool_id", "nodes", "free_slots", "reason", "node_id")
    POOL_ID_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    FREE_SLOTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    pool_id: str
    nodes: int
    free_slots: int
    reason: str
    node_id: str
    def __init__(self, pool_id: _Optional[str] = ..., nodes: _Optional[int] = ..., free_slots: _Optional[int] = ..., reason: _Optional[str] = ..., node_id: _Optional[str] = ...) -> None: ...

class ExplainDispatchResponse(_message.Message):
    __slots__ = ("chosen_node_id", "strategy", "candidates", "excluded", "pool_mode", "pools")
    CHOSEN_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_FIELD_NUMBER: _ClassVar[int]
    POOL_MODE_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    chosen_node_id: str
    strategy: str
    candidates: _containers.RepeatedCompositeFieldContainer[CandidateScore]
    excluded: _containers.RepeatedCompositeFieldContainer[ExcludedNode]
    pool_mode: str
    pools: _containers.RepeatedCompositeFieldContainer[PoolStep]
    def __init__(self, chosen_node_id: _Optional[str] = ..., strategy: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[CandidateScore, _Mapping]]] = ..., excluded: _Optional[_Iterable[_Union[ExcludedNode, _Mapping]]] = ..., pool_mode: _Optional[str] = ..., pools: _Optional[_Iterable[_Union[PoolStep, _Mapping]]] = ...) -> None: ...

class InstallModelRequest(_message.Message):
    __slots__ = ("node_id", "model_id", "version", "wait", "timeout_ms")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    model_id: str
    version: str
    wait: bool
    timeout_ms: int
    def __init__(self, node_id: _Optional[str] = ..., model_id: _Optional[str] = ..., version: _Optional[str] = ..., wait: _Optional[bool] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class InstallModelResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _node_pb2.ModelInstallStatus
    def __init__(self, status: _Optional[_Union[_node_pb2.ModelInstallStatus, _Mapping]] = ...) -> None: ...
