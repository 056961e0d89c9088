"""SessionService over grpc-web: `POST /lingua.v1.SessionService/<Method>` from browsers.

grpc-web has no client streaming, so a browser session is the scheduler's unary + server-streaming split:
OpenSession, PushAudio, Subscribe (server stream), CloseSession, plus one-shot Translate and ListLanguages.
Converse (bidi) answers UNIMPLEMENTED. Every outcome, errors included, is HTTP 200 with a trailers frame, which is what
grpc-web clients (connect-web, grpc-web) read; CORS is the app's middleware.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway import metrics
from gateway.access import Principal
from gateway.frontdoor import FrontDoor
from gateway.grpcweb import Status, WireFormat, frame, grpc_timeout, single_message, trailers_frame
from gateway.http_errors import bearer_token, retry_after_header
from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import LinguaError, code_name

DOOR = "grpc_web"
SERVICE = "lingua.v1.SessionService"

Unary = Callable[[FrontDoor, Principal, Any, float | None], Awaitable[Message]]


def _unary() -> dict[str, tuple[type[Message], Unary]]:
    return {
        "OpenSession": (session_pb2.OpenSessionRequest, lambda d, w, r, t: d.open_session(w, r, t)),
        "PushAudio": (session_pb2.PushAudioRequest, lambda d, w, r, t: d.push_audio(w, r, t)),
        "CloseSession": (session_pb2.CloseSessionRequest, lambda d, w, r, t: d.close_session(w, r, t)),
        "Translate": (session_pb2.TranslateRequest, lambda d, w, r, t: d.translate(w, r, t)),
        "ListLanguages": (session_pb2.ListLanguagesRequest, lambda d, w, r, t: d.list_languages(w, r, t)),
    }


UNARY = _unary()


async def _read_body(request: Request, max_bytes: int) -> bytes:
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > max_bytes:
            raise LinguaError(common_pb2.PAYLOAD_TOO_LARGE, f"request is over the {max_bytes}-byte limit")
    return bytes(body)


def _parse(kind: type[Message], payload: bytes) -> Any:
    message = kind()
    try:
        message.ParseFromString(payload)
    except DecodeError as exc:
        raise LinguaError(common_pb2.INVALID_MESSAGE, f"request is not a valid {kind.__name__}: {exc}") from None
    return message


def _reply(fmt: WireFormat, frames: bytes, status: Status) -> Response:
    """A unary answer: its frames and trailers encoded as one body (-text: one base64 run, no inner padding)."""
    headers = {"grpc-accept-encoding": "identity"}
    if status.error is not None:
        headers.update(retry_after_header(status.error.retry_after_ms))
    return Response(fmt.encode(frames + trailers_frame(status)), media_type=fmt.content_type, headers=headers)


async def grpc_web_endpoint(request: Request, door: FrontDoor, max_bytes: int, client: str = "") -> Response:
    method = request.path_params["method"]
    started = time.perf_counter()
    try:
        fmt = WireFormat.from_content_type(request.headers.get("content-type", ""))
    except LinguaError as exc:
        return Response(exc.message, status_code=415, media_type="text/plain")
    timeout = grpc_timeout(request.headers.get("grpc-timeout"))
    try:
        who = await door.authorize(bearer_token(request.headers.get("authorization")), client)  # before the body
        payload = single_message(fmt.decode_body(await _read_body(request, max_bytes)))
        if method == "Subscribe":
            stream = door.subscribe(who, _parse(session_pb2.SubscribeRequest, payload), timeout)
            return StreamingResponse(_stream_frames(fmt, stream), media_type=fmt.content_type,
                                     headers={"grpc-accept-encoding": "identity"})
        if method not in UNARY:
            metrics.REQUESTS.labels(DOOR, "UNIMPLEMENTED").inc()
            return _reply(fmt, b"", Status(grpc.StatusCode.UNIMPLEMENTED,
                                           f"{SERVICE}/{method} is not available over grpc-web "
                                           "(Converse is bidi: use OpenSession/PushAudio/Subscribe/CloseSession)"))
        kind, call = UNARY[method]
        response = await call(door, who, _parse(kind, payload), timeout)
    except LinguaError as exc:
        metrics.REQUESTS.labels(DOOR, code_name(exc.code)).inc()
        return _reply(fmt, b"", Status.of(exc.to_proto()))
    metrics.REQUESTS.labels(DOOR, "OK").inc()
    metrics.LATENCY.labels(DOOR).observe(time.perf_counter() - started)
    return _reply(fmt, frame(response.SerializeToString()), Status())


async def _stream_frames(fmt: WireFormat,
                         stream: AsyncGenerator[session_pb2.ServerMessage, None]) -> AsyncIterator[bytes]:
    """Subscribe: one data frame per scheduler message, then the trailers (an error if it failed)."""
    status = Status()
    metrics.SESSIONS.labels(DOOR).inc()
    try:
        async with contextlib.aclosing(stream):  # the tab went away: end the upstream Subscribe now
            async for msg in stream:
                yield fmt.encode(frame(msg.SerializeToString()))
    except LinguaError as exc:
        status = Status.of(exc.to_proto())
    finally:
        metrics.SESSIONS.labels(DOOR).dec()
    metrics.REQUESTS.labels(DOOR, "OK" if status.error is None else code_name(status.error.code)).inc()
    yield fmt.encode(trailers_frame(status))
