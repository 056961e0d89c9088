"""What every front door (REST, WebSocket, grpc-web, public gRPC) does, independent of its protocol.

Each call arrives with a Principal (already authenticated and admitted by the protocol adapter). Here the
tenant is stamped on every session (a client can never choose it), sessions take a concurrent-session
quota slot for their whole life, audio counts against the daily audio budget, and every call that names a
session id is checked against the ledger of who owns it.

What counts against the tenant's request rate: every HTTP request, unary call and stream opened (the
adapter's `authorize`), each further session started on an already open stream, and each whole `Utterance`
sent on a stream. Streamed audio chunks count only against the daily audio seconds.

Audio counts by its DECODED seconds (gateway/audio_meter.py: the bounded decoder, in a worker thread). A
one-shot Translate whose audio does not decode within the limits is refused here (INVALID_AUDIO /
PAYLOAD_TOO_LARGE); an utterance in a session is forwarded all the same, so that its refusal comes from the
scheduler or node in utterance order, exactly once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from gateway.access import Access, Principal
from gateway.audio_meter import AudioMeter, ChunkMeter
from gateway.ledger import Owned, SessionLedger
from gateway.upstream import Upstream, UpstreamStream
from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import LinguaError


class FrontDoor:
    def __init__(self, access: Access, upstream: Upstream, *, timeout_s: float = 120.0,
                 idle_timeout_s: float = 120.0, max_utterance_s: float = 60.0,
                 max_chunk_bytes: int = 12 * 1024 * 1024) -> None:
        self.access = access
        self.upstream = upstream
        self.timeout_s = timeout_s
        self.ledger = SessionLedger(upstream.owns, upstream.home, idle_timeout_s)
        self.meter = AudioMeter(max_utterance_s)
        # Most bytes of compressed chunks kept for one utterance until it ends (then measured).
        self.max_chunk_bytes = max_chunk_bytes

    async def authorize(self, api_key: str | None, client: str = "") -> Principal:
        """The caller's tenant (UNAUTHENTICATED), admitted against its rate (RATE_LIMITED); `client` is its
        address, by which repeated bad keys are throttled (RATE_LIMITED before any lookup)."""
        return await self.access.authorize_request(api_key, client)

    async def hold_session_slot(self, who: Principal) -> contextlib.AsyncExitStack:
        """One of the tenant's concurrent-session slots (QUOTA_EXCEEDED when none is free)."""
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(self.access.session(who))
        return stack

    async def charge_audio(self, who: Principal, audio: common_pb2.Audio, *, refuse_bad: bool = False) -> None:
        """Count the audio's decoded seconds (QUOTA_EXCEEDED when over the day's quota). refuse_bad: raise
        the decoder's INVALID_AUDIO / PAYLOAD_TOO_LARGE too (else the audio goes on, to be refused in order)."""
        measured = await self.meter.measure(audio)
        if refuse_bad and measured.error is not None:
            raise measured.error
        await self.access.add_audio_seconds(who, measured.seconds)

    async def charge_chunk(self, who: Principal, owned: Owned, chunk: session_pb2.AudioChunk) -> None:
        """A streamed chunk: PCM16 counted before it is forwarded; compressed ones when their utterance ends."""
        if owned.chunks is None:
            owned.chunks = ChunkMeter(self.meter, self.max_chunk_bytes)
        seconds = await owned.chunks.chunk(chunk.audio, chunk.is_final)
        if seconds is not None:
            await self.access.add_audio_seconds(who, seconds)
        elif chunk.is_final:
            await self.utterance_ended(who, owned)

    async def utterance_ended(self, who: Principal, owned: Owned | None) -> None:
        """Count the kept chunks of an utterance that ended (already forwarded: counted whatever the total)."""
        if owned is not None and owned.chunks is not None:
            await self.access.add_audio_seconds(who, await owned.chunks.ended(), force=True)

    async def observe(self, who: Principal, owned: Owned | None, msg: session_pb2.ServerMessage) -> None:
        """A message from the scheduler: an utterance sealed after a pause ends the chunks kept for it."""
        if (msg.HasField("event") and msg.event.kind == session_pb2.SessionEvent.KIND_UTTERANCE_SEALED
                and owned is not None and owned.chunks is not None and owned.chunks.sealed_by_pause()):
            await self.utterance_ended(who, owned)

    # ---- one-shot -----------------------------------------------------------------------------------

    async def translate(self, who: Principal, request: session_pb2.TranslateRequest,
                        timeout_s: float | None = None) -> session_pb2.TranslateResponse:
        request.tenant_id = who.tenant_id
        async with self.access.session(who):
            await self.charge_audio(who, request.audio, refuse_bad=True)
            return await self.upstream.translate(request, timeout_s or self.timeout_s)

    async def list_languages(self, who: Principal, request: session_pb2.ListLanguagesRequest | None = None,
                             timeout_s: float | None = None) -> session_pb2.ListLanguagesResponse:
        """The pairs the mesh serves now (any scheduler instance knows every online node)."""
        del who  # authorized (and counted against the rate) by the caller; the answer is the same for every tenant
        response: session_pb2.ListLanguagesResponse = await self.upstream.unary(
            self.upstream.pick(), "ListLanguages", request or session_pb2.ListLanguagesRequest(),
            min(timeout_s or self.timeout_s, 30.0))
        return response

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
        owned = await self.ledger.lookup(
            who.tenant_id, request.utterance.session_id if kind == "utterance" else request.audio_chunk.session_id)
        if kind == "utterance":
            await self.charge_audio(who, request.utterance.audio)
        else:
            await self.charge_chunk(who, owned, request.audio_chunk)
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
                    await self.observe(who, owned, msg)
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
        self.owned: Owned | None = None

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
        self.owned = owned
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
            else:
                assert self.owned is not None
                await self.door.charge_chunk(self.who, self.owned, message.audio_chunk)
        elif kind != "heartbeat":
            raise LinguaError(common_pb2.INVALID_MESSAGE, f"message kind {kind!r} cannot be sent now")
        await self.stream.write(message)

    async def receive(self) -> session_pb2.ServerMessage | None:
        """The next message for the client; None when the session's stream has ended."""
        if self.stream is None:
            return None
        msg = await self.stream.read()
        if msg is not None:
            await self.door.observe(self.who, self.owned, msg)
        return msg

    async def stop(self, reason: str = "client closed") -> None:
        """Ask the scheduler to close; its last messages and `closed` still come through receive()."""
        if self.stream is not None:
            await self.stream.close(reason)

    async def finish(self, closed: bool) -> None:
        """The external session is over: free its slot (closed=False: the stream merely dropped)."""
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.cancel()
        with contextlib.suppress(LinguaError):  # chunks of an utterance that never ended still count
            await self.door.utterance_ended(self.who, self.owned)
        if self.session_id:
            await self.door.ledger.release(self.session_id, forget=closed)
