"""SessionService on the gateway's public gRPC port (50053): the scheduler's API behind an API key.

The key is metadata `authorization: Bearer <key>`, checked by gateway/public_port.py's interceptor before the
request is read (which hands the caller over in PRINCIPAL). Calls are the scheduler's, with the tenant stamped
by the gateway; failures are gRPC statuses carrying a lingua.v1.Error (RATE_LIMITED → RESOURCE_EXHAUSTED with
retry_after_ms), and on Converse, once the stream is authorized, errors travel in-stream as on the scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, NoReturn, TypeAlias

import grpc

from gateway import metrics
from gateway.access import Principal
from gateway.frontdoor import Conversation, FrontDoor
from gateway.http_errors import bearer_token
from gateway.public_port import PRINCIPAL
from gateway.relay import session_end_error
from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import LinguaError, abort, code_name

# grpc ships no type information; servicer contexts are untyped.
Context: TypeAlias = Any

DOOR = "grpc"


async def _fail(context: Context, exc: LinguaError) -> NoReturn:
    metrics.REQUESTS.labels(DOOR, code_name(exc.code)).inc()
    await abort(context, exc.to_proto())
    raise AssertionError("unreachable")


def _remaining(context: Context) -> float | None:
    remaining: float | None = context.time_remaining()
    return remaining


class PublicSessionServicer(session_pb2_grpc.SessionServiceServicer):
    def __init__(self, door: FrontDoor) -> None:
        self.door = door

    async def _who(self, context: Context) -> Principal:
        try:
            return PRINCIPAL.get()  # authorized by the interceptor (the servicer runs behind it in the gateway)
        except LookupError:
            pass
        metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        try:
            return await self.door.authorize(bearer_token(metadata.get("authorization")))
        except LinguaError as exc:
            await _fail(context, exc)

    async def Translate(self, request: session_pb2.TranslateRequest,
                        context: Context) -> session_pb2.TranslateResponse:
        who = await self._who(context)
        try:
            response = await self.door.translate(who, request, _remaining(context))
        except LinguaError as exc:
            await _fail(context, exc)
        metrics.REQUESTS.labels(DOOR, "OK").inc()
        return response

    async def ListLanguages(self, request: session_pb2.ListLanguagesRequest,
                            context: Context) -> session_pb2.ListLanguagesResponse:
        who = await self._who(context)
        try:
            response = await self.door.list_languages(who, request, _remaining(context))
        except LinguaError as exc:
            await _fail(context, exc)
        metrics.REQUESTS.labels(DOOR, "OK").inc()
        return response

    async def OpenSession(self, request: session_pb2.OpenSessionRequest,
                          context: Context) -> session_pb2.OpenSessionResponse:
        who = await self._who(context)
        try:
            return await self.door.open_session(who, request, _remaining(context))
        except LinguaError as exc:
            await _fail(context, exc)

    async def PushAudio(self, request: session_pb2.PushAudioRequest, context: Context) -> session_pb2.PushAudioResponse:
        who = await self._who(context)
        try:
            return await self.door.push_audio(who, request, _remaining(context))
        except LinguaError as exc:
            await _fail(context, exc)

    async def CloseSession(self, request: session_pb2.CloseSessionRequest,
                           context: Context) -> session_pb2.CloseSessionResponse:
        who = await self._who(context)
        try:
            return await self.door.close_session(who, request, _remaining(context))
        except LinguaError as exc:
            await _fail(context, exc)

    async def Subscribe(self, request: session_pb2.SubscribeRequest, context: Context) -> None:
        who = await self._who(context)
        try:
            async with contextlib.aclosing(self.door.subscribe(who, request, _remaining(context))) as stream:
                async for msg in stream:
                    await context.write(msg)
        except LinguaError as exc:
            await _fail(context, exc)

    async def Converse(self, request_iterator: Any, context: Context) -> None:
        who = await self._who(context)
        await ConverseProxy(self.door.conversation(who), context).run()


class ConverseProxy:
    """One public Converse stream ↔ one upstream Converse stream."""

    def __init__(self, conversation: Conversation, context: Context) -> None:
        self.conversation = conversation
        self.context = context
        self.pump: asyncio.Task[bool] | None = None
        self.opens = 0
        self._write_lock = asyncio.Lock()  # the pump and the reader both write

    async def write(self, message: session_pb2.ServerMessage) -> None:
        async with self._write_lock:
            await self.context.write(message)

    async def run(self) -> None:
        closed = False
        metrics.SESSIONS.labels(DOOR).inc()
        try:
            while True:
                msg = await self.next_message()
                if msg is None:  # the client finished writing, or the scheduler ended the session
                    closed = self.pump is not None and self.pump.done() and self.pump.result()
                    return
                if msg.WhichOneof("kind") == "close" and self.conversation.open:
                    await self.conversation.stop(msg.close.reason or "client closed")
                    closed = self.pump is not None and await self.pump
                    return
                await self.handle(msg)
        finally:
            metrics.SESSIONS.labels(DOOR).dec()
            if self.pump is not None and not self.pump.done():
                self.pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.pump
            await self.conversation.finish(closed=closed)

    async def next_message(self) -> session_pb2.ClientMessage | None:
        """The client's next message; None at its end of stream or when the upstream session ended."""
        read = asyncio.ensure_future(self.context.read())
        waiting: set[asyncio.Future[Any]] = {read} if self.pump is None else {read, self.pump}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not read.done():
            read.cancel()
            return None
        msg = read.result()
        return None if msg is grpc.aio.EOF else msg  # type: ignore[no-any-return]

    async def handle(self, msg: session_pb2.ClientMessage) -> None:
        kind = msg.WhichOneof("kind")
        try:
            if not self.conversation.open:
                if kind != "open":
                    raise LinguaError(common_pb2.INVALID_SESSION,
                                      "open the session first: send `open` as the first message")
                if self.opens:  # the call's admission paid for the first open; a retry is a request of its own
                    await self.conversation.door.access.admit(self.conversation.who)
                self.opens += 1
                opened = await self.conversation.start(msg.open)
                await self.write(opened)
                if self.conversation.open:
                    metrics.REQUESTS.labels(DOOR, "OK").inc()
                    self.pump = asyncio.create_task(self.forward())
            elif kind == "open":
                raise LinguaError(common_pb2.INVALID_MESSAGE, "this stream already has a session")
            else:
                await self.conversation.send(msg)
        except LinguaError as exc:
            index = msg.utterance.utterance_index if kind == "utterance" else None
            await self.write(session_pb2.ServerMessage(error=exc.to_proto(index)))

    async def forward(self) -> bool:
        """Scheduler → client until the upstream stream ends; True when it ended with `closed`."""
        closed = told = False
        try:
            while (msg := await self.conversation.receive()) is not None:
                closed = closed or msg.HasField("closed")
                told = session_end_error(msg)
                await self.write(msg)
            if not closed and not told:  # (a scheduler that stops says so itself: a last SESSION_CLOSED)
                raise LinguaError(common_pb2.SESSION_CLOSED, "the scheduler ended this session; open a new one")
        except LinguaError as exc:
            await self.write(session_pb2.ServerMessage(error=exc.to_proto()))
        return closed
