"""Which tenant owns which session, and the session-quota slot each live session holds.

Every call that names a session id is checked here, so a tenant can never push to, subscribe to or close
another tenant's session: an id that is unknown or someone else's gets the same INVALID_SESSION answer
(nobody learns that another tenant's session exists). Sessions opened through another gateway instance
are looked up on the schedulers once and then remembered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from gateway.audio_meter import ChunkMeter
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError

log = logging.getLogger(__name__)


@dataclass
class Owned:
    tenant_id: str
    # The scheduler instance that holds the session.
    instance: int
    # The tenant's concurrent-session slot, released when the session ends (None: not held here).
    hold: contextlib.AsyncExitStack | None = None
    subscribers: int = 0
    last_used: float = field(default_factory=time.monotonic)
    # Streamed audio chunks waiting for their utterance to end before they are measured (compressed streams).
    chunks: ChunkMeter | None = None


def unknown_session(session_id: str) -> LinguaError:
    return LinguaError(common_pb2.INVALID_SESSION,
                       f"no open session {session_id!r} for this API key (closed, expired, or never opened)")


# (tenant_id, session_id) -> whether a scheduler has that session for that tenant.
RemoteOwner = Callable[[str, str], Awaitable[bool]]
# Called for a session the ledger gives up on (idle with nobody subscribed): close it upstream.
Expire = Callable[[str, Owned], Awaitable[None]]


class SessionLedger:
    def __init__(self, remote_owner: RemoteOwner, home: Callable[[str], int], idle_timeout_s: float) -> None:
        self._owned: dict[str, Owned] = {}
        self._remote_owner = remote_owner
        self._home = home
        self.idle_timeout_s = idle_timeout_s

    def __len__(self) -> int:
        return len(self._owned)

    def record(self, session_id: str, tenant_id: str, instance: int,
               hold: contextlib.AsyncExitStack | None) -> Owned:
        owned = Owned(tenant_id, instance, hold)
        self._owned[session_id] = owned
        return owned

    async def lookup(self, tenant_id: str, session_id: str) -> Owned:
        """The session if it is this tenant's, else INVALID_SESSION."""
        if not session_id:
            raise LinguaError(common_pb2.INVALID_SESSION, "session_id is required")
        owned = self._owned.get(session_id)
        if owned is None and await self._remote_owner(tenant_id, session_id):
            owned = self.record(session_id, tenant_id, self._home(session_id), None)
        if owned is None or owned.tenant_id != tenant_id:
            raise unknown_session(session_id)
        owned.last_used = time.monotonic()
        return owned

    async def release(self, session_id: str, forget: bool = True) -> None:
        """Free the session's quota slot; forget=False keeps ownership (a dropped stream may resume it)."""
        owned = self._owned.pop(session_id, None) if forget else self._owned.get(session_id)
        if owned is None:
            return
        hold, owned.hold = owned.hold, None
        owned.subscribers = 0
        owned.last_used = time.monotonic()
        if hold is not None:
            await hold.aclose()

    async def release_all(self) -> None:
        for session_id in list(self._owned):
            await self.release(session_id)

    async def reap(self, expire: Expire) -> None:
        """Forget sessions idle past the timeout with nobody subscribed (grpc-web tabs that went away)."""
        cutoff = time.monotonic() - self.idle_timeout_s
        for session_id, owned in list(self._owned.items()):
            if owned.subscribers == 0 and owned.last_used < cutoff:
                try:
                    await expire(session_id, owned)
                except LinguaError as exc:
                    log.debug("closing idle session %s upstream: %s", session_id, exc)
                await self.release(session_id)

    def get(self, session_id: str) -> Owned | None:
        return self._owned.get(session_id)

    async def run_reaper(self, expire: Expire) -> None:
        every_s = min(5.0, max(0.05, self.idle_timeout_s / 4))
        while True:
            await asyncio.sleep(every_s)
            await self.reap(expire)
