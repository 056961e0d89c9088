from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_CODE_UNSPECIFIED: _ClassVar[ErrorCode]
    INVALID_MESSAGE: _ClassVar[ErrorCode]
    INVALID_SESSION: _ClassVar[ErrorCode]
    INVALID_AUDIO: _ClassVar[ErrorCode]
    UNSUPPORTED_LANGUAGE: _ClassVar[ErrorCode]
    UNSUPPORTED_FEATURE: _ClassVar[ErrorCode]
    INVALID_PAIRING_CODE: _ClassVar[ErrorCode]
    NO_AVAILABLE_NODE: _ClassVar[ErrorCode]
    NODE_OVERLOADED: _ClassVar[ErrorCode]
    MODEL_NOT_AVAILABLE: _ClassVar[ErrorCode]
    JOB_TIMEOUT: _ClassVar[ErrorCode]
    RESULT_TIMEOUT: _ClassVar[ErrorCode]
    UNAUTHENTICATED: _ClassVar[ErrorCode]
    RATE_LIMITED: _ClassVar[ErrorCode]
    QUOTA_EXCEEDED: _ClassVar[ErrorCode]
    INTERNAL: _ClassVar[ErrorCode]
    SESSION_CLOSED: _ClassVar[ErrorCode]
    NODE_UNAVAILABLE: _ClassVar[ErrorCode]
    MODEL_LOAD_FAILED: _ClassVar[ErrorCode]
    MODEL_VERIFY_FAILED: _ClassVar[ErrorCode]
    MODEL_CORRUPTED: _ClassVar[ErrorCode]
    PROCESSING_ERROR: _ClassVar[ErrorCode]
    NODE_ID_CONFLICT: _ClassVar[ErrorCode]
    PAYLOAD_TOO_LARGE: _ClassVar[ErrorCode]
    PERMISSION_DENIED: _ClassVar[ErrorCode]
    NOT_FOUND: _ClassVar[ErrorCode]
    ALREADY_EXISTS: _ClassVar[ErrorCode]
    JOB_CANCELLED: _ClassVar[ErrorCode]
    PAIRED_NODE_UNAVAILABLE: _ClassVar[ErrorCode]
    CLIENT_TOO_SLOW: _ClassVar[ErrorCode]

class AudioEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIO_ENCODING_UNSPECIFIED: _ClassVar[AudioEncoding]
    PCM16: _ClassVar[AudioEncoding]
    WAV: _ClassVar[AudioEncoding]
    FLAC: _ClassVar[AudioEncoding]
    OGG_OPUS: _ClassVar[AudioEncoding]
    WEBM_OPUS: _ClassVar[AudioEncoding]
    MP3: _ClassVar[AudioEncoding]

class TranslationTier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSLATION_TIER_UNSPECIFIED: _ClassVar[TranslationTier]
    TRANSLATION_TIER_NEURAL: _ClassVar[TranslationTier]
    TRANSLATION_TIER_RULE_BASED: _ClassVar[TranslationTier]
    TRANSLATION_TIER_PIVOT: _ClassVar[TranslationTier]
    TRANSLATION_TIER_DEMO: _ClassVar[TranslationTier]
ERROR_CODE_UNSPECIFIED: ErrorCode
INVALID_MESSAGE: ErrorCode
INVALID_SESSION: ErrorCode
INVALID_AUDIO: ErrorCode
UNSUPPORTED_LANGUAGE: ErrorCode
UNSUPPORTED_FEATURE: ErrorCode
INVALID_PAIRING_CODE: ErrorCode
NO_AVAILABLE_NODE: ErrorCode
NODE_OVERLOADED: ErrorCode
MODEL_NOT_AVAILABLE: ErrorCode
JOB_TIMEOUT: ErrorCode
RESULT_TIMEOUT: ErrorCode
UNAUTHENTICATED: ErrorCode
RATE_LIMITED: ErrorCode
QUOTA_EXCEEDED: ErrorCode
INTERNAL: ErrorCode
SESSION_CLOSED: ErrorCode
NODE_UNAVAILABLE: ErrorCode
MODEL_LOAD_FAILED: ErrorCode
MODEL_VERIFY_FAILED: ErrorCode
MODEL_CORRUPTED: ErrorCode
PROCESSING_ERROR: ErrorCode
NODE_ID_CONFLICT: ErrorCode
PAYLOAD_TOO_LARGE: ErrorCode
PERMISSION_DENIED: ErrorCode
NOT_FOUND: ErrorCode
ALREADY_EXISTS: ErrorCode
JOB_CANCELLED: ErrorCode
PAIRED_NODE_UNAVAILABLE: ErrorCode
CLIENT_TOO_SLOW: ErrorCode
AUDIO_ENCODING_UNSPECIFIED: AudioEncoding
PCM16: AudioEncoding
WAV: AudioEncoding
FLAC: AudioEncoding
OGG_OPUS: AudioEncoding
WEBM_OPUS: AudioEncoding
MP3: AudioEncoding
TRANSLATION_TIER_UNSPECIFIED: TranslationTier
TRANSLATION_TIER_NEURAL: TranslationTier
TRANSLATION_TIER_RULE_BASED: TranslationTier
TRANSLATION_TIER_PIVOT: TranslationTier
TRANSLATION_TIER_DEMO: TranslationTier

class Audio(_message.Message):
    __slots__ = ("data", "encoding", "sample_rate_hz", "channels")
    DATA_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_HZ_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    encoding: AudioEncoding
    sample_rate_hz: int
    channels: int
    def __init__(self, data: _Optional[bytes] = ..., encoding: _Optional[_Union[AudioEncoding, str]] = ..., sample_rate_hz: _Optional[int] = ..., channels: _Optional[int] = ...) -> None: ...

class Features(_message.Message):
    __slots__ = ("speaker_identification", "voice_cloning", "speech_rate_detection", "speech_rate_control", "emotion_detection", "voice_style_detection", "persona_adaptation")
    SPEAKER_IDENTIFICATION_FIELD_NUMBER: _ClassVar[int]
    VOICE_CLONING_FIELD_NUMBER: _ClassVar[int]
    SPEECH_RATE_DETECTION_FIELD_NUMBER: _ClassVar[int]
    SPEECH_RATE_CONTROL_FIELD_NUMBER: _ClassVar[int]
    EMOTION_DETECTION_FIELD_NUMBER: _ClassVar[int]
    VOICE_STYLE_DETECTION_FIELD_NUMBER: _ClassVar[int]
    PERSONA_ADAPTATION_FIELD_NUMBER: _ClassVar[int]
    speaker_identification: bool
    voice_cloning: bool
    speech_rate_detection: bool
    speech_rate_control: bool
    emotion_detection: bool
    voice_style_detection: bool
    persona_adaptation: bool
    def __init__(self, speaker_identification: _Optional[bool] = ..., voice_cloning: _Optional[bool] = ..., speech_rate_detection: _Optional[bool] = ..., speech_rate_control: _Optional[bool] = ..., emotion_detection: _Optional[bool] = ..., voice_style_detection: _Optional[bool] = ..., persona_adaptation: _Optional[bool] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message", "utterance_index", "retry_after_ms", "details", "session_id", "job_id")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    code: ErrorCode
    message: str
    utterance_index: int
    retry_after_ms: int
    details: _containers.ScalarMap[str, str]
    session_id: str
    job_id: str
    def __init__(self, code: _Optional[_Union[ErrorCode, str]] = ..., message: _Optional[str] = ..., utterance_index: _Optional[int] = ..., retry_after_ms: _Optional[int] = ..., details: _Optional[_Mapping[str, str]] = ..., session_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class Extras(_message.Message):
    __slots__ = ("speaker_id", "speech_rate_wps", "emotion", "voice_style", "tts_voice", "tts_voice_quality", "speech_rate_sps", "persona", "detected_lang", "notes", "arousal", "valence", "speaker_similarity", "tts_length_scale", "module_errors", "mt_unknown_words", "mt_untranslated_words", "mt_generation_gaps", "detected_lang_probability")
    class ModuleErrorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEECH_RATE_WPS_FIELD_NUMBER: _ClassVar[int]
    EMOTION_FIELD_NUMBER: _ClassVar[int]
    VOICE_STYLE_FIELD_NUMBER: _ClassVar[int]
    TTS_VOICE_FIELD_NUMBER: _ClassVar[int]
    TTS_VOICE_QUALITY_FIELD_NUMBER: _ClassVar[int]
    SPEECH_RATE_SPS_FIELD_NUMBER: _ClassVar[int]
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANG_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    AROUSAL_FIELD_NUMBER: _ClassVar[int]
    VALENCE_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    TTS_LENGTH_SCALE_FIELD_NUMBER: _ClassVar[int]
    MODULE_ERRORS_FIELD_NUMBER: _ClassVar[int]
    MT_UNKNOWN_WORDS_FIELD_NUMBER: _ClassVar[int]
    MT_UNTRANSLATED_WORDS_FIELD_NUMBER: _ClassVar[int]
    MT_GENERATION_GAPS_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANG_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    speaker_id: str
    speech_rate_wps: float
    emotion: str
    voice_style: str
    tts_voice: str
    tts_voice_quality: str
    speech_rate_sps: float
    persona: str
    detected_lang: str
    notes: _containers.RepeatedScalarFieldContainer[str]
    arousal: float
    valence: float
    speaker_similarity: float
    tts_length_scale: float
    module_errors: _containers.ScalarMap[str, str]
    mt_unknown_words: int
    mt_untranslated_words: int
    mt_generation_gaps: int
    detected_lang_probability: float
    def __init__(self, speaker_id: _Optional[str] = ..., speech_rate_wps: _Optional[float] = ..., emotion: _Optional[str] = ..., voice_style: _Optional[str] = ..., tts_voice: _Optional[str] = ..., tts_voice_quality: _Optional[str] = ..., speech_rate_sps: _Optional[float] = ..., persona: _Optional[str] = ..., detected_lang: _Optional[str] = ..., notes: _Optional[_Iterable[str]] = ..., arousal: _Optional[float] = ..., valence: _Optional[float] = ..., speaker_similarity: _Optional[float] = ..., tts_length_scale: _Optional[float] = ..., module_errors: _Optional[_Mapping[str, str]] = ..., mt_unknown_words: _Optional[int] = ..., mt_untranslated_words: _Optional[int] = ..., mt_generation_gaps: _Optional[int] = ..., detected_lang_probability: _Optional[float] = ...) -> None: ...

class Persona(_message.Message):
    __slots__ = ("register", "remove_fillers", "mask_profanity", "glossary")
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FILLERS_FIELD_NUMBER: _ClassVar[int]
    MASK_PROFANITY_FIELD_NUMBER: _ClassVar[int]
    GLOSSARY_FIELD_NUMBER: _ClassVar[int]
    register: str
    remove_fillers: bool
    mask_profanity: bool
    glossary: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, register: _Optional[str] = ..., remove_fillers: _Optional[bool] = ..., mask_profanity: _Optional[bool] = ..., glossary: _Optional[_Iterable[str]] = ...) -> None: ...

class KnownSpeaker(_message.Message):
    __slots__ = ("speaker_id", "embedding")
    SPEAKER_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    speaker_id: str
    embedding: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, speaker_id: _Optional[str] = ..., embedding: _Optional[_Iterable[float]] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("queue_ms", "asr_ms", "mt_ms", "tts_ms", "total_ms", "vad_ms", "node_ms")
    QUEUE_MS_FIELD_NUMBER: _ClassVar[int]
    ASR_MS_FIELD_NUMBER: _ClassVar[int]
    MT_MS_FIELD_NUMBER: _ClassVar[int]
    TTS_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    VAD_MS_FIELD_NUMBER: _ClassVar[int]
    NODE_MS_FIELD_NUMBER: _ClassVar[int]
    queue_ms: float
    asr_ms: float
    mt_ms: float
    tts_ms: float
    total_ms: float
    vad_ms: float
    node_ms: float
    def __init__(self, queue_ms: _Optional[float] = ..., asr_ms: _Optional[float] = ..., mt_ms: _Optional[float] = ..., tts_ms: _Optional[float] = ..., total_ms: _Optional[float] = ..., vad_ms: _Optional[float] = ..., node_ms: _Optional[float] = ...) -> None: ...

class TranslationResult(_message.Message):
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
    tts_audio: Audio
    extras: Extras
    timings: Timings
    src_lang: str
    tgt_lang: str
    attempt_id: int
    detected_lang: str
    mt_engine: str
    tier: TranslationTier
    pivot_lang: str
    def __init__(self, session_id: _Optional[str] = ..., utterance_index: _Optional[int] = ..., job_id: _Optional[str] = ..., node_id: _Optional[str] = ..., text_asr: _Optional[str] = ..., text_translated: _Optional[str] = ..., tts_audio: _Optional[_Union[Audio, _Mapping]] = ..., extras: _Optional[_Union[Extras, _Mapping]] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ..., src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., attempt_id: _Optional[int] = ..., detected_lang: _Optional[str] = ..., mt_engine: _Optional[str] = ..., tier: _Optional[_Union[TranslationTier, str]] = ..., pivot_lang: _Optional[str] = ...) -> None: ...

class AsrPartial(_message.Message):
    __slots__ = ("session_id", "utterance_index", "text", "is_final", "job_id", "attempt_id")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    utterance_index: int
    text: str
    is_final: bool
    job_id: str
    attempt_id: int
    def __init__(self, session_id: _Optional[str] = ..., utterance_index: _Optional[int] = ..., text: _Optional[str] = ..., is_final: _Optional[bool] = ..., job_id: _Optional[str] = ..., attempt_id: _Optional[int] = ...) -> None: ...

class TtsChunk(_message.Message):
    __slots__ = ("session_id", "utterance_index", "job_id", "attempt_id", "seq", "audio", "text")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    utterance_index: int
    job_id: str
    attempt_id: int
    seq: int
    audio: Audio
    text: str
    def __init__(self, session_id: _Optional[str] = ..., utterance_index: _Optional[int] = ..., job_id: _Optional[str] = ..., attempt_id: _Optional[int] = ..., seq: _Optional[int] = ..., audio: _Optional[_Union[Audio, _Mapping]] = ..., text: _Optional[str] = ...) -> None: ...

class LanguagePair(_message.Message):
    __slots__ = ("src_lang", "tgt_lang", "tier", "engine", "pivot_lang")
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    PIVOT_LANG_FIELD_NUMBER: _ClassVar[int]
    src_lang: str
    tgt_lang: str
    tier: TranslationTier
    engine: str
    pivot_lang: str
    def __init__(self, src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., tier: _Optional[_Union[TranslationTier, str]] = ..., engine: _Optional[str] = ..., pivot_lang: _Optional[str] = ...) -> None: ...
