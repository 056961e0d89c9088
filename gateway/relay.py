"""Scheduler → WebSocket client: the session a connection has open and the task relaying its messages.

Shared by `/v1/stream` (gateway/websocket.py) and the original apps' `/ws/session` (gateway/legacy_session.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.websockets import WebSocketDisconnect

from gateway import metrics
from gateway.frontdoor import Conversation
from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import LinguaError, make_error

# What sending to a client that already left raises.
CLIENT_GONE = (WebSocketDisconnect, RuntimeError, OSError)

Frame = dict[str, Any]


def session_end_error(msg: session_pb2.ServerMessage) -> bool:
    """Whether `msg` is the scheduler's own last word on a session it ended (a SESSION_CLOSED error that
    names no utterance), after which the gateway adds none of its own."""
    return (msg.HasField("error") and msg.error.code == common_pb2.SESSION_CLOSED
            and not msg.error.HasField("utterance_index"))


class RelayedSession:
    """One WebSocket connection's open session (at most one at a time) and its pump task.

    Subclasses say how to send a frame, how a scheduler message and an Error look as frames, which door
    they count as in the metrics, and what a client should send after the scheduler ended its session."""

    DOOR = ""
    ENDED_HINT = ""

    def __init__(self) -> None:
        self.conversation: Conversation | None = None
        self.pump: asyncio.Task[None] | None = None

    async def send(self, frame: Frame) -> None:
        raise NotImplementedError

    async def frame_of(self, msg: session_pb2.ServerMessage) -> Frame | None:
        raise NotImplementedError

    def error_frame(self, error: common_pb2.Error) -> Frame:
        raise NotImplementedError

    def hold(self, conversation: Conversation) -> None:
        """`conversation` is open and this connection's: from now on end() finishes it, whatever happens."""
        self.conversation = conversation
        metrics.SESSIONS.labels(self.DOOR).inc()

    def start_relay(self) -> None:
        """Relay the held session's messages to the client (after the client was told it is open)."""
        assert self.conversation is not None
        self.pump = asyncio.create_task(self._forward(self.conversation))

    async def _forward(self, conversation: Conversation) -> None:
        closed = told = False
        try:
            while (msg := await conversation.receive()) is not None:
                closed = closed or msg.HasField("closed")
                told = session_end_error(msg)
                frame = await self.frame_of(msg)
                if frame is not None:
                    await self.send(frame)
            if not closed and not told:
                ended = make_error(common_pb2.SESSION_CLOSED, f"the scheduler ended this session; {self.ENDED_HINT}")
                await self.send(self.error_frame(ended))
        except LinguaError as exc:
            with contextlib.suppress(*CLIENT_GONE):
                await self.send(self.error_frame(exc.to_proto()))
        except CLIENT_GONE:
            return  # the client left mid-send: the connection's reader ends the session as dropped
        # Cancellation (the client left) skips this too: end() finishes the session instead.
        if self.conversation is conversation:
            self.conversation = None
            metrics.SESSIONS.labels(self.DOOR).dec()
        await conversation.finish(closed=True)

    async def wait_pump(self, timeout_s: float = 30.0) -> None:
        """After a close/stop: let the last results and the close reach the client before the next frame."""
        if self.pump is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.pump), timeout_s)

    async def end(self, closed: bool) -> None:
        """The connection is gone: stop relaying and finish the open session (closed, or dropped: resumable)."""
        conversation, pump = self.conversation, self.pump
        self.conversation = self.pump = None
        if pump is not None and not pump.done():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        if conversation is not None:
            metrics.SESSIONS.labels(self.DOOR).dec()
            await conversation.finish(closed=closed)
