"""Errors that cross process boundaries: an ErrorCode, a message, an optional retry hint.

On unary RPCs they travel as a gRPC status whose details (grpc-status-details-bin) hold a packed
lingua.v1.Error; on bidi streams they travel in-stream as lingua.v1.Error messages.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

# Shared with the SDK (lingua/rpc.py): re-exported here for the services.
from lingua.rpc import error_from_rpc
from lingua.v1 import common_pb2

__all__ = ["LinguaError", "abort", "code_name", "error_from_rpc", "grpc_status_for", "make_error"]

# How each ErrorCode maps onto a gRPC status code for unary calls.
_GRPC_CODE: dict[int, grpc.StatusCode] = {
    common_pb2.INVALID_MESSAGE: grpc.StatusCode.INVALID_ARGUMENT,
    common_pb2.INVALID_SESSION: grpc.StatusCode.NOT_FOUND,
    common_pb2.INVALID_AUDIO: grpc.StatusCode.INVALID_ARGUMENT,
    common_pb2.UNSUPPORTED_LANGUAGE: grpc.StatusCode.INVALID_ARGUMENT,
    common_pb2.UNSUPPORTED_FEATURE: grpc.StatusCode.INVALID_ARGUMENT,
    common_pb2.INVALID_PAIRING_CODE: grpc.StatusCode.INVALID_ARGUMENT,
    common_pb2.NO_AVAILABLE_NODE: grpc.StatusCode.UNAVAILABLE,
    common_pb2.NODE_OVERLOADED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    common_pb2.MODEL_NOT_AVAILABLE: grpc.StatusCode.FAILED_PRECONDITION,
    common_pb2.JOB_TIMEOUT: grpc.StatusCode.DEADLINE_EXCEEDED,
    common_pb2.RESULT_TIMEOUT: grpc.StatusCode.DEADLINE_EXCEEDED,
    common_pb2.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    common_pb2.RATE_LIMITED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    common_pb2.QUOTA_EXCEEDED: grpc.StatusCode.PERMISSION_DENIED,
    common_pb2.PAYLOAD_TOO_LARGE: grpc.StatusCode.INVALID_ARGUMENT,
    common_pb2.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    common_pb2.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    common_pb2.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    common_pb2.SESSION_CLOSED: grpc.StatusCode.FAILED_PRECONDITION,
    common_pb2.MODEL_VERIFY_FAILED: grpc.StatusCode.DATA_LOSS,
}


class LinguaError(Exception):
    """A failure with a machine-readable code, meant to reach the caller as such."""

    def __init__(self, code: int, message: str, *, retry_after_ms: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms

    def to_proto(self, utterance_index: int | None = None) -> common_pb2.Error:
        err = common_pb2.Error(code=self.code, message=self.message, retry_after_ms=self.retry_after_ms)  # type: ignore[arg-type]
        if utterance_index is not None:
            err.utterance_index = utterance_index
        return err

    def __str__(self) -> str:
        return f"{code_name(self.code)}: {self.message}"


def code_name(code: int) -> str:
    """The ErrorCode's name; a number no name is defined for (a newer or hostile peer) reads as ERROR_CODE_<n>."""
    try:
        return common_pb2.ErrorCode.Name(code)  # type: ignore[arg-type]
    except ValueError:
        return f"ERROR_CODE_{int(code)}"


def make_error(code: int, message: str, *, utterance_index: int | None = None,
               retry_after_ms: int = 0) -> common_pb2.Error:
    return LinguaError(code, message, retry_after_ms=retry_after_ms).to_proto(utterance_index)


def grpc_status_for(code: int) -> grpc.StatusCode:
    return _GRPC_CODE.get(code, grpc.StatusCode.INTERNAL)


async def abort(context: grpc.aio.ServicerContext, error: common_pb2.Error) -> None:  # type: ignore[type-arg]
    """End a unary call with a gRPC status carrying `error` in its details."""
    detail = any_pb2.Any()
    detail.Pack(error)
    status = status_pb2.Status(code=grpc_status_for(error.code).value[0], message=error.message,
                               details=[detail])
    rich = rpc_status.to_status(status)
    await context.abort(rich.code, rich.details, rich.trailing_metadata)
