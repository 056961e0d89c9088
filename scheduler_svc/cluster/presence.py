"""Which scheduler instances are alive: a key per instance that expires unless renewed.

Nothing is delivered to an instance whose key expired; the survivors reclaim what it left behind.
"""

from __future__ import annotations

import os
import secrets
import socket

from redis.asyncio import Redis

from scheduler_svc.cluster.keys import Keys, text


def auto_instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Presence:
    def __init__(self, redis: Redis, keys: Keys, instance_id: str, ttl_ms: int) -> None:
        self.redis, self.keys, self.instance_id, self.ttl_ms = redis, keys, instance_id, ttl_ms

    async def beat(self) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.keys.presence(self.instance_id), b"1", px=self.ttl_ms)
            pipe.sadd(self.keys.instances, self.instance_id)
            await pipe.execute()

    async def scan(self) -> tuple[set[str], set[str]]:
        """(live, dead): every instance that ever announced itself and has not been forgotten."""
        members = sorted(text(m) for m in await self.redis.smembers(self.keys.instances))
        async with self.redis.pipeline(transaction=False) as pipe:
            for member in members:
                pipe.exists(self.keys.presence(member))
            alive = await pipe.execute()
        live = {m for m, a in zip(members, alive, strict=True) if a}
        return live, set(members) - live

    async def forget(self, instance_id: str) -> None:
        """A dead instance whose leftovers were reclaimed."""
        await self.redis.srem(self.keys.instances, instance_id)

    async def leave(self) -> None:
        """Shutting down: look dead at once, so the others reclaim what is left in our inbox."""
        await self.redis.delete(self.keys.presence(self.instance_id))
