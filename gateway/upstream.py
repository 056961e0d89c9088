"""The gateway's side of the scheduler: channels, unary calls, and one Converse stream per external session.

The original gateway opened a new scheduler connection for every utterance and so lost every result
(reference §15.8). Here an external session (a WebSocket, a public Converse stream) owns exactly one
`UpstreamStream` from `start` to `stop`; everything it sends and receives goes through that one stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import zlib
from collections.abc import AsyncGenerator
from typing import Any

import grpc

from lingua.v1 import admin_pb2, admin_pb2_grpc, common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import LinguaError, error_from_rpc
from lingua_common.grpc_server import channel_options


def upstream_error(exc: grpc.RpcError) -> LinguaError:
    """A failed scheduler call as the LinguaError it carries (connection failures read as unavailable)."""
    err = error_from_rpc(exc)
    return LinguaError(err.code, err.message, retry_after_ms=err.retry_after_ms)


class Upstream:
    """Channels to one or more scheduler instances (scaled out: several behind shared Redis state)."""

    def __init__(self, addresses: list[str], max_message_mb: int = 64) -> None:
        if not addresses:
            raise ValueError("the gateway needs at least one scheduler address")
        self.addresses = addresses
        self._channels = [grpc.aio.insecure_channel(a, options=channel_options(max_message_mb)) for a in addresses]
        self._sessions = [session_pb2_grpc.SessionServiceStub(c) for c in self._channels]
        self._admins = [admin_pb2_grpc.SchedulerAdminStub(c) for c in self._channels]
        self._next = itertools.cycle(range(len(addresses)))

    def pick(self) -> int:
        """The instance for a new session (round robin)."""
        return next(self._next)

    def home(self, session_id: str) -> int:
        """A stable instance for a session this gateway did not open (any instance can resume it)."""
        return zlib.crc32(session_id.encode()) % len(self._channels)

    def sessions(self, instance: int) -> session_pb2_grpc.SessionServiceStub:
        return self._sessions[instance]

    async def translate(self, request: session_pb2.TranslateRequest,
                        timeout_s: float) -> session_pb2.TranslateResponse:
        try:
            response: session_pb2.TranslateResponse = await self._sessions[self.pick()].Translate(
                request, timeout=timeout_s)
        except grpc.RpcError as exc:
            raise upstream_error(exc) from None
        return response

    async def unary(self, instance: int, method: str, request: Any, timeout_s: float) -> Any:
        """OpenSession / PushAudio / CloseSession / ListLanguages on one instance, failures as LinguaError."""
        try:
            return await getattr(self._sessions[instance], method)(request, timeout=timeout_s)
        except grpc.RpcError as exc:
            raise upstream_error(exc) from None

    async def subscribe(self, instance: int, request: session_pb2.SubscribeRequest,
                        timeout_s: float | None) -> AsyncGenerator[session_pb2.ServerMessage, None]:
        call = self._sessions[instance].Subscribe(request, timeout=timeout_s)
        try:
            async for msg in call:
                yield msg
        except grpc.RpcError as exc:
            raise upstream_error(exc) from None
        finally:
            call.cancel()

    async def owns(self, tenant_id: str, session_id: str) -> bool:
        """Whether a session opened elsewhere (another gateway instance) is this tenant's: asks the schedulers."""
        for admin in self._admins:
            try:
                listing = await admin.ListSessions(admin_pb2.ListSessionsRequest(tenant_id=tenant_id), timeout=5)
            except grpc.RpcError:
                continue
            if any(info.session_id == session_id and info.tenant_id == tenant_id for info in listing.sessions):
                return True
        return False

    def stream(self) -> UpstreamStream:
        instance = self.pick()
        return UpstreamStream(self._sessions[instance], instance)

    async def ready(self, timeout_s: float) -> bool:
        """Whether at least one scheduler channel connects within the timeout."""
        async def one(channel: grpc.aio.Channel) -> bool:
            try:
                await asyncio.wait_for(channel.channel_ready(), timeout_s)
                return True
            except (TimeoutError, grpc.RpcError):
                return False
        return any(await asyncio.gather(*(one(c) for c in self._channels)))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._channels))


class UpstreamStream:
    """One Converse call to the scheduler, held for a whole external session."""

    def __init__(self, stub: session_pb2_grpc.SessionServiceStub, instance: int = 0) -> None:
        self._call = stub.Converse()
        self.instance = instance
        self.session_id = ""

    async def open(self, request: session_pb2.OpenSessionRequest) -> session_pb2.ServerMessage:
        """Send `open`; returns the scheduler's answer (`opened`, or an `error` — the stream stays usable)."""
        await self.write(session_pb2.ClientMessage(open=request))
        while True:
            msg = await self.read()
            if msg is None:
                raise LinguaError(common_pb2.INTERNAL, "the scheduler ended the session stream while opening")
            if msg.HasField("opened"):
                self.session_id = msg.opened.session_id
                return msg
            if msg.HasField("error"):
                return msg

    async def write(self, message: session_pb2.ClientMessage) -> None:
        try:
            await self._call.write(message)
        except (grpc.RpcError, asyncio.InvalidStateError) as exc:
            raise LinguaError(common_pb2.SESSION_CLOSED, f"the scheduler stream is gone: {exc}") from None

    async def read(self) -> session_pb2.ServerMessage | None:
        """The next message from the scheduler; None once the stream has ended."""
        try:
            msg = await self._call.read()
        except grpc.RpcError as exc:
            if self._call.cancelled():
                return None
            err = error_from_rpc(exc)  # e.g. the scheduler shut down: the session is gone, not "no node"
            raise LinguaError(common_pb2.SESSION_CLOSED,
                              f"the scheduler ended the session stream ({err.message}); open a new session") from None
        return None if msg is grpc.aio.EOF else msg

    async def close(self, reason: str = "client closed") -> None:
        """Ask the scheduler to close the session; its remaining messages (then `closed`) still arrive."""
        await self.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest(
            session_id=self.session_id, reason=reason)))
        with contextlib.suppress(grpc.RpcError, asyncio.InvalidStateError):
            await self._call.done_writing()

    def cancel(self) -> None:
        """Drop the stream without `close` (the external client vanished)."""
        self._call.cancel()
