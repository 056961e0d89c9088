"""Run the gateway: HTTP (REST, WebSocket, grpc-web; 8080) and public gRPC (50053), graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gateway import legacy_session
from gateway.access import Access
from gateway.admin_server import SERVICE_NAME as ADMIN_SERVICE
from gateway.admin_server import add_tenant_admin
from gateway.config import GatewaySettings
from gateway.frontdoor import FrontDoor
from gateway.http_app import HttpLimits, build_app
from gateway.public_grpc import PublicSessionServicer
from gateway.public_port import ApiKeyInterceptor, public_options
from gateway.upstream import Upstream
from lingua.v1 import session_pb2, session_pb2_grpc
from lingua_common.grpc_server import ServiceServer, wait_for_signal
from lingua_common.http_server import EmbeddedHttpServer

log = logging.getLogger(__name__)

# TenantAdmin shares the public gRPC port; it has its own (admin token) auth.
SERVICE_NAMES = [session_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name, ADMIN_SERVICE]


class GatewayServer:
    """The gateway's parts, startable in-process (tests, `lingua up`) or as a service."""

    def __init__(self, settings: GatewaySettings, access: Access) -> None:
        self.settings = settings
        self.access = access
        self.upstream = Upstream(settings.scheduler_addresses(), settings.max_message_mb)
        self.door = FrontDoor(access, self.upstream, timeout_s=settings.request_timeout_s,
                              idle_timeout_s=settings.session_idle_timeout_s, max_utterance_s=settings.max_utterance_s,
                              max_chunk_bytes=settings.receive_limit_bytes)
        self.grpc = ServiceServer(SERVICE_NAMES, options=public_options(settings),
                                  interceptors=[ApiKeyInterceptor(self.door, settings.trusted_proxies)])
        servicer = PublicSessionServicer(self.door)
        self.grpc.add(lambda s: session_pb2_grpc.add_SessionServiceServicer_to_server(servicer, s))
        add_tenant_admin(self.grpc, access, settings)
        limits = HttpLimits(max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
                            max_ws_frame_bytes=settings.max_ws_frame_kb * 1024,
                            cors_origins=tuple(settings.cors_origins),
                            trusted_proxies=tuple(settings.trusted_proxies))
        self.app = build_app(self.door, limits, extra_routes=[legacy_session.route(self.door, settings)])
        # uvicorn's own WebSocket cap sits above ours, so an oversize frame gets an `error` frame, not a close.
        # No permessage-deflate: frames are mostly audio (barely compressible) and deflating them costs
        # more CPU and latency than the bytes it saves.
        self._http = EmbeddedHttpServer(
            self.app, settings.host, settings.http_port, ws="websockets-sansio",
            ws_max_size=4 * limits.max_ws_frame_bytes, ws_per_message_deflate=False,
            timeout_graceful_shutdown=int(settings.grace_s))
        self._reaper: asyncio.Task[None] | None = None
        self.http_port = self.grpc_port = 0

    async def start(self) -> None:
        self.grpc_port = await self.grpc.start(f"{self.settings.host}:{self.settings.grpc_port}")
        self.http_port = await self._http.start()
        self._reaper = asyncio.create_task(self.door.ledger.run_reaper(self.door.expire))
        log.info("gateway listening: HTTP %d, gRPC %d, scheduler %s", self.http_port, self.grpc_port,
                 ",".join(self.upstream.addresses))

    async def stop(self) -> None:
        """Stop taking new work, let in-flight calls finish (up to grace_s), then release everything."""
        await asyncio.gather(self.grpc.stop(self.settings.grace_s), self._http.stop())
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await self.door.close()
        await self.upstream.close()
        await self.access.close()


async def serve(settings: GatewaySettings) -> None:
    server = GatewayServer(settings, await Access.open(settings))
    await server.start()
    print(f"gateway ready: HTTP {settings.host}:{server.http_port}, gRPC {settings.host}:{server.grpc_port}",
          flush=True)
    await wait_for_signal()
    await server.stop()
