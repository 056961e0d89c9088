"""What every front door (REST, WebSocket, grpc-web, public gRPC) does, independent of its protocol.

Each call arrives with a Principal (already authenticated and admitted by the protocol adapter). Here the
tenant is stamped on every session (a client can never choose it), sessions take a concurrent-session
quota slot for their whole life, audio counts against the daily audio budget, and every call that names a
session id is checked against the ledger of who owns it.

What counts against the tenant's request rate: every HTTP request, unary call and stream opened (the
adapter's `authorize`), each further session started on an already open stream, and each whole `Utterance`
sent on a stream. Streamed audio chunks count only against the daily audio seconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from gateway.access import Access, Principal
from gateway.audio_meter import audio_seconds
from gateway.ledger import Owned, SessionLedger
from gateway.upstream import Upstream, UpstreamStream
from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import LinguaError


class FrontDoor:
    def __init__(self, access: Access, upstream: Upstream, *, timeout_s: float = 120.0,
                 idle_timeout_s: float = 120.0) -> None:
        self.access = access
        self.upstream = upstream
        self.timeout_s = timeout_s
        self.ledger = SessionLedger(upstream.owns, upstream.home, idle_timeout_s)

    async def authorize(self, api_key: str | None) -> Principal:
        return await self.access.authorize_request(api_key)

    async def hold_session_slot(self, who: Principal) -> contextlib.AsyncExitStack:
        """One of the tenant's concurrent-session slots (QUOTA_EXCEEDED when none is free)."""
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(self.access.session(who))
        return stack

    async def charge_audio(self, who: Principal, audio: common_pb2.Audio) -> None:
        seconds = audio_seconds(audio)
        if seconds > 0:
            await self.access.add_audio_seconds(who, seconds)

    # ---- one-shot -----------------------------------------------------------------------------------

    async def translate(self, who: Principal, request: session_pb2.TranslateRequest,
                        timeout_s: float | None = None) -> session_pb2.TranslateResponse:
        request.tenant_id = who.tenant_id
        async with self.access.session(who):
            await self.charge_audio(who, request.audio)
            return await self.upstream.translate(request, timeout_s or self.timeout_s)

    # ---- grpc-web style sessions: unary calls plus a server stream ----------------------------------

    async def open_session(self, who: Principal, request: session_pb2.OpenSessionRequest,
                           timeout_s: float | None = None) -> session_pb2.OpenSessionResponse:
        request.tenant_id = who.tenant_id
        timeout = timeout_s or self.timeout_s
        if request.resume_session_id:
            owned = await self.ledger.lookup(who.tenant_id, request.resume_session_id)
            response: session_pb2.OpenSessionResponse = await self.upstream.unary(
                owned.instance, "OpenSession", request, timeout)
            if owned.hold is None:  # opened through another gateway instance: its slot is held here now
                owned.hold = await self.hold_session_slot(who)
            return response
        hold = await self.hold_session_slot(who)
        instance = self.upstream.pick()
        try:
            response = await self.upstream.unary(instance, "OpenSession", request, timeout)
        except BaseException:
            await hold.aclose()
            raise
        self.ledger.record(response.session_id, who.tenant_id, instance, hold)
        return response

    async def push_audio(self, who: Principal, request: session_pb2.PushAudioRequest,
                         timeout_s: float | None = None) -> session_pb2.PushAudioResponse:
        kind = request.WhichOneof("kind")
        if kind is None:
            raise LinguaError(common_pb2.INVALID_MESSAGE, "PushAudio needs an `utterance` or an `audio_chunk`")
        item = request.utterance if kind == "utterance" else request.audio_chunk
        owned = await self.ledger.lookup(who.tenant_id, item.session_id)
        await self.charge_audio(who, item.audio)
        response: session_pb2.PushAudioResponse = await self.upstream.unary(
            owned.instance, "PushAudio", request, timeout_s or self.timeout_s)
        return response

    async def subscribe(self, who: Principal, request: session_pb2.SubscribeRequest,
                        timeout_s: float | None = None) -> AsyncGenerator[session_pb2.ServerMessage, None]:
        owned = await self.ledger.lookup(who.tenant_id, request.session_id)
        owned.subscribers += 1
        ended = False
        try:
            # aclosing: a client that goes away mid-stream ends the upstream call now, not at garbage collection.
            async with contextlib.aclosing(self.upstream.subscribe(owned.instance, request, timeout_s)) as stream:
                async for msg in stream:
                    yield msg
            ended = True  # the scheduler closed the stream: the session is over
        finally:
            owned.subscribers -= 1
            if ended:
                await self.ledger.release(request.session_id)

    async def close_session(self, who: Principal, request: session_pb2.CloseSessionRequest,
                            timeout_s: float | None = None) -> session_pb2.CloseSessionResponse:
        owned = await self.ledger.lookup(who.tenant_id, request.session_id)
        try:
            response: session_pb2.CloseSessionResponse = await self.upstream.unary(
                owned.instance, "CloseSession", request, timeout_s or self.timeout_s)
        finally:
            await self.ledger.release(request.session_id)
        return response

    async def expire(self, session_id: str, owned: Owned) -> None:
        """Close a session the ledger gave up on, so the scheduler frees it too."""
        await self.upstream.unary(owned.instance, "CloseSession", session_pb2.CloseSessionRequest(
            session_id=session_id, reason="idle at the gateway, nobody subscribed"), 5.0)

    # ---- streams: WebSocket and public Converse -----------------------------------------------------

    def conversation(self, who: Principal) -> Conversation:
        return Conversation(self, who)

    async def close(self) -> None:
        await self.ledger.release_all()


class Conversation:
    """One external streaming session over one upstream Converse stream, from `open` to its end."""

    def __init__(self, door: FrontDoor, who: Principal) -> None:
        self.door = door
        self.who = who
        self.stream: UpstreamStream | None = None
        self.session_id = ""

    @property
    def open(self) -> bool:
        return self.stream is not None

    async def start(self, request: session_pb2.OpenSessionRequest) -> session_pb2.ServerMessage:
        """Open the session: `opened`, or an `error` message; quota/ownership refusals raise LinguaError."""
        request.tenant_id = self.who.tenant_id
        if request.resume_session_id:
            await self.door.ledger.lookup(self.who.tenant_id, request.resume_session_id)
        hold = await self.door.hold_session_slot(self.who)
        stream = self.door.upstream.stream()
        try:
            msg = await stream.open(request)
        except BaseException:
            stream.cancel()
            await hold.aclose()
            raise
        if msg.HasField("error"):
            stream.cancel()
            await hold.aclose()
            return msg
        self.stream, self.session_id = stream, msg.opened.session_id
        owned = self.door.ledger.record(self.session_id, self.who.tenant_id, stream.instance, hold)
        owned.subscribers = 1  # the stream itself listens: never reaped as idle while it is open
        return msg

    async def send(self, message: session_pb2.ClientMessage) -> None:
        """Forward an utterance, audio chunk or heartbeat; the session id is checked and filled in."""
        if self.stream is None:
            raise LinguaError(common_pb2.INVALID_SESSION, "no session yet: start one first")
        kind = message.WhichOneof("kind")
        if kind in ("utterance", "audio_chunk"):
            item = message.utterance if kind == "utterance" else message.audio_chunk
            if item.session_id and item.session_id != self.session_id:
                raise LinguaError(common_pb2.INVALID_SESSION,
                                  f"this stream carries session {self.session_id!r}, not {item.session_id!r}")
            item.session_id = self.session_id
            if kind == "utterance":
                await self.door.access.admit(self.who)  # each utterance is a request against the rate
            await self.door.charge_audio(self.who, item.audio)
        elif kind != "heartbeat":
            raise LinguaError(common_pb2.INVALID_MESSAGE, f"message kind {kind!r} cannot be sent now")
        await self.stream.write(message)

    async def receive(self) -> session_pb2.ServerMessage | None:
        """The next message for the client; None when the session's stream has ended."""
        return None if self.stream is None else await self.stream.read()

    async def stop(self, reason: str = "client closed") -> None:
        """Ask the scheduler to close; its last messages and `closed` still come through receive()."""
        if self.stream is not None:
            await self.stream.close(reason)

    async def finish(self, closed: bool) -> None:
        """The external session is over: free its slot (closed=False: the stream merely dropped)."""
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.cancel()
        if self.session_id:
            await self.door.ledger.release(self.session_id, forget=closed)
