"""Scheduler → WebSocket client for one session: shared by `/v1/stream` and the original apps' `/ws/session`."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocketDisconnect

from gateway.frontdoor import Conversation
from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import LinguaError, make_error

# What sending to a client that already left raises.
CLIENT_GONE = (WebSocketDisconnect, RuntimeError, OSError)

Frame = dict[str, Any]


async def relay(conversation: Conversation, frame_of: Callable[[session_pb2.ServerMessage], Awaitable[Frame | None]],
                send: Callable[[Frame], Awaitable[None]], error_frame: Callable[[common_pb2.Error], Frame],
                ended_hint: str) -> bool:
    """Forward the session's messages as frames until it ends. A session the scheduler ended without `closed`
    gets a SESSION_CLOSED error frame (`ended_hint` says how to start again). False: the client left
    mid-send (its connection's reader ends the session as dropped)."""
    closed = False
    try:
        while (msg := await conversation.receive()) is not None:
            closed = closed or msg.HasField("closed")
            frame = await frame_of(msg)
            if frame is not None:
                await send(frame)
        if not closed:
            ended = make_error(common_pb2.SESSION_CLOSED, f"the scheduler ended this session; {ended_hint}")
            await send(error_frame(ended))
    except LinguaError as exc:
        with contextlib.suppress(*CLIENT_GONE):
            await send(error_frame(exc.to_proto()))
    except CLIENT_GONE:
        return False
    return True
