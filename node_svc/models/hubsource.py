"""What the installer needs from the hub (a model's catalog entry, a file's bytes from an offset), over gRPC,
and which hub failures are worth retrying."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import grpc

from lingua.v1 import common_pb2, hub_pb2, hub_pb2_grpc
from lingua_common.errors import LinguaError, error_from_rpc
from lingua_common.grpc_server import channel_options

# Failures of the network or of a busy hub, not of the request: worth another try.
TRANSIENT_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                             grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED})
# UNKNOWN/INTERNAL statuses that describe a broken connection rather than a server-side error.
_BROKEN_STREAM = ("rst_stream", "stream removed", "connection reset", "socket closed", "broken pipe",
                  "connection refused", "end of stream", "goaway")


class DownloadStream(Protocol):
    def __iter__(self) -> Iterator[hub_pb2.DownloadFileResponse]: ...

    def cancel(self) -> bool: ...


class HubApi(Protocol):
    def get_model(self, model_id: str) -> hub_pb2.Model: ...

    def download(self, model_id: str, version: str, path: str, offset: int) -> DownloadStream: ...

    def close(self) -> None: ...


class HubSource:
    """A gRPC channel to the hub. Each instance has its own subchannel, so a fresh one reconnects at once
    instead of waiting out the backoff of a channel that saw the hub down."""

    def __init__(self, address: str, token: str = "", timeout_s: float = 30.0) -> None:
        options = [*channel_options(), ("grpc.use_local_subchannel_pool", 1)]
        self._channel = grpc.insecure_channel(address, options=options)
        self._stub = hub_pb2_grpc.ModelHubStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.address, self.timeout_s = address, timeout_s

    def get_model(self, model_id: str) -> hub_pb2.Model:
        response: hub_pb2.GetModelResponse = self._stub.GetModel(
            hub_pb2.GetModelRequest(model_id=model_id), metadata=self._metadata, timeout=self.timeout_s)
        return response.model

    def download(self, model_id: str, version: str, path: str, offset: int) -> DownloadStream:
        # No deadline: a big file takes as long as it takes; the installer cancels a stalled stream itself.
        stream: DownloadStream = self._stub.DownloadFile(
            hub_pb2.DownloadFileRequest(model_id=model_id, version=version, path=path, offset=offset),
            metadata=self._metadata)
        return stream

    def close(self) -> None:
        self._channel.close()


def is_transient(exc: BaseException) -> bool:
    if not isinstance(exc, grpc.RpcError) or not callable(getattr(exc, "code", None)):
        return isinstance(exc, ConnectionError)
    code = exc.code()
    if code in TRANSIENT_CODES:
        return True
    if code in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL):
        details = (exc.details() if callable(getattr(exc, "details", None)) else str(exc)) or ""
        return any(marker in details.lower() for marker in _BROKEN_STREAM)
    return False


def lingua_error(exc: grpc.RpcError, what: str) -> LinguaError:
    """The hub's failure as a LinguaError; a missing model, version or file, or an unreachable hub, is
    MODEL_NOT_AVAILABLE."""
    try:
        err = error_from_rpc(exc)
        code, message = err.code, err.message
    except Exception:  # an RpcError without status metadata
        code = common_pb2.INTERNAL
        message = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
    status = exc.code() if callable(getattr(exc, "code", None)) else None
    if code == common_pb2.NOT_FOUND or status == grpc.StatusCode.NOT_FOUND:
        code = common_pb2.MODEL_NOT_AVAILABLE
    elif status == grpc.StatusCode.PERMISSION_DENIED and code == common_pb2.INTERNAL:
        code = common_pb2.PERMISSION_DENIED
    elif is_transient(exc):
        code = common_pb2.MODEL_NOT_AVAILABLE  # the hub cannot be reached (retries are the caller's)
    return LinguaError(code, f"{what}: {message}")
