from lingua.v1 import common_pb2 as _common_pb2
from lingua.v1 import node_pb2 as _node_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VersionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERSION_STATUS_UNSPECIFIED: _ClassVar[VersionStatus]
    VERSION_STATUS_STABLE: _ClassVar[VersionStatus]
    VERSION_STATUS_BETA: _ClassVar[VersionStatus]
    VERSION_STATUS_DEPRECATED: _ClassVar[VersionStatus]
VERSION_STATUS_UNSPECIFIED: VersionStatus
VERSION_STATUS_STABLE: VersionStatus
VERSION_STATUS_BETA: VersionStatus
VERSION_STATUS_DEPRECATED: VersionStatus

class ModelFile(_message.Message):
    __slots__ = ("path", "size", "sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    size: int
    sha256: str
    def __init__(self, path: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class ModelVersion(_message.Message):
    __slots__ = ("version", "status", "created_unix_ms", "files", "total_size", "manifest", "manifest_signature", "signing_key_id")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    version: str
    status: VersionStatus
    created_unix_ms: int
    files: _containers.RepeatedCompositeFieldContainer[ModelFile]
    total_size: int
    manifest: bytes
    manifest_signature: bytes
    signing_key_id: str
    def __init__(self, version: _Optional[str] = ..., status: _Optional[_Union[VersionStatus, str]] = ..., created_unix_ms: _Optional[int] = ..., files: _Optional[_Iterable[_Union[ModelFile, _Mapping]]] = ..., total_size: _Optional[int] = ..., manifest: _Optional[bytes] = ..., manifest_signature: _Optional[bytes] = ..., signing_key_id: _Optional[str] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("model_id", "kind", "languages", "pairs", "dialect", "license", "description", "versions", "engine")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    kind: _node_pb2.ModelKind
    languages: _containers.RepeatedScalarFieldContainer[str]
    pairs: _containers.RepeatedCompositeFieldContainer[_common_pb2.LanguagePair]
    dialect: str
    license: str
    description: str
    versions: _containers.RepeatedCompositeFieldContainer[ModelVersion]
    engine: str
    def __init__(self, model_id: _Optional[str] = ..., kind: _Optional[_Union[_node_pb2.ModelKind, str]] = ..., languages: _Optional[_Iterable[str]] = ..., pairs: _Optional[_Iterable[_Union[_common_pb2.LanguagePair, _Mapping]]] = ..., dialect: _Optional[str] = ..., license: _Optional[str] = ..., description: _Optional[str] = ..., versions: _Optional[_Iterable[_Union[ModelVersion, _Mapping]]] = ..., engine: _Optional[str] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("kind", "language", "src_lang", "tgt_lang", "include_deprecated")
    KIND_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SRC_LANG_FIELD_NUMBER: _ClassVar[int]
    TGT_LANG_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DEPRECATED_FIELD_NUMBER: _ClassVar[int]
    kind: _node_pb2.ModelKind
    language: str
    src_lang: str
    tgt_lang: str
    include_deprecated: bool
    def __init__(self, kind: _Optional[_Union[_node_pb2.ModelKind, str]] = ..., language: _Optional[str] = ..., src_lang: _Optional[str] = ..., tgt_lang: _Optional[str] = ..., include_deprecated: _Optional[bool] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class DownloadFileRequest(_message.Message):
    __slots__ = ("model_id", "version", "path", "offset", "chunk_size")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    version: str
    path: str
    offset: int
    chunk_size: int
    def __init__(self, model_id: _Optional[str] = ..., version: _Optional[str] = ..., path: _Optional[str] = ..., offset: _Optional[int] = ..., chunk_size: _Optional[int] = ...) -> None: ...

class DownloadFileResponse(_message.Message):
    __slots__ = ("data", "offset", "total_size", "sha256")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    offset: int
    total_size: int
    sha256: str
    def __init__(self, data: _Optional[bytes] = ..., offset: _Optional[int] = ..., total_size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class PublishMetadata(_message.Message):
    __slots__ = ("model", "version", "status", "files")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    model: Model
    version: str
    status: VersionStatus
    files: _containers.RepeatedCompositeFieldContainer[ModelFile]
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ..., version: _Optional[str] = ..., status: _Optional[_Union[VersionStatus, str]] = ..., files: _Optional[_Iterable[_Union[ModelFile, _Mapping]]] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("path", "offset", "data")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    path: str
    offset: int
    data: bytes
    def __init__(self, path: _Optional[str] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class PublishModelRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: PublishMetadata
    chunk: FileChunk
    def __init__(self, metadata: _Optional[_Union[PublishMetadata, _Mapping]] = ..., chunk: _Optional[_Union[FileChunk, _Mapping]] = ...) -> None: ...

class PublishModelResponse(_message.Message):
    __slots__ = ("model_id", "version", "total_size")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    version: str
    total_size: int
    def __init__(self, model_id: _Optional[str] = ..., version: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class DeprecateVersionRequest(_message.Message):
    __slots__ = ("model_id", "version", "reason")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    version: str
    reason: str
    def __init__(self, model_id: _Optional[str] = ..., version: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DeprecateVersionResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...
