"""`python -m gateway` (= `lingua gateway run`) as a real process: ports, health, reflection, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from redis.asyncio import Redis

from gateway.access import default_quota
from gateway.config import GatewaySettings
from gateway.tenants import TenantStore
from lingua.v1 import session_pb2, session_pb2_grpc
from tests.helpers.gateway import new_tenant
from tests.helpers.mesh import running_scheduler

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
READY = re.compile(rb"gateway ready: HTTP [\d.]+:(\d+), gRPC [\d.]+:(\d+)")


async def _services(channel: grpc.aio.Channel) -> set[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo()
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    reply = await call.read()
    await call.done_writing()
    return {s.name for s in reply.list_services_response.service}


async def _start_gateway(env: dict[str, str], scheduler: str) -> tuple[asyncio.subprocess.Process, int, int]:
    """`python -m gateway` on ephemeral ports: (process, HTTP port, gRPC port) once it says it is ready."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "--http-port", "0", "--grpc-port", "0", "--scheduler", scheduler,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    ready = READY.search(line)
    assert ready, line
    return proc, int(ready.group(1)), int(ready.group(2))


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_two_gateway_processes_enforce_one_rate_limit_through_redis(tmp_path: Path) -> None:
    rate, burst = 10.0, 10
    store = TenantStore(GatewaySettings(data_dir=str(tmp_path)).database_url(), default_quota(GatewaySettings()))
    tenant = new_tenant(store, requests_per_second=rate, burst=burst)
    store.close()
    prefix = f"lingua-test-gw-{secrets.token_hex(6)}"
    env = {**os.environ, "LINGUA_GATEWAY_DATA_DIR": str(tmp_path), "LINGUA_GATEWAY_HOST": "127.0.0.1",
           "LINGUA_GATEWAY_REDIS_URL": REDIS_URL, "LINGUA_GATEWAY_REDIS_PREFIX": prefix, "LINGUA_GATEWAY_GRACE_S": "1"}
    redis = Redis.from_url(REDIS_URL)
    gateways: list[asyncio.subprocess.Process] = []
    try:
        async with running_scheduler() as sched:
            ports = []
            for _ in range(2):
                proc, http_port, _grpc_port = await _start_gateway(env, f"127.0.0.1:{sched.port}")
                gateways.append(proc)
                ports.append(http_port)
            headers = {"Authorization": f"Bearer {tenant.key}"}
            async with httpx.AsyncClient(timeout=30) as http:
                for port in ports:
                    assert (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
                started = time.monotonic()
                # 3x the burst at once, split over both processes.
                responses = await asyncio.gather(*(http.get(f"http://127.0.0.1:{ports[i % 2]}/v1/whoami",
                                                            headers=headers) for i in range(3 * burst)))
                elapsed = time.monotonic() - started
        admitted = [r for r in responses if r.status_code == 200]
        limited = [(i, r) for i, r in enumerate(responses) if r.status_code == 429]
        budget = burst + rate * elapsed  # the most one shared bucket lets through in that time
        assert len(admitted) + len(limited) == len(responses)
        assert burst <= len(admitted) <= budget * 1.1 + 1, (len(admitted), budget)
        assert {i % 2 for i, _ in limited} == {0, 1}  # both processes refused: they drew on one bucket
        assert all(int(r.headers["Retry-After"]) >= 1 for _, r in limited)
        assert all(r.json()["error"]["code"] == "RATE_LIMITED" for _, r in limited)
    finally:
        for proc in gateways:
            await _stop(proc)
        found = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        if found:
            await redis.delete(*found)
        await redis.aclose()


async def test_gateway_process_serves_both_ports_and_stops_on_sigterm() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = TenantStore(GatewaySettings(data_dir=tmp).database_url(), default_quota(GatewaySettings()))
        tenant = new_tenant(store)
        store.close()
        async with running_scheduler() as sched:
            env = {**os.environ, "LINGUA_GATEWAY_DATA_DIR": tmp, "LINGUA_GATEWAY_HOST": "127.0.0.1",
                   "LINGUA_GATEWAY_GRACE_S": "2"}
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway", "--http-port", "0", "--grpc-port", "0",
                "--scheduler", f"127.0.0.1:{sched.port}", cwd=ROOT, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                assert proc.stdout is not None
                line = await asyncio.wait_for(proc.stdout.readline(), 60)
                ready = READY.search(line)
                assert ready, line
                http_port, grpc_port = int(ready.group(1)), int(ready.group(2))
                auth = (("authorization", f"Bearer {tenant.key}"),)
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=10) as http:
                    assert (await http.get("/healthz")).status_code == 200
                    whoami = await http.get("/v1/whoami", headers={"Authorization": f"Bearer {tenant.key}"})
                    assert whoami.json()["tenant_id"] == tenant.tenant_id
                async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                    health = health_pb2_grpc.HealthStub(channel)
                    for service in ("", "lingua.v1.SessionService", "lingua.v1.TenantAdmin"):
                        status = await health.Check(health_pb2.HealthCheckRequest(service=service))
                        assert status.status == health_pb2.HealthCheckResponse.SERVING, service
                    assert {"lingua.v1.SessionService", "lingua.v1.TenantAdmin"} <= await _services(channel)
                    stub = session_pb2_grpc.SessionServiceStub(channel)
                    opened = await stub.OpenSession(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr"),
                                                    metadata=auth)
                    assert sched.mesh.sessions[opened.session_id].tenant_id == tenant.tenant_id
                    subscription = stub.Subscribe(session_pb2.SubscribeRequest(
                        session_id=opened.session_id, resume_token=opened.resume_token), metadata=auth)
                    await asyncio.sleep(0.2)
                    proc.send_signal(signal.SIGTERM)
                    # The open stream is ended by the shutdown (within the grace period), not left hanging.
                    try:
                        end = await asyncio.wait_for(subscription.read(), 10)
                        assert end is grpc.aio.EOF
                    except grpc.aio.AioRpcError as exc:
                        assert exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
                assert await asyncio.wait_for(proc.wait(), 15) == 0
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
