"""REST: `POST /v1/speech/translate` (multipart upload → one translation), `GET /v1/languages` and `GET /v1/whoami`."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway import metrics
from gateway.audio_meter import declared_encoding
from gateway.frontdoor import FrontDoor
from gateway.http_errors import bearer_token, error_response
from gateway.json_codec import encoding_from_name, features_from_json, languages_json, result_json
from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import LinguaError, code_name

DOOR = "rest"


def _field(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise LinguaError(common_pb2.INVALID_MESSAGE, f"multipart field `{name}` must be text, not a file")
    return value.strip() or default


def _too_large(max_bytes: int) -> LinguaError:
    return LinguaError(common_pb2.PAYLOAD_TOO_LARGE, f"upload is over the {max_bytes}-byte limit")


async def _bounded(request: Request, max_bytes: int) -> AsyncGenerator[bytes, None]:
    """The request body as it arrives, cut off with PAYLOAD_TOO_LARGE past max_bytes (chunked uploads
    announce no length; a false Content-Length does not help either)."""
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(max_bytes)
        yield chunk


async def read_form(request: Request, max_bytes: int) -> FormData:
    """The multipart form, parsed while it streams in and kept in memory: the size limit is enforced as the
    bytes arrive, nothing is spooled to disk, and an oversize upload is refused without reading the rest."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise LinguaError(common_pb2.PAYLOAD_TOO_LARGE,
                          f"upload of {declared} bytes is over the {max_bytes}-byte limit")
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise LinguaError(common_pb2.INVALID_MESSAGE, "the body must be multipart/form-data with a file field `audio` "
                          "(plus `src_lang`, `tgt_lang`, optional `features`)")
    parser = MultiPartParser(request.headers, _bounded(request, max_bytes), max_files=1, max_fields=16,
                             max_part_size=64 * 1024)
    parser.spool_max_size = max_bytes + 1  # bounded above: stays in memory
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise LinguaError(common_pb2.INVALID_MESSAGE, f"malformed multipart body: {exc.message}") from None


async def _translate_request(request: Request, max_bytes: int) -> session_pb2.TranslateRequest:
    form = await read_form(request, max_bytes)
    upload = form.get("audio")
    if not isinstance(upload, UploadFile):
        raise LinguaError(common_pb2.INVALID_MESSAGE,
                          "multipart file field `audio` is required (plus `src_lang`, `tgt_lang`, optional `features`)")
    data = await upload.read(max_bytes + 1)
    if not data:
        raise LinguaError(common_pb2.INVALID_AUDIO, "the `audio` file is empty")
    if len(data) > max_bytes:
        raise LinguaError(common_pb2.PAYLOAD_TOO_LARGE, f"audio is over the {max_bytes}-byte limit")
    named = _field(form, "audio_format")  # declared, else the file's Content-Type or name: never the bytes
    encoding = encoding_from_name(named) if named else declared_encoding(upload.filename or "",
                                                                          upload.content_type or "")
    rate_text = _field(form, "sample_rate", "16000")
    if not rate_text.isdigit():
        raise LinguaError(common_pb2.INVALID_MESSAGE, f"sample_rate must be an integer, got {rate_text!r}")
    audio = common_pb2.Audio(data=data, encoding=encoding, channels=1,  # type: ignore[arg-type]
                             sample_rate_hz=int(rate_text) if encoding == common_pb2.PCM16 else 0)
    return session_pb2.TranslateRequest(
        audio=audio, src_lang=_field(form, "src_lang", "en"), tgt_lang=_field(form, "tgt_lang", "en"),
        dialect=_field(form, "dialect"), features=features_from_json(_field(form, "features")),
        pairing_code=_field(form, "pairing_code"))


async def translate(request: Request, door: FrontDoor, max_bytes: int, client: str = "") -> Response:
    started = time.perf_counter()
    try:
        who = await door.authorize(bearer_token(request.headers.get("authorization")), client)
        response = await door.translate(who, await _translate_request(request, max_bytes))
    except LinguaError as exc:
        metrics.REQUESTS.labels(DOOR, code_name(exc.code)).inc()
        return error_response(exc)
    metrics.REQUESTS.labels(DOOR, "OK").inc()
    metrics.LATENCY.labels(DOOR).observe(time.perf_counter() - started)
    return JSONResponse(result_json(response))


async def languages(request: Request, door: FrontDoor, client: str = "") -> Response:
    """The language pairs the mesh serves now (online nodes), with tier, engine and voice."""
    started = time.perf_counter()
    try:
        who = await door.authorize(bearer_token(request.headers.get("authorization")), client)
        response = await door.list_languages(who)
    except LinguaError as exc:
        metrics.REQUESTS.labels(DOOR, code_name(exc.code)).inc()
        return error_response(exc)
    metrics.REQUESTS.labels(DOOR, "OK").inc()
    metrics.LATENCY.labels(DOOR).observe(time.perf_counter() - started)
    return JSONResponse(languages_json(response))


async def whoami(request: Request, door: FrontDoor, client: str = "") -> Response:
    """Which tenant a key belongs to: the smallest authenticated (and rate-limited) request."""
    try:
        who = await door.authorize(bearer_token(request.headers.get("authorization")), client)
    except LinguaError as exc:
        return error_response(exc)
    return JSONResponse({"tenant_id": who.tenant_id, "key_id": who.key_id})
