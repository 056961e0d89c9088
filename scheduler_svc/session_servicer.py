"""SessionService: client streams and unary calls, translated into Mesh calls."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import grpc

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.errors import LinguaError, abort, make_error
from scheduler_svc import limits
from scheduler_svc.drain import SESSION_MOVED, SHUTTING_DOWN
from scheduler_svc.languages import list_languages
from scheduler_svc.mesh import Mesh
from scheduler_svc.sessions import Session, Superseded

# grpc ships no type information; servicer contexts are untyped.
Context: TypeAlias = Any


def client_key(context: Context, request: session_pb2.OpenSessionRequest) -> str:
    """Who is asking, for throttling pairing attempts: the tenant, else the peer's address.

    The tenant is the one the gateway stamped from the caller's API key: today the only principal there is.
    Until the scheduler authenticates its callers (issue 15's service credentials), a caller reaching the
    scheduler directly can claim any tenant; what bounds guessing then is pairing.py's scheduler-wide cap on
    wrong codes and its per-code miss budget, which no choice of key evades."""
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

    async def _open(self, request: session_pb2.OpenSessionRequest, context: Context) -> Session:
        """A new session; its pairing code is redeemed wherever codes live (scaled out: in Redis)."""
        self.mesh.check_open(request)  # before the code is used up
        paired = ""
        if request.pairing_code:
            paired = await self.mesh.pairing_store.redeem(request.pairing_code, client_key(context, request))
        return self.mesh.open_session(request, client_key(context, request), paired_node_id=paired)

    async def _refuse_if_draining(self, context: Context) -> None:
        """Shutting down (drain.py): UNAVAILABLE sends the client to another instance (or, alone, later)."""
        if self.mesh.draining:
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                SESSION_MOVED if self.mesh.clustered else f"{SHUTTING_DOWN}; try again shortly")

    async def _refuse(self, context: Context, check: Callable[[], None]) -> None:
        """Run a bounds check (limits.py); a failure ends the call with its typed error."""
        try:
            check()
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None

    # ---- native clients: one bidi stream per session -----------------------------------------------

    async def Converse(self, request_iterator: Any, context: Context) -> None:
        stream = _Converse()
        reader = asyncio.get_running_loop().create_task(self._converse(context, stream))
        moved = asyncio.get_running_loop().create_task(stream.ended.wait())
        try:
            await asyncio.wait([reader, moved], return_when=asyncio.FIRST_COMPLETED)
            if reader.done():
                reader.result()
                return
            # The scheduler ended the session and everything for it was written: end the stream (handed
            # over: UNAVAILABLE, so the client resumes elsewhere; shut down or too slow: the last message
            # said why).
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            if stream.session is not None and stream.session.handed_over:
                await context.abort(grpc.StatusCode.UNAVAILABLE, SESSION_MOVED)
        finally:
            moved.cancel()
            if not reader.done():
                reader.cancel()
            if stream.session is not None:  # without `close` the client may resume it (scaled out: anywhere)
                self.mesh.close_session(stream.session, "stream ended", forget=False)
            if stream.writer is not None and not stream.writer.done():
                stream.writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await stream.writer

    async def _converse(self, context: Context, stream: _Converse) -> None:
        while True:
            msg = await context.read()
            if msg is grpc.aio.EOF:
                return
            kind = msg.WhichOneof("kind")
            session = stream.session
            if session is None:
                if kind != "open":
                    await context.write(session_pb2.ServerMessage(error=make_error(
                        common_pb2.INVALID_SESSION, "open the session first: send `open` as the first message")))
                    continue
                await self._refuse_if_draining(context)
                try:
                    limits.check_open(msg.open)
                    if msg.open.resume_session_id and self.resume is not None:
                        session = await self.resume(msg.open.resume_session_id, msg.open.resume_token, True)
                    else:
                        session = await self._open(msg.open, context)
                except LinguaError as exc:
                    await context.write(session_pb2.ServerMessage(error=exc.to_proto()))
                    continue
                stream.session = session
                reader = self.mesh.subscribed(session)
                session.send(self.mesh.opened_message(session))
                stream.writer = asyncio.get_running_loop().create_task(_pump(session, context, reader))
                stream.writer.add_done_callback(stream.written)
            elif kind == "utterance":
                self.mesh.submit_utterance(session, msg.utterance)
            elif kind == "audio_chunk":
                self.mesh.submit_chunk(session, msg.audio_chunk)
            elif kind == "heartbeat":
                session.send(session_pb2.ServerMessage(heartbeat=session_pb2.ServerHeartbeat(
                    timestamp_ms=int(time.time() * 1000))))
            elif kind == "close":
                if session.ended_by_server:
                    continue  # the stream is ending with the scheduler's own last message
                self.mesh.seal_chunks(session)
                self.mesh.close_session(session, msg.close.reason or "client closed")
                if stream.writer is not None:
                    await stream.writer
                await context.write(session_pb2.ServerMessage(
                    closed=session_pb2.CloseSessionResponse(session_id=session.session_id)))
                return
            else:
                session.send(session_pb2.ServerMessage(error=make_error(
                    common_pb2.INVALID_MESSAGE,
                    f"message kind {kind!r} is not accepted now (this stream already has a session)")))

    # ---- grpc-web clients: unary calls plus a server stream -----------------------------------------

    async def OpenSession(self, request: session_pb2.OpenSessionRequest,
                          context: Context) -> session_pb2.OpenSessionResponse:
        await self._refuse_if_draining(context)
        await self._refuse(context, lambda: limits.check_open(request))
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
            session = await self._open(request, context)
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
            limits.check_session_ref(item.session_id)
            session = self.mesh.find_session(item.session_id)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None
        response = session_pb2.PushAudioResponse(accepted=True)
        if kind == "utterance":
            response.accepted = self.mesh.submit_utterance(session, request.utterance)
            response.utterance_index = request.utterance.utterance_index
        else:
            sealed = self.mesh.submit_chunk(session, request.audio_chunk)
            if sealed is not None:
                response.utterance_index = sealed
        return response

    async def Subscribe(self, request: session_pb2.SubscribeRequest, context: Context) -> None:
        """Read the session's messages. A newer Subscribe (a resume) takes over at once: this stream gets
        nothing more and ends, and whatever it had not been given goes to the new one."""
        try:
            limits.check_session_ref(request.session_id, request.resume_token)
            session = self.mesh.find_session(request.session_id, request.resume_token)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            return
        reader = self.mesh.subscribed(session)
        try:
            await _pump(session, context, reader)
        finally:
            self.mesh.unsubscribed(session, reader)
        if session.handed_over:  # the client re-opens it with resume_session_id on another instance
            await context.abort(grpc.StatusCode.UNAVAILABLE, SESSION_MOVED)

    async def CloseSession(self, request: session_pb2.CloseSessionRequest,
                           context: Context) -> session_pb2.CloseSessionResponse:
        try:
            limits.check_session_ref(request.session_id, reason=request.reason)
            session = self.mesh.find_session(request.session_id)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None
        self.mesh.seal_chunks(session)
        self.mesh.close_session(session, request.reason or "client closed")
        return session_pb2.CloseSessionResponse(session_id=session.session_id)

    # ---- one-shot ------------------------------------------------------------------------------

    async def Translate(self, request: session_pb2.TranslateRequest, context: Context) -> session_pb2.TranslateResponse:
        await self._refuse(context, lambda: limits.check_translate(request))
        open_req = session_pb2.OpenSessionRequest(
            src_lang=request.src_lang or "en", tgt_lang=request.tgt_lang or "en", dialect=request.dialect,
            features=request.features, pairing_code=request.pairing_code, tenant_id=request.tenant_id,
            platform="unary")
        await self._refuse_if_draining(context)
        try:
            session = await self._open(open_req, context)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None
        reader = self.mesh.subscribed(session)
        try:
            self.mesh.submit_utterance(session, session_pb2.Utterance(
                session_id=session.session_id, utterance_index=0, audio=request.audio))
            while True:
                msg = await session.outbox.get(reader)
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

    async def ListLanguages(self, request: session_pb2.ListLanguagesRequest,
                            context: Context) -> session_pb2.ListLanguagesResponse:
        return list_languages(self.mesh.registry.nodes.values())


@dataclass
class _Converse:
    """One Converse stream: its session once opened, the task writing to it, and whether the scheduler ended it."""

    session: Session | None = None
    writer: asyncio.Task[None] | None = None
    # Set when the scheduler ended the session (handed over, shut down, client too slow) and all was written.
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def written(self, _writer: asyncio.Task[None]) -> None:
        if self.session is not None and (self.session.handed_over or self.session.ended_by_server):
            self.ended.set()


async def _pump(session: Session, context: Context, reader: int) -> None:
    """Write the session's outgoing messages to a stream until the session closes or another stream takes
    it over (a message already being written when that happens belongs to this stream)."""
    while True:
        try:
            msg = await session.outbox.get(reader)
        except Superseded:
            return
        if msg is None:
            return
        await context.write(msg)
