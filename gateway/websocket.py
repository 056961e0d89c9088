"""`GET /v1/stream`: a WebSocket session over one upstream Converse stream.

The key comes from `Authorization: Bearer` or, for browsers (which cannot set WebSocket headers), the
`api_key` query parameter; a bad key or a rate-limited tenant is refused at the handshake with the same
HTTP status and JSON body as the REST API. Once open, nothing a client sends closes the connection:
bad JSON, unknown types, audio before `start`, oversize frames all get an `error` frame, and the
connection carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway import metrics
from gateway.access import Principal
from gateway.frontdoor import FrontDoor
from gateway.http_errors import bearer_token, error_response
from gateway.relay import RelayedSession
from gateway.ws_frames import AudioData, Command, EndUtterance, Start, Stop, error_frame, parse_text, server_frame
from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import LinguaError, code_name, make_error

log = logging.getLogger(__name__)

DOOR = "websocket"


async def stream_endpoint(websocket: WebSocket, door: FrontDoor, max_frame_bytes: int, client: str = "") -> None:
    key = bearer_token(websocket.headers.get("authorization")) or websocket.query_params.get("api_key")
    try:
        who = await door.authorize(key, client)
    except LinguaError as exc:
        metrics.REQUESTS.labels(DOOR, code_name(exc.code)).inc()
        await websocket.send_denial_response(error_response(exc))
        return
    metrics.REQUESTS.labels(DOOR, "OK").inc()
    await websocket.accept()
    await StreamHandler(websocket, door, who, max_frame_bytes).run()


class StreamHandler(RelayedSession):
    DOOR = DOOR
    ENDED_HINT = "send `start` to open a new one"

    def __init__(self, websocket: WebSocket, door: FrontDoor, who: Principal, max_frame_bytes: int) -> None:
        super().__init__()
        self.ws = websocket
        self.door = door
        self.who = who
        self.max_frame_bytes = max_frame_bytes
        self.audio_format = common_pb2.Audio()
        self.seq = 0
        self.starts = 0
        self._send_lock = asyncio.Lock()  # the pump and the reader both write frames

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_json(frame)

    async def send_error(self, code: int, message: str, **kw: Any) -> None:
        await self.send(error_frame(make_error(code, message, **kw)))

    async def run(self) -> None:
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    await self.handle(self.parse(message))
                except LinguaError as exc:
                    await self.send(error_frame(exc.to_proto()))
        except WebSocketDisconnect:
            return
        finally:
            await self.end(closed=False)  # vanished without `stop`: resumable, like a dropped Converse stream

    def parse(self, message: Mapping[str, Any]) -> Command:
        text, data = message.get("text"), message.get("bytes")
        size = len(data) if data is not None else len(text or "")
        if size > self.max_frame_bytes:
            raise LinguaError(common_pb2.PAYLOAD_TOO_LARGE,
                              f"frame of {size} bytes is over the {self.max_frame_bytes}-byte limit; "
                              "send audio in smaller chunks")
        if data is not None:
            return AudioData(data)
        return parse_text(text or "")

    async def handle(self, command: Command) -> None:
        if isinstance(command, Start):
            await self.start(command)
            return
        conversation = self.conversation
        if conversation is None:
            raise LinguaError(common_pb2.INVALID_SESSION, "Session not started: send a `start` frame first")
        if isinstance(command, Stop):
            await conversation.stop(command.reason)
            await self.wait_pump()
        elif isinstance(command, AudioData | EndUtterance):
            data, final = (command.data, command.final) if isinstance(command, AudioData) else (b"", True)
            audio = common_pb2.Audio()
            audio.CopyFrom(self.audio_format)
            audio.data = data
            chunk = session_pb2.AudioChunk(seq=self.seq, audio=audio, is_final=final)
            self.seq += 1
            await conversation.send(session_pb2.ClientMessage(audio_chunk=chunk))

    async def start(self, command: Start) -> None:
        if self.conversation is not None:
            raise LinguaError(common_pb2.INVALID_MESSAGE,
                              f"session {self.conversation.session_id} is already started; send `stop` first")
        if self.starts:  # the handshake paid for the first session; each later one is a request of its own
            await self.door.access.admit(self.who)
        self.starts += 1
        conversation = self.door.conversation(self.who)
        opened = await conversation.start(command.request)
        is_open = conversation.open
        if is_open:  # held before the client hears of it, so end() finishes it even if that send fails
            self.audio_format, self.seq = command.audio_format, 0
            self.hold(conversation)
        frame = server_frame(opened)
        if frame is not None:
            await self.send(frame)
        if is_open:
            self.start_relay()

    async def frame_of(self, msg: session_pb2.ServerMessage) -> dict[str, Any] | None:
        return server_frame(msg)

    def error_frame(self, error: common_pb2.Error) -> dict[str, Any]:
        return error_frame(error)
