"""TenantAdmin over real gRPC on an ephemeral port (admin-token checks, every RPC), and `lingua tenant` as a
separate process against it; keys it issues and revokes take effect in an Access over the same database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from gateway.access import Access
from gateway.admin_server import SERVICE_NAME, TenantAdminServer
from gateway.config import GatewaySettings
from lingua.v1 import common_pb2, gateway_pb2, gateway_pb2_grpc
from lingua_common.errors import LinguaError, error_from_rpc

TOKEN = "admin-secret-for-tests"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[tuple[TenantAdminServer, GatewaySettings]]:
    settings = GatewaySettings(host="127.0.0.1", grpc_port=0, db_url=f"sqlite:///{tmp_path / 'gateway.db'}",
                               admin_token=TOKEN, default_requests_per_second=5, default_burst=7,
                               default_max_concurrent_sessions=3, default_audio_seconds_per_day=600)
    server = await TenantAdminServer.open(settings)
    await server.start()
    yield server, settings
    await server.stop()


def _auth(token: str = TOKEN) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def _refused(call: object) -> tuple[grpc.StatusCode, int]:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call  # type: ignore[misc]
    return failed.value.code(), error_from_rpc(failed.value).code


async def test_admin_token_is_required(admin: tuple[TenantAdminServer, GatewaySettings]) -> None:
    server, _ = admin
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = gateway_pb2_grpc.TenantAdminStub(channel)
        request = gateway_pb2.ListTenantsRequest()
        assert await _refused(stub.ListTenants(request)) == (grpc.StatusCode.UNAUTHENTICATED,
                                                            common_pb2.UNAUTHENTICATED)
        assert await _refused(stub.ListTenants(request, metadata=_auth("wrong"))) == (
            grpc.StatusCode.PERMISSION_DENIED, common_pb2.PERMISSION_DENIED)
        assert await _refused(stub.CreateTenant(gateway_pb2.CreateTenantRequest(name="x"),
                                                metadata=(("authorization", TOKEN),))) == (
            grpc.StatusCode.UNAUTHENTICATED, common_pb2.UNAUTHENTICATED)  # not a bearer token
        assert (await stub.ListTenants(request, metadata=_auth())).tenants == []
        assert server.store.list_tenants() == []  # the refused CreateTenant did nothing


async def test_no_admin_token_configured_refuses_everyone(tmp_path: Path) -> None:
    settings = GatewaySettings(host="127.0.0.1", grpc_port=0, db_url=f"sqlite:///{tmp_path / 'g.db'}")
    server = await TenantAdminServer.open(settings)
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = gateway_pb2_grpc.TenantAdminStub(channel)
            assert await _refused(stub.ListTenants(gateway_pb2.ListTenantsRequest(), metadata=_auth(""))) == (
                grpc.StatusCode.UNAUTHENTICATED, common_pb2.UNAUTHENTICATED)
            assert await _refused(stub.ListTenants(gateway_pb2.ListTenantsRequest(), metadata=_auth("guess"))) == (
                grpc.StatusCode.PERMISSION_DENIED, common_pb2.PERMISSION_DENIED)
    finally:
        await server.stop()


async def test_every_rpc_and_keys_reach_access(admin: tuple[TenantAdminServer, GatewaySettings]) -> None:
    server, settings = admin
    access = await Access.from_settings(settings)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = gateway_pb2_grpc.TenantAdminStub(channel)
        created = (await stub.CreateTenant(gateway_pb2.CreateTenantRequest(
            name="acme", quota=gateway_pb2.Quota(requests_per_second=2.5)), metadata=_auth())).tenant
        assert created.name == "acme" and created.created_unix_ms > 0
        assert (created.quota.requests_per_second, created.quota.burst, created.quota.max_concurrent_sessions,
                created.quota.audio_seconds_per_day) == (2.5, 7, 3, 600)  # unset fields take the defaults
        assert await _refused(stub.CreateTenant(gateway_pb2.CreateTenantRequest(name="acme"), metadata=_auth())) == (
            grpc.StatusCode.ALREADY_EXISTS, common_pb2.ALREADY_EXISTS)
        assert (await _refused(stub.CreateTenant(gateway_pb2.CreateTenantRequest(name="bad;name"),
                                                 metadata=_auth())))[1] == common_pb2.INVALID_MESSAGE

        issued = await stub.IssueApiKey(gateway_pb2.IssueApiKeyRequest(tenant_id=created.tenant_id, label="app"),
                                        metadata=_auth())
        assert issued.api_key.startswith(issued.key.prefix) and issued.key.label == "app"
        assert await _refused(stub.IssueApiKey(gateway_pb2.IssueApiKeyRequest(tenant_id="tn_nope"),
                                               metadata=_auth())) == (grpc.StatusCode.NOT_FOUND, common_pb2.NOT_FOUND)
        who = await access.authenticate(issued.api_key)
        assert who.tenant_id == created.tenant_id and who.quota.requests_per_second == 2.5

        listed = (await stub.ListTenants(gateway_pb2.ListTenantsRequest(), metadata=_auth())).tenants
        assert [t.tenant_id for t in listed] == [created.tenant_id]
        assert [k.key_id for k in listed[0].keys] == [issued.key.key_id]
        assert issued.api_key not in str(listed)  # listing never shows a key again

        updated = (await stub.UpdateQuota(gateway_pb2.UpdateQuotaRequest(
            tenant_id=created.tenant_id, quota=gateway_pb2.Quota(max_concurrent_sessions=9)),
            metadata=_auth())).tenant
        assert (updated.quota.requests_per_second, updated.quota.max_concurrent_sessions) == (2.5, 9)

        revoked = (await stub.RevokeApiKey(gateway_pb2.RevokeApiKeyRequest(key_id=issued.key.key_id),
                                           metadata=_auth())).key
        assert revoked.revoked and revoked.key_id == issued.key.key_id
        assert (await _refused(stub.RevokeApiKey(gateway_pb2.RevokeApiKeyRequest(key_id="key_nope"),
                                                 metadata=_auth())))[1] == common_pb2.NOT_FOUND
    await asyncio.sleep(settings.key_cache_ttl_s + 0.05)  # the documented revocation delay
    try:
        with pytest.raises(LinguaError) as refused:
            await access.authenticate(issued.api_key)
        assert refused.value.code == common_pb2.UNAUTHENTICATED
    finally:
        await access.close()


async def test_health_and_reflection_list_tenant_admin(admin: tuple[TenantAdminServer, GatewaySettings]) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    server, _ = admin
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def _cli(port: int, *args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LINGUA_GATEWAY_ADMIN_TOKEN"}
    if token is not None:
        env["LINGUA_GATEWAY_ADMIN_TOKEN"] = token
    return subprocess.run([sys.executable, "-c", "from lingua_cli.main import main; main()", "tenant", *args,
                           "--gateway", f"127.0.0.1:{port}"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


async def _run_cli(port: int, *args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    # In a thread: the server answering the CLI runs on this event loop.
    return await asyncio.to_thread(_cli, port, *args, token=token)


@pytest.mark.slow
async def test_lingua_tenant_cli(admin: tuple[TenantAdminServer, GatewaySettings]) -> None:
    server, settings = admin
    port = server.port
    created = await _run_cli(port, "create", "cli co", "--rps", "4", "--sessions", "2", "--json")
    assert created.returncode == 0, created.stderr
    tenant = json.loads(created.stdout)
    assert tenant["name"] == "cli co" and tenant["quota"]["requests_per_second"] == 4
    assert tenant["quota"]["burst"] == 7  # the default

    issued = await _run_cli(port, "key", "issue", tenant["tenant_id"], "--label", "ci", "--expires-in", "1h")
    assert issued.returncode == 0, issued.stderr
    api_key = issued.stdout.strip()  # the key alone on stdout; what it is, on stderr
    assert api_key.startswith("lk_") and "shown only this once" in issued.stderr
    access = await Access.from_settings(settings)
    try:
        assert (await access.authenticate(api_key)).tenant_id == tenant["tenant_id"]

        quota = await _run_cli(port, "quota", tenant["tenant_id"], "--burst", "11")
        assert quota.returncode == 0 and "burst 11" in quota.stdout and "rate 4/s" in quota.stdout, quota

        listed = await _run_cli(port, "list")
        assert listed.returncode == 0 and tenant["tenant_id"] in listed.stdout and "cli co" in listed.stdout
        key_id = server.store.get_tenant(tenant["tenant_id"]).keys[0].key_id
        assert key_id in listed.stdout and api_key not in listed.stdout

        revoked = await _run_cli(port, "key", "revoke", key_id, "--json")
        assert revoked.returncode == 0 and json.loads(revoked.stdout)["revoked"] is True
        await asyncio.sleep(settings.key_cache_ttl_s + 0.05)
        with pytest.raises(LinguaError) as refused:
            await access.authenticate(api_key)
        assert refused.value.code == common_pb2.UNAUTHENTICATED
    finally:
        await access.close()

    wrong = await _run_cli(port, "list", token="nope")
    assert wrong.returncode == 1 and "PERMISSION_DENIED" in wrong.stderr
    missing = await _run_cli(port, "list", token=None)
    assert missing.returncode == 1 and "UNAUTHENTICATED" in missing.stderr
    flag = await _run_cli(port, "list", "--admin-token", TOKEN, token=None)
    assert flag.returncode == 0, flag.stderr
    unknown = await _run_cli(port, "key", "issue", "tn_nope")
    assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr
    nothing = await _run_cli(port, "quota", tenant["tenant_id"])
    assert nothing.returncode == 2 and "at least one" in nothing.stderr
