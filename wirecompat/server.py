"""The adapter process: WebSocket `/ws/node` for the original's Electron nodes, `GET /health` → `OK`.

Runs beside the scheduler (`lingua compat run`, `python -m wirecompat`); each JSON node becomes one
NodeService.Connect stream over a shared gRPC channel (wirecompat/node_bridge.py).
"""

from __future__ import annotations

import hmac
import logging

import grpc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from lingua.v1 import node_pb2_grpc
from lingua_common.grpc_server import MiB, channel_options, wait_for_signal
from lingua_common.http_server import EmbeddedHttpServer
from wirecompat.config import CompatSettings
from wirecompat.node_bridge import Identities, NodeBridge

log = logging.getLogger(__name__)


def build_app(stub: node_pb2_grpc.NodeServiceStub, settings: CompatSettings, identities: Identities) -> Starlette:
    async def node(websocket: WebSocket) -> None:
        token = websocket.query_params.get("token", "")
        if settings.node_token and not hmac.compare_digest(token.encode(), settings.node_token.encode()):
            await websocket.close(code=1008)  # before accept: the handshake is refused (HTTP 403)
            return
        await websocket.accept()
        await NodeBridge(websocket, stub, settings, identities).run()

    async def health(request: Request) -> Response:
        return PlainTextResponse("OK")  # the original scheduler's answer

    return Starlette(routes=[WebSocketRoute("/ws/node", node), Route("/health", health, methods=["GET"])])


class CompatServer:
    """The adapter, startable in-process (tests, `lingua up`) or as a service."""

    def __init__(self, settings: CompatSettings) -> None:
        self.settings = settings
        self.channel = grpc.aio.insecure_channel(settings.scheduler, options=channel_options(settings.max_message_mb))
        self.app = build_app(node_pb2_grpc.NodeServiceStub(self.channel), settings, Identities())
        # Results carry TTS audio as base64: frames as big as the scheduler's messages.
        self._http = EmbeddedHttpServer(
            self.app, settings.host, settings.port, ws="websockets-sansio",
            ws_max_size=settings.max_message_mb * MiB, timeout_graceful_shutdown=int(settings.grace_s))
        self.port = 0

    async def start(self) -> None:
        self.port = await self._http.start()
        log.info("wirecompat listening: ws://%s:%d/ws/node -> scheduler %s", self.settings.host, self.port,
                 self.settings.scheduler)

    async def stop(self) -> None:
        await self._http.stop()
        await self.channel.close()


async def serve(settings: CompatSettings) -> None:
    server = CompatServer(settings)
    await server.start()
    print(f"wirecompat ready: ws://{settings.host}:{server.port}/ws/node -> scheduler {settings.scheduler}",
          flush=True)
    await wait_for_signal()
    await server.stop()
