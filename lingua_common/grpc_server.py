"""gRPC server bootstrap shared by every service: options, health, reflection, metrics, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

# Shared with the SDK (lingua/rpc.py): re-exported here for the services.
from lingua.rpc import MiB, channel_options

__all__ = ["MiB", "ServiceServer", "channel_options", "server_options", "start_metrics", "wait_for_signal"]

log = logging.getLogger(__name__)


def server_options(max_message_mb: int = 64) -> list[tuple[str, int]]:
    """Options for long-lived streams: big enough messages for an utterance, clients may keep alive."""
    size = max_message_mb * MiB
    return [
        ("grpc.max_receive_message_length", size),
        ("grpc.max_send_message_length", size),
        ("grpc.max_concurrent_streams", 100_000),
        # Reconnect storms of thousands of nodes: keep pending RPCs queued instead of cancelling them.
        ("grpc.server.max_pending_requests", 20_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
    ]


class ServiceServer:
    """A grpc.aio server with health and reflection for the given services."""

    def __init__(self, service_names: Iterable[str], *, max_message_mb: int = 64,
                 options: list[tuple[str, int]] | None = None,
                 interceptors: Sequence[grpc.aio.ServerInterceptor] = ()) -> None:
        """`options` replaces the defaults of server_options(max_message_mb) (see merged_options)."""
        self.server = grpc.aio.server(options=options if options is not None else server_options(max_message_mb),
                                      interceptors=list(interceptors) or None)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._services = list(service_names)
        reflection.enable_server_reflection(
            [*self._services, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME],
            self.server,
        )
        self.port = 0

    def add(self, register: Callable[[grpc.aio.Server], None]) -> None:
        register(self.server)

    async def start(self, address: str) -> int:
        self.port = self.server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"cannot listen on {address}")
        await self.server.start()
        for name in ["", *self._services]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self.port

    async def stop(self, grace_s: float = 5.0) -> None:
        for name in ["", *self._services]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace_s)


def merged_options(max_message_mb: int, overrides: dict[str, int]) -> list[tuple[str, int]]:
    """server_options(max_message_mb) with some values replaced or added (e.g. a smaller receive limit)."""
    ours = dict(overrides)
    return [(name, ours.pop(name, value)) for name, value in server_options(max_message_mb)] + list(ours.items())


def start_metrics(port: int, host: str = "127.0.0.1") -> int:
    """Serve Prometheus /metrics over HTTP; port 0 picks a free one. Returns the port."""
    if port < 0:
        return -1
    server, _thread = start_http_server(port, addr=host)
    return int(server.server_port)


async def wait_for_signal() -> None:
    """Return on SIGINT or SIGTERM (so servers can stop gracefully)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
