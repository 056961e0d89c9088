"""Mount TenantAdmin on a gRPC server (the gateway's public one), or run it on its own (tests, tools).

The gateway lists SERVICE_NAME among its ServiceServer's services (for health and reflection) and calls
`add_tenant_admin(server, access, settings)`.
"""

from __future__ import annotations

import asyncio

import grpc

from gateway.access import Access, default_quota
from gateway.admin_servicer import TenantAdminServicer
from gateway.config import GatewaySettings
from gateway.tenants import TenantStore
from lingua.v1 import gateway_pb2, gateway_pb2_grpc
from lingua_common.grpc_server import ServiceServer

SERVICE_NAME = gateway_pb2.DESCRIPTOR.services_by_name["TenantAdmin"].full_name


def add_tenant_admin(server: ServiceServer | grpc.aio.Server, access_or_store: Access | TenantStore,
                     settings: GatewaySettings) -> TenantAdminServicer:
    store = access_or_store.store if isinstance(access_or_store, Access) else access_or_store
    servicer = TenantAdminServicer(store, settings.admin_token)
    target = server.server if isinstance(server, ServiceServer) else server
    gateway_pb2_grpc.add_TenantAdminServicer_to_server(servicer, target)
    return servicer


class TenantAdminServer:
    """TenantAdmin alone on settings.host:settings.grpc_port (0: a free port), over its own TenantStore."""

    def __init__(self, settings: GatewaySettings, store: TenantStore) -> None:
        self.settings, self.store = settings, store
        self.grpc = ServiceServer([SERVICE_NAME])
        add_tenant_admin(self.grpc, store, settings)
        self.port = 0

    @classmethod
    async def open(cls, settings: GatewaySettings) -> TenantAdminServer:
        store = await asyncio.to_thread(TenantStore, settings.database_url(), default_quota(settings))
        return cls(settings, store)

    async def start(self) -> int:
        self.port = await self.grpc.start(f"{self.settings.host}:{self.settings.grpc_port}")
        return self.port

    async def stop(self, grace_s: float = 2.0) -> None:
        await self.grpc.stop(grace_s)
        await asyncio.to_thread(self.store.close)
