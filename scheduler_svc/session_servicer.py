"""SessionService: client streams and unary calls, translated into Mesh calls."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import grpc

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import LinguaError, abort, make_error
from scheduler_svc.mesh import Mesh
from scheduler_svc.sessions import Session

# grpc ships no type information; servicer contexts are untyped.
Context: TypeAlias = Any


def client_key(context: Context, request: session_pb2.OpenSessionRequest) -> str:
    """Who is asking, for throttling pairing attempts: the tenant, else the peer's address."""
    if request.tenant_id:
        return f"tenant:{request.tenant_id}"
    peer: str = context.peer() or ""
    return peer.rsplit(":", 1)[0] if peer.count(":") > 1 else peer


# Scaled out: the session (id, resume token) from wherever it was, made local; replace=True takes it over
# even if it is open here (a Converse stream reconnecting).
Resume = Callable[[str, str, bool], Awaitable[Session]]


class SessionServicer(session_pb2_grpc.SessionServiceServicer):
    def __init__(self, mesh: Mesh, resume: Resume | None = None) -> None:
        self.mesh = mesh
        self.resume = resume

    # ---- native clients: one bidi stream per session -----------------------------------------------

    async def Converse(self, request_iterator: Any, context: Context) -> None:
        session: Session | None = None
        writer: asyncio.Task[None] | None = None
        try:
            while True:
                msg = await context.read()
                if msg is grpc.aio.EOF:
                    return
                kind = msg.WhichOneof("kind")
                if session is None:
                    if kind != "open":
                        await context.write(session_pb2.ServerMessage(error=make_error(
                            common_pb2.INVALID_SESSION, "open the session first: send `open` as the first message")))
                        continue
                    try:
                        if msg.open.resume_session_id and self.resume is not None:
                            session = await self.resume(msg.open.resume_session_id, msg.open.resume_token, True)
                        else:
                            session = self.mesh.open_session(msg.open, client_key(context, msg.open))
                    except LinguaError as exc:
                        await context.write(session_pb2.ServerMessage(error=exc.to_proto()))
                        continue
                    session.subscribers = 1
                    session.send(self.mesh.opened_message(session))
                    writer = asyncio.get_running_loop().create_task(_pump(session, context))
                elif kind == "utterance":
                    self.mesh.submit_utterance(session, msg.utterance)
                elif kind == "audio_chunk":
                    self.mesh.submit_chunk(session, msg.audio_chunk)
                elif kind == "heartbeat":
                    session.send(session_pb2.ServerMessage(heartbeat=session_pb2.ServerHeartbeat(
                        timestamp_ms=int(time.time() * 1000))))
                elif kind == "close":
                    self.mesh.seal_chunks(session)
                    self.mesh.close_session(session, msg.close.reason or "client closed")
                    if writer is not None:
                        await writer
                    await context.write(session_pb2.ServerMessage(
                        closed=session_pb2.CloseSessionResponse(session_id=session.session_id)))
                    return
                else:
                    session.send(session_pb2.ServerMessage(error=make_error(
                        common_pb2.INVALID_MESSAGE,
                        f"message kind {kind!r} is not accepted now (this stream already has a session)")))
        finally:
            if session is not None:  # without `close` the client may resume it (scaled out: anywhere)
                self.mesh.close_session(session, "stream ended", forget=False)
            if writer is not None and not writer.done():
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer

    # ---- grpc-web clients: unary calls plus a server stream -----------------------------------------

    async def OpenSession(self, request: session_pb2.OpenSessionRequest,
                          context: Context) -> session_pb2.OpenSessionResponse:
        if request.resume_session_id:
            try:
                if self.resume is not None:
                    session = await self.resume(request.resume_session_id, request.resume_token, False)
                else:
                    session = self.mesh.find_session(request.resume_session_id, request.resume_token)
            except LinguaError as exc:
                await abort(context, exc.to_proto())
                raise AssertionError("unreachable") from None
            return self.mesh.opened(session)
        try:
            session = self.mesh.open_session(request, client_key(context, request))
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None
        self.mesh.arm_idle_timeout(session)
        return self.mesh.opened(session)

    async def PushAudio(self, request: session_pb2.PushAudioRequest, context: Context) -> session_pb2.PushAudioResponse:
        kind = request.WhichOneof("kind")
        item = request.utterance if kind == "utterance" else request.audio_chunk
        try:
            if kind is None:
                raise LinguaError(common_pb2.INVALID_MESSAGE, "PushAudio needs an `utterance` or an `audio_chunk`")
            session = self.mesh.find_session(item.session_id)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None
        response = session_pb2.PushAudioResponse(accepted=True)
        if kind == "utterance":
            self.mesh.submit_utterance(session, request.utterance)
            response.utterance_index = request.utterance.utterance_index
        else:
            sealed = self.mesh.submit_chunk(session, request.audio_chunk)
            if sealed is not None:
                response.utterance_index = sealed
        return response

    async def Subscribe(self, request: session_pb2.SubscribeRequest, context: Context) -> None:
        try:
            session = self.mesh.find_session(request.session_id, request.resume_token)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            return
        self.mesh.subscribed(session)
        try:
            await _pump(session, context)
        finally:
            self.mesh.unsubscribed(session)

    async def CloseSession(self, request: session_pb2.CloseSessionRequest,
                           context: Context) -> session_pb2.CloseSessionResponse:
        try:
            session = self.mesh.find_session(request.session_id)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None
        self.mesh.seal_chunks(session)
        self.mesh.close_session(session, request.reason or "client closed")
        return session_pb2.CloseSessionResponse(session_id=session.session_id)

    # ---- one-shot ------------------------------------------------------------------------------

    async def Translate(self, request: session_pb2.TranslateRequest, context: Context) -> session_pb2.TranslateResponse:
        open_req = session_pb2.OpenSessionRequest(
            src_lang=request.src_lang or "en", tgt_lang=request.tgt_lang or "en", dialect=request.dialect,
            features=request.features, pairing_code=request.pairing_code, tenant_id=request.tenant_id,
            platform="unary")
        try:
            session = self.mesh.open_session(open_req, client_key(context, open_req))
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None
        session.subscribers = 1
        try:
            self.mesh.submit_utterance(session, session_pb2.Utterance(
                session_id=session.session_id, utterance_index=0, audio=request.audio))
            while True:
                msg = await session.outbox.get()
                if msg is None:
                    await abort(context, make_error(common_pb2.SESSION_CLOSED, "the scheduler is shutting down"))
                elif msg.HasField("result"):
                    response = session_pb2.TranslateResponse()
                    response.ParseFromString(msg.result.SerializeToString())
                    return response
                elif msg.HasField("error"):
                    await abort(context, msg.error)
        finally:
            self.mesh.close_session(session, "translate done")


async def _pump(session: Session, context: Context) -> None:
    """Write the session's outgoing messages to a stream until the session closes."""
    while True:
        msg = await session.outbox.get()
        if msg is None:
            return
        await context.write(msg)
