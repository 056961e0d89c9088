"""SessionService: client streams and unary calls, translated into Mesh calls."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeAlias

import grpc
from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc

from lingua_common.errors import LinguaError, abort, make_error
from scheduler_svc.mesh import Mesh
from scheduler_svc.sessions import Session

# grpc ships no type information; servicer contexts are untyped.
Context: TypeAlias = Any


class SessionServicer(session_pb2_grpc.SessionServiceServicer):
    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh

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
                        session = self.mesh.open_session(msg.open)
                    except LinguaError as exc:
                        await context.write(session_pb2.ServerMessage(error=exc.to_proto()))
                        continue
                    session.send(self.mesh.opened_message(session))
                    writer = asyncio.get_running_loop().create_task(_pump(session, context))
                elif kind == "utterance":
                    self.mesh.submit_utterance(session, msg.utterance)
                elif kind == "heartbeat":
                    session.send(session_pb2.ServerMessage(heartbeat=session_pb2.ServerHeartbeat(
                        timestamp_ms=_now_ms())))
                elif kind == "close":
                    self.mesh.close_session(session, msg.close.reason or "client closed")
                    if writer is not None:
                        await writer
                    await context.write(session_pb2.ServerMessage(
                        closed=session_pb2.CloseSessionResponse(session_id=session.session_id)))
                    return
                elif kind == "open":
                    session.send(session_pb2.ServerMessage(error=make_error(
                        common_pb2.INVALID_MESSAGE, "this stream already has a session; open a new stream")))
                else:
                    session.send(session_pb2.ServerMessage(error=make_error(
                        common_pb2.INVALID_MESSAGE,
                        f"message kind {kind!r} is not accepted on this stream (audio_chunk arrives with "
                        "streaming sessions; send whole `utterance`s)")))
        finally:
            if session is not None:
                self.mesh.close_session(session, "stream ended")
            if writer is not None and not writer.done():
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer

    async def Translate(self, request: session_pb2.TranslateRequest, context: Context) -> session_pb2.TranslateResponse:
        open_req = session_pb2.OpenSessionRequest(
            src_lang=request.src_lang or "en", tgt_lang=request.tgt_lang or "en", dialect=request.dialect,
            features=request.features, pairing_code=request.pairing_code, tenant_id=request.tenant_id,
            platform="unary")
        try:
            session = self.mesh.open_session(open_req)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None
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
    while True:
        msg = await session.outbox.get()
        if msg is None:
            return
        await context.write(msg)


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
