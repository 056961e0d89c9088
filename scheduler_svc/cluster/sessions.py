"""Session records for resuming on another instance: the resume token and what the session was opened with.

Kept while the session lives anywhere (renewed by its instance), removed when the client closes it; when
its instance dies the record outlives it by `ttl_ms`, long enough for the client to resume elsewhere.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from lingua.v1 import session_pb2
from scheduler_svc.cluster.keys import Keys


@dataclass(frozen=True)
class SessionRecord:
    session_id: str
    resume_token: str
    owner: str
    paired_node_id: str
    request: session_pb2.OpenSessionRequest


class SessionRecords:
    def __init__(self, redis: Redis, keys: Keys, ttl_ms: int) -> None:
        self.redis, self.keys, self.ttl_ms = redis, keys, ttl_ms

    async def save(self, rec: SessionRecord) -> None:
        request = session_pb2.OpenSessionRequest()
        request.CopyFrom(rec.request)
        request.ClearField("pairing_code")  # single use: already redeemed
        key = self.keys.session(rec.session_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping={"token": rec.resume_token, "owner": rec.owner, "paired": rec.paired_node_id,
                                    "request": request.SerializeToString()})
            pipe.pexpire(key, self.ttl_ms)
            await pipe.execute()

    async def load(self, session_id: str, resume_token: str) -> SessionRecord | None:
        """The record if it exists and the token is right (None otherwise: the caller cannot tell which)."""
        raw: dict[bytes, bytes] = await self.redis.hgetall(self.keys.session(session_id))  # type: ignore[assignment]
        if not raw or not secrets.compare_digest(raw[b"token"], resume_token.encode()):
            return None
        return SessionRecord(session_id, resume_token, raw[b"owner"].decode(), raw[b"paired"].decode(),
                             session_pb2.OpenSessionRequest.FromString(raw[b"request"]))

    async def claim(self, session_id: str, owner: str) -> None:
        key = self.keys.session(session_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, "owner", owner)
            pipe.pexpire(key, self.ttl_ms)
            await pipe.execute()

    async def renew(self, session_ids: list[str]) -> None:
        if not session_ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.pexpire(self.keys.session(session_id), self.ttl_ms)
            await pipe.execute()

    async def forget(self, session_id: str) -> None:
        await self.redis.delete(self.keys.session(session_id))
