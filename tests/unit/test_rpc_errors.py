"""lingua/rpc.py: the typed lingua.v1.Error a failed call carries, read back by services and the SDK alike."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from lingua.client import ClientError
from lingua.rpc import error_from_rpc
from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import LinguaError, abort
from lingua_common.grpc_server import ServiceServer


class _Refusing(session_pb2_grpc.SessionServiceServicer):
    """Translate fails with a typed error; OpenSession with a bare status; CloseSession runs past its deadline."""

    async def Translate(self, request, context):  # type: ignore[no-untyped-def]
        await abort(context, LinguaError(common_pb2.RATE_LIMITED, "slow down", retry_after_ms=250).to_proto())

    async def OpenSession(self, request, context):  # type: ignore[no-untyped-def]
        await context.abort(grpc.StatusCode.UNAVAILABLE, "no scheduler")

    async def CloseSession(self, request, context):  # type: ignore[no-untyped-def]
        await asyncio.sleep(5)
        return session_pb2.CloseSessionResponse()


@pytest.fixture
async def address():  # type: ignore[no-untyped-def]
    server = ServiceServer(["lingua.v1.SessionService"])
    server.add(lambda s: session_pb2_grpc.add_SessionServiceServicer_to_server(_Refusing(), s))
    port = await server.start("127.0.0.1:0")
    yield f"127.0.0.1:{port}"
    await server.stop(0)


async def test_aio_errors_carry_the_typed_error_or_one_standing_for_the_status(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = session_pb2_grpc.SessionServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as typed:
            await stub.Translate(session_pb2.TranslateRequest())
        with pytest.raises(grpc.aio.AioRpcError) as bare:
            await stub.OpenSession(session_pb2.OpenSessionRequest())
        with pytest.raises(grpc.aio.AioRpcError) as late:
            await stub.CloseSession(session_pb2.CloseSessionRequest(), timeout=0.2)
    carried = error_from_rpc(typed.value)
    assert (carried.code, carried.message, carried.retry_after_ms) == (common_pb2.RATE_LIMITED, "slow down", 250)
    assert (error_from_rpc(bare.value).code, error_from_rpc(bare.value).message) == (
        common_pb2.NO_AVAILABLE_NODE, "no scheduler")
    assert error_from_rpc(late.value).code == common_pb2.RESULT_TIMEOUT


async def test_sync_errors_become_client_errors_the_same_way(address: str) -> None:
    def call() -> tuple[ClientError, ClientError]:
        with grpc.insecure_channel(address) as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            found = []
            for method, request in (("Translate", session_pb2.TranslateRequest()),
                                    ("OpenSession", session_pb2.OpenSessionRequest())):
                try:
                    getattr(stub, method)(request, timeout=10)
                except grpc.RpcError as exc:
                    found.append(ClientError.from_rpc(exc))
            return found[0], found[1]

    typed, bare = await asyncio.to_thread(call)
    assert (typed.code, typed.retry_after_ms, typed.grpc_code) == ("RATE_LIMITED", 250,
                                                                   grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert typed.error is not None and typed.error.message == "slow down"
    assert (bare.code, bare.error, bare.grpc_code) == ("NO_AVAILABLE_NODE", None, grpc.StatusCode.UNAVAILABLE)
