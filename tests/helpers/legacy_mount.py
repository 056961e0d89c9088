"""Mount /ws/session with other options at another path on a running test gateway."""

from __future__ import annotations

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from gateway.legacy_session import LegacyOptions, legacy_session_endpoint
from gateway.server import GatewayServer


def mount_variant(server: GatewayServer, path: str, options: LegacyOptions) -> None:
    """The same endpoint with other options at another path (e.g. the anonymous opt-in)."""

    async def endpoint(websocket: WebSocket) -> None:
        await legacy_session_endpoint(websocket, server.door, options)

    server.app.router.routes.insert(0, WebSocketRoute(path, endpoint))
