"""LinguaError → HTTP: status code, Retry-After, and the JSON error body of the REST API."""

from __future__ import annotations

import math

from starlette.responses import JSONResponse

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError, code_name

_HTTP_STATUS: dict[int, int] = {
    common_pb2.INVALID_MESSAGE: 400,
    common_pb2.INVALID_AUDIO: 400,
    common_pb2.UNSUPPORTED_LANGUAGE: 400,
    common_pb2.UNSUPPORTED_FEATURE: 400,
    common_pb2.INVALID_PAIRING_CODE: 400,
    common_pb2.UNAUTHENTICATED: 401,
    common_pb2.QUOTA_EXCEEDED: 403,
    common_pb2.PERMISSION_DENIED: 403,
    common_pb2.INVALID_SESSION: 404,
    common_pb2.NOT_FOUND: 404,
    common_pb2.SESSION_CLOSED: 409,
    common_pb2.PAYLOAD_TOO_LARGE: 413,
    common_pb2.RATE_LIMITED: 429,
    common_pb2.MODEL_NOT_AVAILABLE: 503,
    common_pb2.NO_AVAILABLE_NODE: 503,
    common_pb2.NODE_OVERLOADED: 503,
    common_pb2.NODE_UNAVAILABLE: 503,
    common_pb2.JOB_TIMEOUT: 504,
    common_pb2.RESULT_TIMEOUT: 504,
}


def http_status(code: int) -> int:
    return _HTTP_STATUS.get(code, 500)


def retry_after_header(retry_after_ms: int) -> dict[str, str]:
    """Retry-After is whole seconds; round up so a client that obeys it is admitted."""
    return {"Retry-After": str(max(1, math.ceil(retry_after_ms / 1000)))} if retry_after_ms else {}


def error_body(code: int, message: str, retry_after_ms: int = 0) -> dict[str, object]:
    body: dict[str, object] = {"code": code_name(code), "message": message}
    if retry_after_ms:
        body["retry_after_ms"] = retry_after_ms
    return {"error": body}


def error_response(exc: LinguaError) -> JSONResponse:
    return JSONResponse(error_body(exc.code, exc.message, exc.retry_after_ms), status_code=http_status(exc.code),
                        headers=retry_after_header(exc.retry_after_ms))


def bearer_token(header: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header (None when absent or another scheme)."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
