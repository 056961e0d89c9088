"""`/ws/session`: the original prototype's JSON session protocol (reference §2.2), for its mobile and web apps.

Each JSON session is one FrontDoor Conversation, so one scheduler Converse stream held from session_init
to session_close (the original gateway's per-utterance reconnects lost every result, §15.8); the tenant
comes from the API key, quotas and rate limits are the other doors'. Nothing a client sends closes the
connection: bad frames get `error` INVALID_MESSAGE, and a closed session can be followed by a new
session_init.

Clients that cannot set headers put the key in the URL (`?api_key=`) or in their first frame (an
`api_key` field); which of header / query / first_frame count is configurable. Without a key nothing
works unless an operator names a tenant for anonymous clients (a private deployment's explicit opt-in).

gateway/server.py mounts it before the web client's catch-all static route.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from gateway import metrics
from gateway.access import Principal
from gateway.authguard import client_address
from gateway.config import GatewaySettings
from gateway.frontdoor import Conversation, FrontDoor
from gateway.http_errors import bearer_token, error_response
from gateway.relay import CLIENT_GONE, RelayedSession
from lingua.v1 import common_pb2, session_pb2
from lingua_common.audio import AudioDecodeError
from lingua_common.errors import LinguaError, code_name
from wirecompat import session_frames as frames
from wirecompat import wire
from wirecompat.wire import Frame

log = logging.getLogger(__name__)

DOOR = "legacy_ws"
KEY_SOURCES = ("header", "query", "first_frame")


@dataclass(frozen=True)
class LegacyOptions:
    # Where a client's API key may be: `Authorization: Bearer`, `?api_key=`, the first frame's `api_key`.
    key_sources: frozenset[str] = frozenset(KEY_SOURCES)
    # Tenant id keyless clients count against; empty (the default) refuses them.
    anonymous_tenant: str = ""
    # An unauthenticated connection must present its key (first frame) within this long.
    auth_timeout_s: float = 10.0
    # Utterances carry whole sentences as base64 in one frame.
    max_frame_bytes: int = 32 * 1024 * 1024
    # Peers whose X-Forwarded-For names the client (failed-key throttling is by client address).
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.key_sources) - set(KEY_SOURCES)
        if unknown:
            raise ValueError(f"legacy_ws_auth: unknown key source(s) {sorted(unknown)}; use {', '.join(KEY_SOURCES)}")

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> LegacyOptions:
        sources: Iterable[str] | str = settings.legacy_ws_auth
        if isinstance(sources, str):
            sources = sources.split(",")
        return cls(key_sources=frozenset(s.strip() for s in sources if s.strip()),
                   anonymous_tenant=settings.legacy_ws_anonymous_tenant,
                   max_frame_bytes=settings.max_upload_mb * 1024 * 1024,
                   trusted_proxies=tuple(settings.trusted_proxies))


def route(door: FrontDoor, settings: GatewaySettings) -> WebSocketRoute:
    options = LegacyOptions.from_settings(settings)

    async def endpoint(websocket: WebSocket) -> None:
        await legacy_session_endpoint(websocket, door, options)

    return WebSocketRoute("/ws/session", endpoint)


def _handshake_key(websocket: WebSocket, options: LegacyOptions) -> str | None:
    if "header" in options.key_sources:
        key = bearer_token(websocket.headers.get("authorization"))
        if key:
            return key
    return websocket.query_params.get("api_key") if "query" in options.key_sources else None


def _client(websocket: WebSocket, options: LegacyOptions) -> str:
    peer = websocket.client.host if websocket.client is not None else ""
    return client_address(peer, websocket.headers.get("x-forwarded-for"), options.trusted_proxies)


async def legacy_session_endpoint(websocket: WebSocket, door: FrontDoor, options: LegacyOptions) -> None:
    key = _handshake_key(websocket, options)
    who: Principal | None = None
    try:
        if key:
            who = await door.authorize(key, _client(websocket, options))
        elif options.anonymous_tenant and "first_frame" not in options.key_sources:
            who = await _anonymous(door, options.anonymous_tenant)
        elif "first_frame" not in options.key_sources:
            raise LinguaError(common_pb2.UNAUTHENTICATED, "missing API key: send it as `?api_key=<key>`"
                              + (" or `Authorization: Bearer <key>`" if "header" in options.key_sources else ""))
    except LinguaError as exc:
        metrics.REQUESTS.labels(DOOR, code_name(exc.code)).inc()
        await websocket.send_denial_response(error_response(exc))
        return
    await websocket.accept()
    await LegacySession(websocket, door, who, options).run()


async def _anonymous(door: FrontDoor, tenant_id: str) -> Principal:
    tenant = await asyncio.to_thread(door.access.store.get_tenant, tenant_id)
    who = Principal(tenant.tenant_id, "anonymous", tenant.quota)
    await door.access.admit(who)
    return who


class LegacySession(RelayedSession):
    """One `/ws/session` connection: at most one session at a time, each on its own upstream stream."""

    DOOR = DOOR
    ENDED_HINT = "send session_init to start again"

    def __init__(self, websocket: WebSocket, door: FrontDoor, who: Principal | None, options: LegacyOptions) -> None:
        super().__init__()
        self.ws = websocket
        self.door = door
        self.who = who
        self.options = options
        self.trace_id = ""
        # asr_partial is a later addition: sent only to clients that asked (enable_streaming_asr) or that
        # stream audio_chunk (the web client, whose subtitles need it). Early clients would choke on it.
        self.partials = False
        self._send_lock = asyncio.Lock()  # the pump and the reader both send

    async def send(self, frame: Frame) -> None:
        async with self._send_lock:
            await self.ws.send_json(frame)

    async def send_error(self, exc: LinguaError, **details: Any) -> None:
        frame = wire.error_frame(exc.to_proto())
        if details:
            frame["details"] = {**frame.get("details", {}), **details}
        await self.send(frame)

    async def run(self) -> None:
        deadline = time.monotonic() + self.options.auth_timeout_s
        try:
            while True:
                timeout = None if self.who is not None else max(0.0, deadline - time.monotonic())
                try:
                    message = await asyncio.wait_for(self.ws.receive(), timeout)
                except TimeoutError:
                    await self._refuse(LinguaError(common_pb2.UNAUTHENTICATED, "no API key within "
                                                   f"{self.options.auth_timeout_s:.0f} s of connecting"))
                    return
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    frame = self._decode(message)
                    if self.who is None and not await self._authenticate(frame):
                        return
                    await self.handle(frames.parse(frame))
                except LinguaError as exc:
                    await self.send_error(exc)
        except CLIENT_GONE:
            return
        finally:
            await self.end(closed=True)  # like the original, the session goes with the socket

    def _decode(self, message: Mapping[str, Any]) -> Frame:
        text = message.get("text")
        if text is None:
            raise wire.bad("frames are JSON text, not binary")
        if len(text) > self.options.max_frame_bytes:
            raise LinguaError(common_pb2.PAYLOAD_TOO_LARGE, f"frame of {len(text)} bytes is over the "
                              f"{self.options.max_frame_bytes}-byte limit")
        return wire.decode(text)

    async def _authenticate(self, frame: Frame) -> bool:
        """The first valid frame's key (or the anonymous tenant); False: refused and closed."""
        key = frame.get("api_key")
        try:
            if isinstance(key, str) and key:
                self.who = await self.door.authorize(key, _client(self.ws, self.options))
            elif self.options.anonymous_tenant:
                self.who = await _anonymous(self.door, self.options.anonymous_tenant)
            else:
                raise LinguaError(common_pb2.UNAUTHENTICATED,
                                  "missing API key: put it in the first frame (`api_key`) or the URL (`?api_key=`)")
        except LinguaError as exc:
            await self._refuse(exc)
            return False
        metrics.REQUESTS.labels(DOOR, "OK").inc()
        return True

    async def _refuse(self, exc: LinguaError) -> None:
        metrics.REQUESTS.labels(DOOR, code_name(exc.code)).inc()
        with contextlib.suppress(*CLIENT_GONE):
            await self.send_error(exc)
            await self.ws.close(code=1008, reason=exc.message[:120])

    # ---- client → scheduler ---------------------------------------------------------------------------

    async def handle(self, command: frames.ClientFrame) -> None:
        if isinstance(command, frames.SessionInit):
            await self.start(command)
        elif isinstance(command, frames.UtteranceIn):
            try:
                await self._session(command.utterance.session_id).send(
                    session_pb2.ClientMessage(utterance=command.utterance))
            except LinguaError as exc:
                await self.send_error(exc, utterance_index=command.utterance.utterance_index)
        elif isinstance(command, frames.AudioChunkIn):
            self.partials = True
            await self._session(command.chunk.session_id).send(session_pb2.ClientMessage(audio_chunk=command.chunk))
        elif isinstance(command, frames.HeartbeatIn):
            # Answered by the scheduler (server_heartbeat), so a reply also says the session is alive there.
            await self._session(command.session_id).send(session_pb2.ClientMessage(
                heartbeat=session_pb2.ClientHeartbeat(timestamp_ms=int(time.time() * 1000))))
        elif isinstance(command, frames.CloseIn):
            conversation = self._session(command.session_id)
            await conversation.stop(command.reason)
            await self.wait_pump()  # session_close_ack comes from the pump, after the last results
        else:
            log.debug("ignored %s from a /ws/session client", command.kind)

    def _session(self, session_id: str) -> Conversation:
        conversation = self.conversation
        if conversation is None or (session_id and session_id != conversation.session_id):
            raise LinguaError(common_pb2.INVALID_SESSION, f"unknown session {session_id!r}: send session_init first"
                              if conversation is None else f"this connection's session is {conversation.session_id!r}")
        return conversation

    async def start(self, init: frames.SessionInit) -> None:
        if self.conversation is not None:
            raise LinguaError(common_pb2.INVALID_MESSAGE, f"session {self.conversation.session_id} is already open "
                              "on this connection; send session_close first")
        assert self.who is not None
        await self.door.access.admit(self.who)  # a new session is a request against the rate
        conversation = self.door.conversation(self.who)
        opened = await conversation.start(init.request)
        if opened.HasField("error"):  # e.g. INVALID_PAIRING_CODE: said, not silently ignored (§15.1)
            await self.send(wire.error_frame(opened.error))
            return
        self.trace_id = init.trace_id or conversation.session_id
        self.partials = init.partials
        self.hold(conversation)
        await self.send(frames.init_ack(opened.opened, self.trace_id))
        self.start_relay()

    # ---- scheduler → client ---------------------------------------------------------------------------

    async def frame_of(self, msg: session_pb2.ServerMessage) -> Frame | None:
        kind = msg.WhichOneof("kind")
        if kind == "result":
            try:
                tts = await asyncio.to_thread(frames.tts_pcm16, msg.result.tts_audio)
            except AudioDecodeError as exc:  # a node's speech we cannot decode: the text still goes out
                log.warning("speech of %s not decodable for /ws/session: %s", msg.result.job_id, exc)
                tts = b""
            return frames.translation_result(msg.result, tts, self.trace_id)
        if kind == "asr_partial":
            return frames.asr_partial(msg.asr_partial, self.trace_id) if self.partials else None
        if kind == "error":
            return wire.error_frame(msg.error)
        if kind == "heartbeat":
            session_id = self.conversation.session_id if self.conversation else ""
            return frames.server_heartbeat(session_id, msg.heartbeat.timestamp_ms)
        if kind == "closed":
            return frames.close_ack(msg.closed.session_id)
        return None  # events and streamed TTS chunks have no equivalent in the original

    def error_frame(self, error: common_pb2.Error) -> Frame:
        return wire.error_frame(error)
