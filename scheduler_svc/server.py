"""Run the scheduler: gRPC services, health, reflection, metrics, graceful shutdown."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from lingua.v1 import admin_pb2, admin_pb2_grpc, node_pb2, node_pb2_grpc, session_pb2, session_pb2_grpc
from lingua_common.grpc_server import ServiceServer, server_options, start_metrics, wait_for_signal
from scheduler_svc import cluster
from scheduler_svc.admin_servicer import AdminServicer
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.drain import Handover, drain, drain_alone
from scheduler_svc.mesh import Mesh
from scheduler_svc.node_servicer import NodeServicer
from scheduler_svc.session_servicer import SessionServicer

log = logging.getLogger(__name__)

SERVICE_NAMES = [
    session_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name,
    node_pb2.DESCRIPTOR.services_by_name["NodeService"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["SchedulerAdmin"].full_name,
]


def scheduler_options(settings: SchedulerSettings) -> list[tuple[str, int]]:
    """The shared server options with the scheduler's own bounds: messages read (an utterance of
    max_utterance_s, not max_message_mb) and streams per connection."""
    ours = {"grpc.max_receive_message_length": settings.receive_limit_bytes,
            "grpc.max_concurrent_streams": settings.max_concurrent_streams}
    return [(name, ours.pop(name, value)) for name, value in server_options(settings.max_message_mb)] + list(
        ours.items())


class _Grpc(ServiceServer):
    """ServiceServer (health, reflection, start/stop) built with the scheduler's options."""

    def __init__(self, service_names: Iterable[str], options: list[tuple[str, int]]) -> None:
        self.server = grpc.aio.server(options=options)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._services = list(service_names)
        reflection.enable_server_reflection(
            [*self._services, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            self.server)
        self.port = 0


class SchedulerServer:
    """The scheduler process's parts, startable in-process (tests, `lingua up`) or as a service."""

    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings
        self.mesh = Mesh(settings)
        # redis:// state: shared with the other instances; None for memory:// (no Redis at all).
        self.cluster = cluster.connect(settings, self.mesh)
        resume = self.cluster.resume if self.cluster is not None else None
        relay = self.cluster.from_node if self.cluster is not None else None
        self.grpc = _Grpc(SERVICE_NAMES, scheduler_options(settings))
        self.grpc.add(lambda s: session_pb2_grpc.add_SessionServiceServicer_to_server(
            SessionServicer(self.mesh, resume), s))
        self.grpc.add(lambda s: node_pb2_grpc.add_NodeServiceServicer_to_server(NodeServicer(self.mesh, relay), s))
        self.grpc.add(lambda s: admin_pb2_grpc.add_SchedulerAdminServicer_to_server(AdminServicer(self.mesh), s))
        self.port = 0
        self.metrics_port = -1

    async def start(self) -> int:
        if self.cluster is not None:
            await self.cluster.start()
        self.mesh.start()
        self.port = await self.grpc.start(f"{self.settings.host}:{self.settings.port}")
        if self.settings.metrics_port >= 0:
            self.metrics_port = start_metrics(self.settings.metrics_port, self.settings.metrics_host)
        log.info("scheduler listening on %s:%d (metrics %d)", self.settings.host, self.port, self.metrics_port)
        return self.port

    async def drain(self) -> Handover:
        """Stop taking work and let in-flight jobs finish; then scaled out, move sessions and nodes to the
        others; alone, give whatever is left an explicit outcome and end the sessions (drain.py)."""
        for name in ["", *SERVICE_NAMES]:  # Envoy's health check takes us out of rotation
            await self.grpc.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        if self.cluster is None:
            return await drain_alone(self.mesh, self.settings.drain_timeout_ms / 1000)
        return await drain(self.mesh, self.cluster.relay.on_node, self.settings.drain_timeout_ms / 1000)

    async def stop(self, grace_s: float = 5.0) -> None:
        await self.drain()
        if self.cluster is not None:
            await self.cluster.stop()  # the others take over whatever is left at once
        await self.mesh.stop()
        await self.grpc.stop(grace_s)


async def serve(settings: SchedulerSettings) -> None:
    server = SchedulerServer(settings)
    await server.start()
    print(f"scheduler ready on {settings.host}:{server.port}", flush=True)
    await wait_for_signal()
    await server.stop()
