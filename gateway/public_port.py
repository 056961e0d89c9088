"""The public gRPC port's guard: its server options, and API-key authentication in a server interceptor.

- Options: messages read up to `receive_limit_bytes` (enough for max_utterance_s of 48 kHz stereo PCM16; 12 MiB
  by default, bigger ones end the call with RESOURCE_EXHAUSTED), at most `max_concurrent_streams` streams per
  client connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: further ones wait), sent up to max_message_mb.
- Every SessionService call is authorized (API key, failed-key throttling by client address and key prefix,
  the tenant's rate) by `ApiKeyInterceptor` from its metadata and peer before its request is read: a unary
  request is served as a request stream whose one message is read only once the key was accepted, so an
  unauthenticated caller's body is never parsed (gRPC still takes in up to one flow-control window of it).
  The principal reaches the servicer in the `PRINCIPAL` context variable. TenantAdmin (admin token), health
  and reflection pass through.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import Any

import grpc

from gateway import metrics
from gateway.access import Principal
from gateway.authguard import client_address, grpc_peer_host
from gateway.config import GatewaySettings
from gateway.frontdoor import FrontDoor
from gateway.http_errors import bearer_token
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError, abort, code_name
from lingua_common.grpc_server import merged_options

DOOR = "grpc"
GUARDED_PREFIX = "/lingua.v1.SessionService/"

# The caller of the SessionService call being served, set by the interceptor.
PRINCIPAL: ContextVar[Principal] = ContextVar("gateway_principal")


def public_options(settings: GatewaySettings) -> list[tuple[str, int]]:
    return merged_options(settings.max_message_mb, {"grpc.max_receive_message_length": settings.receive_limit_bytes,
                                                    "grpc.max_concurrent_streams": settings.max_concurrent_streams})


class ApiKeyInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, door: FrontDoor, trusted_proxies: Iterable[str] = ()) -> None:
        self.door = door
        self.trusted_proxies = tuple(trusted_proxies)

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or not str(details.method).startswith(GUARDED_PREFIX):
            return handler
        return self._guard(handler)

    async def _authorize(self, context: Any) -> Principal:
        metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        client = client_address(grpc_peer_host(str(context.peer())), metadata.get("x-forwarded-for"),
                                self.trusted_proxies)
        try:
            return await self.door.authorize(bearer_token(metadata.get("authorization")), client)
        except LinguaError as exc:
            metrics.REQUESTS.labels(DOOR, code_name(exc.code)).inc()
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None

    def _guard(self, handler: Any) -> Any:
        if handler.request_streaming:  # Converse: the servicer reads the stream itself, after this
            streaming = handler.stream_stream or handler.stream_unary

            async def guarded_stream(request_iterator: Any, context: Any) -> Any:
                PRINCIPAL.set(await self._authorize(context))
                return await streaming(request_iterator, context)

            make = grpc.stream_stream_rpc_method_handler if handler.response_streaming \
                else grpc.stream_unary_rpc_method_handler
            return make(guarded_stream, request_deserializer=handler.request_deserializer,
                        response_serializer=handler.response_serializer)
        unary = handler.unary_unary or handler.unary_stream
        streams_out = handler.response_streaming

        async def guarded(request_iterator: Any, context: Any) -> None:
            PRINCIPAL.set(await self._authorize(context))
            request = await context.read()  # only now: the key was accepted
            if request is grpc.aio.EOF:
                await abort(context, LinguaError(common_pb2.INVALID_MESSAGE, "the call carried no request").to_proto())
            if not streams_out:
                await context.write(await unary(request, context))
                return
            result = unary(request, context)
            if inspect.isasyncgen(result):
                async for message in result:
                    await context.write(message)
            else:
                await result

        return grpc.stream_stream_rpc_method_handler(guarded, request_deserializer=handler.request_deserializer,
                                                     response_serializer=handler.response_serializer)
