"""A real scheduler and gateway on ephemeral ports, with real tenants and API keys, for service tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from gateway.access import Access
from gateway.config import GatewaySettings
from gateway.quotas import Quota
from gateway.server import GatewayServer
from gateway.tenants import TenantStore
from scheduler_svc.server import SchedulerServer
from tests.helpers.mesh import running_scheduler

_names = itertools.count()


@dataclass(frozen=True)
class TenantKey:
    tenant_id: str
    key_id: str
    key: str


def quota(requests_per_second: float = 1000.0, burst: int = 1000, max_concurrent_sessions: int = 100,
          audio_seconds_per_day: int = 1_000_000) -> Quota:
    return Quota(requests_per_second, burst, max_concurrent_sessions, audio_seconds_per_day)


def new_tenant(store: TenantStore, **limits: float) -> TenantKey:
    tenant = store.create_tenant(f"test-{next(_names)}", quota(**limits))  # type: ignore[arg-type]
    record, secret = store.issue_key(tenant.tenant_id, label="test")
    return TenantKey(tenant.tenant_id, record.key_id, secret)


@dataclass
class GatewayEnv:
    scheduler: SchedulerServer
    server: GatewayServer
    tenants: list[TenantKey] = field(default_factory=list)

    @property
    def scheduler_address(self) -> str:
        return f"127.0.0.1:{self.scheduler.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.server.http_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.http_port}"

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.server.grpc_port}"

    @property
    def max_ws_frame_bytes(self) -> int:
        return self.server.settings.max_ws_frame_kb * 1024

    async def tenant(self, **limits: float) -> TenantKey:
        made = await asyncio.to_thread(new_tenant, self.server.access.store, **limits)
        self.tenants.append(made)
        return made

    async def revoke(self, tenant: TenantKey) -> None:
        await asyncio.to_thread(self.server.access.store.revoke_key, tenant.key_id)

    async def session_tenant(self, session_id: str) -> str:
        """The tenant the scheduler recorded for a live session."""
        return self.scheduler.mesh.sessions[session_id].tenant_id


@contextlib.asynccontextmanager
async def running_gateway(scheduler: str, data_dir: Path | None = None,
                          **overrides: object) -> AsyncIterator[GatewayServer]:
    """A gateway on ephemeral ports; its tenants live in `data_dir` (a restarted one knows the same keys) or
    in a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        # key_cache_ttl_s=0: a revocation counts at once (in production it takes up to a second).
        settings = GatewaySettings(host="127.0.0.1", http_port=0, grpc_port=0, data_dir=str(data_dir or tmp),
                                   scheduler=scheduler, key_cache_ttl_s=0.0, max_ws_frame_kb=64, grace_s=1.0)
        for key, value in overrides.items():
            setattr(settings, key, value)
        server = GatewayServer(settings, await Access.from_settings(settings))
        await server.start()
        try:
            yield server
        finally:
            await server.stop()


@contextlib.asynccontextmanager
async def gateway_env(**overrides: object) -> AsyncIterator[GatewayEnv]:
    async with running_scheduler() as sched, running_gateway(f"127.0.0.1:{sched.port}", **overrides) as server:
        yield GatewayEnv(sched, server)


async def create_tenant(env: dict[str, str], **limits: float) -> str:
    """A tenant and key in the database a gateway process started with `env` will use (for bench/)."""
    from lingua_common.settings import load_settings

    settings = load_settings(GatewaySettings, "gateway", env=env)
    access = await Access.from_settings(settings)
    try:
        return (await asyncio.to_thread(new_tenant, access.store, **limits)).key
    finally:
        await access.close()
