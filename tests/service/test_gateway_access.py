"""API keys, rate limits, session quotas and tenant isolation at every front door of a real gateway.

A real scheduler and gateway on ephemeral ports; no node is needed because every refusal here happens
before any audio is translated (a call that gets through fails later with a different, scheduler-side code).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import error_from_rpc
from tests.helpers.gateway import GatewayEnv, gateway_env
from tests.helpers.grpcweb import GrpcWebClient, Reply

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED.value[0]


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[GatewayEnv]:
    async with gateway_env() as env:
        yield env


def _bearer(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


async def _rest_status(env: GatewayEnv, key: str | None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=env.http_url, timeout=30) as http:
        return await http.post("/v1/speech/translate", headers=_bearer(key),
                               files={"audio": ("a.wav", b"RIFF", "audio/wav")})


async def _ws_refusal(env: GatewayEnv, key: str | None, via_query: bool = True) -> httpx.Response | int:
    url = f"{env.ws_url}/v1/stream" + (f"?api_key={key}" if key and via_query else "")
    headers = _bearer(key) if key and not via_query else {}
    try:
        async with websockets.connect(url, additional_headers=headers):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


async def test_missing_unknown_and_revoked_keys_are_refused_at_every_door(env: GatewayEnv) -> None:
    tenant = await env.tenant()
    revoked = await env.tenant()
    await env.revoke(revoked)
    async with httpx.AsyncClient(timeout=30) as http, grpc.aio.insecure_channel(env.grpc_address) as channel:
        stub = session_pb2_grpc.SessionServiceStub(channel)
        for key in (None, "lk_not_a_key", revoked.key):
            response = await _rest_status(env, key)
            assert response.status_code == 401, (key, response.text)
            assert response.json()["error"]["code"] == "UNAUTHENTICATED"
            assert await _ws_refusal(env, key) == 401
            for text in (False, True):
                reply = await GrpcWebClient(http, env.http_url, key, text=text).unary(
                    "OpenSession", session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr"))
                assert reply.status == UNAUTHENTICATED and reply.error().code == common_pb2.UNAUTHENTICATED
            metadata = () if key is None else (("authorization", f"Bearer {key}"),)
            with pytest.raises(grpc.aio.AioRpcError) as unary:
                await stub.OpenSession(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr"),
                                       metadata=metadata)
            assert unary.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert error_from_rpc(unary.value).code == common_pb2.UNAUTHENTICATED
            call = stub.Converse(metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError) as stream:
                await call.read()
            assert stream.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # The good key passes every door (it reaches the scheduler: here, a bad WAV or a fresh session).
        good = await _rest_status(env, tenant.key)
        assert good.status_code == 400 and good.json()["error"]["code"] == "INVALID_AUDIO", good.text
        assert await _ws_refusal(env, tenant.key) == 101
        assert await _ws_refusal(env, tenant.key, via_query=False) == 101
        opened = await stub.OpenSession(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr"),
                                        metadata=(("authorization", f"Bearer {tenant.key}"),))
        await stub.CloseSession(session_pb2.CloseSessionRequest(session_id=opened.session_id),
                                metadata=(("authorization", f"Bearer {tenant.key}"),))
        # Public endpoints need no key.
        for path in ("/healthz", "/metrics", "/openapi.json"):
            assert (await http.get(env.http_url + path)).status_code == 200, path


async def test_a_burst_past_the_rate_gets_429_with_retry_after(env: GatewayEnv) -> None:
    rate, burst = 10.0, 10
    tenant = await env.tenant(requests_per_second=rate, burst=burst)
    async with httpx.AsyncClient(base_url=env.http_url, timeout=30) as http:
        started = time.monotonic()
        responses = await asyncio.gather(*(http.get("/v1/whoami", headers=_bearer(tenant.key))
                                           for _ in range(3 * burst)))
        elapsed = time.monotonic() - started
    admitted = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert len(admitted) + len(limited) == len(responses)
    budget = burst + rate * elapsed
    assert burst <= len(admitted) <= budget * 1.1 + 1, (len(admitted), budget)
    assert all(int(r.headers["Retry-After"]) >= 1 for r in limited)
    assert limited[0].json()["error"]["code"] == "RATE_LIMITED" and limited[0].json()["error"]["retry_after_ms"] > 0
    assert admitted[0].json()["tenant_id"] == tenant.tenant_id


async def test_rate_limit_on_grpc_websocket_and_grpc_web(env: GatewayEnv) -> None:
    tenant = await env.tenant(requests_per_second=0.2, burst=1)
    metadata = (("authorization", f"Bearer {tenant.key}"),)
    async with grpc.aio.insecure_channel(env.grpc_address) as channel, httpx.AsyncClient(timeout=30) as http:
        stub = session_pb2_grpc.SessionServiceStub(channel)
        bogus = session_pb2.PushAudioRequest(utterance=session_pb2.Utterance(session_id="s-nope"))
        with pytest.raises(grpc.aio.AioRpcError) as first:
            await stub.PushAudio(bogus, metadata=metadata)
        assert error_from_rpc(first.value).code == common_pb2.INVALID_SESSION  # admitted, then refused upstream
        with pytest.raises(grpc.aio.AioRpcError) as second:
            await stub.PushAudio(bogus, metadata=metadata)
        assert second.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        err = error_from_rpc(second.value)
        assert err.code == common_pb2.RATE_LIMITED and err.retry_after_ms > 0
        reply = await GrpcWebClient(http, env.http_url, tenant.key).unary("PushAudio", bogus)
        assert reply.status == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
        assert reply.error().code == common_pb2.RATE_LIMITED and int(reply.headers["retry-after"]) >= 1
    assert await _ws_refusal(env, tenant.key) == 429


async def test_session_quota_is_enforced_across_doors_and_freed_on_close(env: GatewayEnv) -> None:
    tenant = await env.tenant(max_concurrent_sessions=1)
    metadata = (("authorization", f"Bearer {tenant.key}"),)
    open_request = session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr")
    async with grpc.aio.insecure_channel(env.grpc_address) as channel, httpx.AsyncClient(timeout=30) as http:
        stub = session_pb2_grpc.SessionServiceStub(channel)
        held = await stub.OpenSession(open_request, metadata=metadata)
        with pytest.raises(grpc.aio.AioRpcError) as second:
            await stub.OpenSession(open_request, metadata=metadata)
        assert second.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_from_rpc(second.value).code == common_pb2.QUOTA_EXCEEDED
        rest = await _rest_status(env, tenant.key)
        assert rest.status_code == 403 and rest.json()["error"]["code"] == "QUOTA_EXCEEDED"
        web = await GrpcWebClient(http, env.http_url, tenant.key, text=True).unary("OpenSession", open_request)
        assert web.error().code == common_pb2.QUOTA_EXCEEDED
        async with websockets.connect(f"{env.ws_url}/v1/stream?api_key={tenant.key}") as ws:
            await ws.send(json.dumps({"type": "start", "src_lang": "en", "tgt_lang": "fr"}))
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert frame["type"] == "error" and frame["code"] == "QUOTA_EXCEEDED", frame
            await stub.CloseSession(session_pb2.CloseSessionRequest(session_id=held.session_id), metadata=metadata)
            # The slot is free again: the same connection can now start.
            await ws.send(json.dumps({"type": "start", "src_lang": "en", "tgt_lang": "fr"}))
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert frame["type"] == "started", frame
        # The WebSocket went away: its slot is freed, so a gRPC session fits again.
        for _ in range(50):
            try:
                again = await stub.OpenSession(open_request, metadata=metadata)
                break
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the WebSocket session's quota slot was never released")
        await stub.CloseSession(session_pb2.CloseSessionRequest(session_id=again.session_id), metadata=metadata)


async def test_a_tenant_cannot_touch_another_tenants_session(env: GatewayEnv) -> None:
    a, b = await env.tenant(), await env.tenant()
    meta_a, meta_b = (("authorization", f"Bearer {a.key}"),), (("authorization", f"Bearer {b.key}"),)
    async with grpc.aio.insecure_channel(env.grpc_address) as channel, httpx.AsyncClient(timeout=30) as http:
        stub = session_pb2_grpc.SessionServiceStub(channel)
        theirs = await stub.OpenSession(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr",
                                                                       tenant_id=a.tenant_id), metadata=meta_b)
        assert await env.session_tenant(theirs.session_id) == b.tenant_id  # never the one the client named
        subscribe = session_pb2.SubscribeRequest(session_id=theirs.session_id, resume_token=theirs.resume_token)
        with pytest.raises(grpc.aio.AioRpcError) as sub:
            await asyncio.wait_for(stub.Subscribe(subscribe, metadata=meta_a).read(), 10)
        assert error_from_rpc(sub.value).code == common_pb2.INVALID_SESSION
        for method, request in (
                ("PushAudio", session_pb2.PushAudioRequest(audio_chunk=session_pb2.AudioChunk(
                    session_id=theirs.session_id))),
                ("CloseSession", session_pb2.CloseSessionRequest(session_id=theirs.session_id)),
                ("OpenSession", session_pb2.OpenSessionRequest(resume_session_id=theirs.session_id,
                                                               resume_token=theirs.resume_token))):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await getattr(stub, method)(request, metadata=meta_a)
            assert error_from_rpc(refused.value).code == common_pb2.INVALID_SESSION, method
        web = GrpcWebClient(http, env.http_url, a.key)
        into = Reply()
        async with asyncio.timeout(10):
            async for _ in web.stream("Subscribe", subscribe, into):
                raise AssertionError("tenant A received a message of tenant B's session")
        assert into.error().code == common_pb2.INVALID_SESSION
        call = stub.Converse(metadata=meta_a)
        await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
            resume_session_id=theirs.session_id, resume_token=theirs.resume_token)))
        resumed = await asyncio.wait_for(call.read(), 10)
        assert resumed.error.code == common_pb2.INVALID_SESSION, resumed
        call.cancel()
        async with websockets.connect(f"{env.ws_url}/v1/stream?api_key={a.key}") as ws:
            await ws.send(json.dumps({"type": "start", "resume_session_id": theirs.session_id,
                                      "resume_token": theirs.resume_token}))
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert frame["type"] == "error" and frame["code"] == "INVALID_SESSION", frame
        # B's session was untouched by all of that: B can still subscribe and close it.
        mine = stub.Subscribe(subscribe, metadata=meta_b)
        await stub.PushAudio(session_pb2.PushAudioRequest(utterance=session_pb2.Utterance(
            session_id=theirs.session_id, utterance_index=0)), metadata=meta_b)  # no audio: an error outcome
        outcome = await asyncio.wait_for(mine.read(), 10)
        assert outcome.error.code == common_pb2.INVALID_AUDIO and outcome.error.utterance_index == 0, outcome
        closed = await stub.CloseSession(session_pb2.CloseSessionRequest(session_id=theirs.session_id),
                                         metadata=meta_b)
        assert closed.session_id == theirs.session_id
        assert await asyncio.wait_for(mine.read(), 10) is grpc.aio.EOF


async def test_openapi_documents_every_route_and_cors_preflight_for_grpc_web(env: GatewayEnv) -> None:
    async with httpx.AsyncClient(base_url=env.http_url, timeout=30) as http:
        document = (await http.get("/openapi.json")).json()
        assert document["openapi"].startswith("3.")
        documented = set(document["paths"])
        served = {getattr(r, "path", "") or "/" for r in env.server.app.routes}  # the web client's Mount("/"): ""
        assert served and served <= documented, served - documented
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert "lingua_gateway_requests_total" in (await http.get("/metrics")).text
        preflight = await http.options("/lingua.v1.SessionService/OpenSession", headers={
            "Origin": "http://app.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-grpc-web,authorization,x-user-agent"})
        assert preflight.status_code == 200
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        reply = await http.post("/lingua.v1.SessionService/OpenSession", content=b"",
                                headers={"Origin": "http://app.example", "content-type": "application/grpc-web+proto"})
        exposed = reply.headers["access-control-expose-headers"].lower()
        assert "grpc-status" in exposed and "grpc-status-details-bin" in exposed
        wrong_type = await http.post("/lingua.v1.SessionService/OpenSession", content=b"{}",
                                     headers={"content-type": "application/json"})
        assert wrong_type.status_code == 415


async def test_an_abandoned_grpc_web_session_is_closed_and_frees_its_quota_slot() -> None:
    async with gateway_env(session_idle_timeout_s=0.5) as env:
        tenant = await env.tenant(max_concurrent_sessions=1)
        open_request = session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr")
        async with httpx.AsyncClient(timeout=30) as http:
            web = GrpcWebClient(http, env.http_url, tenant.key)
            opened = (await web.unary("OpenSession", open_request)).parse(session_pb2.OpenSessionResponse)
            subscription = web.stream("Subscribe", session_pb2.SubscribeRequest(
                session_id=opened.session_id, resume_token=opened.resume_token), Reply())
            listening = asyncio.ensure_future(subscription.__anext__())
            await asyncio.sleep(1.0)  # longer than the idle timeout: a live subscriber keeps the session
            assert opened.session_id in env.scheduler.mesh.sessions
            assert (await web.unary("OpenSession", open_request)).error().code == common_pb2.QUOTA_EXCEEDED
            listening.cancel()  # the tab goes away
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await listening
            await subscription.aclose()
            for _ in range(100):
                if opened.session_id not in env.scheduler.mesh.sessions:
                    break
                await asyncio.sleep(0.05)
            assert opened.session_id not in env.scheduler.mesh.sessions
            again = await web.unary("OpenSession", open_request)
            assert again.status == 0, again.trailers


async def test_when_the_scheduler_goes_away_streams_end_with_an_error_and_websockets_stay_usable() -> None:
    async with gateway_env() as env:
        tenant = await env.tenant(max_concurrent_sessions=2)
        async with websockets.connect(f"{env.ws_url}/v1/stream?api_key={tenant.key}") as ws, \
                grpc.aio.insecure_channel(env.grpc_address) as channel:
            await ws.send(json.dumps({"type": "start", "src_lang": "en", "tgt_lang": "fr"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "started"
            call = session_pb2_grpc.SessionServiceStub(channel).Converse(
                metadata=(("authorization", f"Bearer {tenant.key}"),))
            await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en",
                                                                                           tgt_lang="fr")))
            assert (await asyncio.wait_for(call.read(), 10)).HasField("opened")
            await env.scheduler.stop(grace_s=0.2)
            ended = await asyncio.wait_for(call.read(), 10)
            assert ended.error.code == common_pb2.SESSION_CLOSED, ended
            assert await asyncio.wait_for(call.read(), 10) is grpc.aio.EOF  # the public stream ends too
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert frame["type"] == "error" and frame["code"] == "SESSION_CLOSED", frame
            # Both sessions' quota slots are free again, and the WebSocket still answers.
            for _ in range(50):
                if env.server.access.slots.held(tenant.tenant_id) == 0:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.05)
            assert env.server.access.slots.held(tenant.tenant_id) == 0  # type: ignore[attr-defined]
            await ws.send('{"type": "stop"}')
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert frame["code"] == "INVALID_SESSION", frame
