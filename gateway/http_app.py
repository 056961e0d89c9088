"""The gateway's HTTP app (port 8080): routes for REST, WebSocket, grpc-web, and the public endpoints."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from starlette.websockets import WebSocket

from gateway import rest
from gateway.authguard import client_address
from gateway.frontdoor import FrontDoor
from gateway.grpcweb_service import SERVICE, grpc_web_endpoint
from gateway.openapi import openapi_document
from gateway.websocket import stream_endpoint

# The web client's committed bundle (built by `make web`), served at `/`.
WEB_CLIENT_DIR = Path(__file__).resolve().parent / "web" / "dist"


class WebClientFiles(StaticFiles):
    """The web client's files, with what an installable app needs whatever the host's mime tables say: the app
    manifest as application/manifest+json, and the service worker revalidated on every load (no-cache), so that
    a new deployment reaches installed apps at their next start."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = os.path.basename(full_path)
        if name.endswith(".webmanifest"):
            response.headers["content-type"] = "application/manifest+json"
        elif name == "sw.js":
            response.headers["cache-control"] = "no-cache"
        return response


# grpc-web clients read these from cross-origin responses; Retry-After for rate-limited REST calls.
EXPOSE_HEADERS = ["grpc-status", "grpc-message", "grpc-status-details-bin", "retry-after-ms", "Retry-After"]


@dataclass(frozen=True)
class HttpLimits:
    max_upload_bytes: int = 32 * 1024 * 1024
    max_ws_frame_bytes: int = 1024 * 1024
    cors_origins: tuple[str, ...] = ("*",)
    # Peers whose X-Forwarded-For names the client (failed-key throttling is by client address).
    trusted_proxies: tuple[str, ...] = ()


def client_of(connection: HTTPConnection, trusted_proxies: tuple[str, ...]) -> str:
    """The caller's address: the peer, or the client a trusted proxy forwarded for."""
    peer = connection.client.host if connection.client is not None else ""
    return client_address(peer, connection.headers.get("x-forwarded-for"), trusted_proxies)


def routes(door: FrontDoor, limits: HttpLimits) -> list[BaseRoute]:
    document = openapi_document()
    trusted = limits.trusted_proxies

    async def translate(request: Request) -> Response:
        return await rest.translate(request, door, limits.max_upload_bytes, client_of(request, trusted))

    async def whoami(request: Request) -> Response:
        return await rest.whoami(request, door, client_of(request, trusted))

    async def languages(request: Request) -> Response:
        return await rest.languages(request, door, client_of(request, trusted))

    async def stream(websocket: WebSocket) -> None:
        await stream_endpoint(websocket, door, limits.max_ws_frame_bytes, client_of(websocket, trusted))

    async def grpc_web(request: Request) -> Response:
        return await grpc_web_endpoint(request, door, limits.max_upload_bytes, client_of(request, trusted))

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/v1/speech/translate", translate, methods=["POST"]),
        Route("/v1/whoami", whoami, methods=["GET"]),
        Route("/v1/languages", languages, methods=["GET"]),
        WebSocketRoute("/v1/stream", stream),
        Route(f"/{SERVICE}/{{method}}", grpc_web, methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


def build_app(door: FrontDoor, limits: HttpLimits, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    """The API routes, then `extra_routes`, then the web client as the catch-all last route."""
    cors = Middleware(CORSMiddleware, allow_origins=list(limits.cors_origins), allow_methods=["GET", "POST"],
                      allow_headers=["*"], expose_headers=EXPOSE_HEADERS, max_age=86400)
    web = Mount("/", app=WebClientFiles(directory=WEB_CLIENT_DIR, html=True, check_dir=False), name="web")
    return Starlette(routes=[*routes(door, limits), *(extra_routes or []), web], middleware=[cors])
