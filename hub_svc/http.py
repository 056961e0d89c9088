"""The hub over HTTP: catalog as JSON and model files with Range requests (curl, browsers).

Files are looked up in the catalog by (model, version, path) and served from the blob of their sha256:
no client-supplied name ever becomes a filesystem path, and paths with `..`, absolute paths, backslashes
or encoded separators are refused with 400 before any lookup.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import unquote

from google.protobuf import json_format
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from hub_svc.auth import bearer, may_read
from hub_svc.blobs import BlobStore
from hub_svc.catalog import Catalog, check_relative_path
from hub_svc.config import HubSettings
from lingua.v1 import common_pb2, hub_pb2
from lingua_common.errors import LinguaError, code_name

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_STATUS: dict[int, int] = {common_pb2.NOT_FOUND: 404, common_pb2.UNAUTHENTICATED: 401, common_pb2.INVALID_MESSAGE: 400}


def _error(exc: LinguaError) -> JSONResponse:
    return JSONResponse({"code": code_name(exc.code), "message": exc.message}, status_code=_STATUS.get(exc.code, 500))


def build_app(settings: HubSettings, catalog: Catalog, blobs: BlobStore) -> Starlette:
    def check_read(request: Request) -> None:
        may_read(settings.read_token, bearer(request.headers.get("authorization")))

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def list_models(request: Request) -> Response:
        try:
            check_read(request)
            q = request.query_params
            models = catalog.list_models(hub_pb2.ListModelsRequest(
                language=q.get("language", ""), src_lang=q.get("src", ""), tgt_lang=q.get("tgt", ""),
                include_deprecated=q.get("include_deprecated") == "true"))
        except LinguaError as exc:
            return _error(exc)
        return JSONResponse([json_format.MessageToDict(m, preserving_proto_field_name=True) for m in models])

    async def get_model(request: Request) -> Response:
        try:
            check_read(request)
            model = catalog.get(request.path_params["model_id"])
        except LinguaError as exc:
            return _error(exc)
        return JSONResponse(json_format.MessageToDict(model, preserving_proto_field_name=True))

    async def get_file(request: Request) -> Response:
        raw = request.scope.get("raw_path", b"").decode("latin-1")
        path = request.path_params["path"]
        try:
            check_read(request)
            if "%2f" in raw.lower() or "%5c" in raw.lower() or "%2e%2e" in raw.lower():
                raise LinguaError(common_pb2.INVALID_MESSAGE, "encoded separators or dots are not allowed in paths")
            check_relative_path(unquote(path))
            entry = catalog.file(request.path_params["model_id"], request.path_params["version"], path)
        except LinguaError as exc:
            return _error(exc)
        size, headers = entry.size, {"Accept-Ranges": "bytes", "ETag": f'"{entry.sha256}"'}
        start, end = 0, size - 1
        status = 200
        header = request.headers.get("range")
        if header:
            m = _RANGE.match(header.strip())
            first, last = (m.group(1), m.group(2)) if m else ("", "")
            if not m or (not first and not last):
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
            if first:
                start, end = int(first), min(int(last), size - 1) if last else size - 1
            else:  # suffix range: the last N bytes
                start, end = max(0, size - int(last)), size - 1
            if start >= size or start > end:
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(end - start + 1)

        async def body() -> AsyncIterator[bytes]:
            for data in blobs.read(entry.sha256, start, end - start + 1):
                yield data

        return StreamingResponse(body(), status_code=status, headers=headers,
                                 media_type="application/octet-stream")

    return Starlette(routes=[
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/v1/models", list_models),
        Route("/v1/models/{model_id}", get_model),
        Route("/v1/models/{model_id}/{version}/{path:path}", get_file),
    ])
