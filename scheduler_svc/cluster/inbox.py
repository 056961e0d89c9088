"""One Redis Stream per instance: what other instances send it, read through a consumer group.

Delivery is at least once: an entry stays pending until its handler finished and acknowledged it
(XACK, then XDEL to keep the stream short). Pending entries left idle are handed out again; an entry
handed out `max_deliveries` times goes to the dead-letter stream instead of being retried for ever. The
inbox of a dead instance is reclaimed by a survivor: its pending entries (XAUTOCLAIM) and those it never
read (XREADGROUP), so nothing sent to it is silently lost. Handlers must tolerate a repeat: results are
deduplicated by (job id, attempt) with the job records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from scheduler_svc.cluster.keys import Keys

GROUP = "scheduler"

# What an entry carries: its kind, who sent it, and the job it is about.
ASSIGN = "assign"  # origin → owner: a SchedulerMessage for the owner's node (JobAssign, JobCancel)
NODE = "node"  # owner → origin: a NodeMessage from the node about one of the origin's jobs
LOST = "lost"  # owner → origin: the attempt cannot finish (node gone, or not here any more)


@dataclass(frozen=True)
class Entry:
    entry_id: str
    kind: str
    origin: str
    node_id: str
    job_id: str
    attempt: int
    payload: bytes
    # The stream it was read from (an instance's own inbox, or a dead one's being reclaimed).
    stream: str = ""
    deliveries: int = 1

    def fields(self) -> dict[str, str | bytes | int]:
        return {"kind": self.kind, "origin": self.origin, "node": self.node_id, "job": self.job_id,
                "attempt": self.attempt, "payload": self.payload}


def _entry(stream: str, entry_id: bytes, raw: dict[bytes, bytes], deliveries: int = 1) -> Entry:
    def text(key: bytes) -> str:
        return raw.get(key, b"").decode()

    return Entry(entry_id.decode(), text(b"kind"), text(b"origin"), text(b"node"), text(b"job"),
                 int(raw.get(b"attempt", b"0")), raw.get(b"payload", b""), stream, deliveries)


class Inbox:
    def __init__(self, redis: Redis, keys: Keys, instance_id: str, maxlen: int = 10_000,
                 max_deliveries: int = 10) -> None:
        self.redis, self.keys, self.instance_id = redis, keys, instance_id
        self.maxlen, self.max_deliveries = maxlen, max_deliveries
        self.stream = keys.inbox(instance_id)

    async def ensure_group(self, stream: str | None = None) -> None:
        try:
            await self.redis.xgroup_create(stream or self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def send(self, to_instance: str, entry: Entry) -> str:
        entry_id = await self.redis.xadd(self.keys.inbox(to_instance), entry.fields(),  # type: ignore[arg-type]
                                         maxlen=self.maxlen, approximate=True)
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def read(self, block_ms: int = 1000, count: int = 64) -> list[Entry]:
        """New entries of this instance's inbox (blocks up to block_ms).

        A survivor that took this instance for dead (its presence expired, e.g. heartbeats late on a loaded
        machine) reclaims and deletes the inbox; the group is then made again here instead of failing on every
        read for ever.
        """
        try:
            return await self._read_new(self.stream, block_ms, count)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self.ensure_group()
            return await self._read_new(self.stream, block_ms, count)

    async def ack(self, *entries: Entry) -> None:
        """Handled: acknowledge and delete them (one round trip for a whole batch)."""
        by_stream: dict[str, list[str]] = {}
        for entry in entries:
            by_stream.setdefault(entry.stream, []).append(entry.entry_id)
        if not by_stream:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream, ids in by_stream.items():
                pipe.xack(stream, GROUP, *ids)
                pipe.xdel(stream, *ids)
            await pipe.execute()

    async def stale(self, idle_ms: int, count: int = 100) -> list[Entry]:
        """Own entries handed out but not acknowledged for idle_ms, to handle again (or dead-letter)."""
        return await self._claim(self.stream, idle_ms, count)

    async def reclaim(self, dead_instance: str, count: int = 100) -> list[Entry]:
        """Take over a dead instance's inbox: what it had read but not acknowledged, then what it never read."""
        stream = self.keys.inbox(dead_instance)
        await self.ensure_group(stream)
        claimed = await self._claim(stream, 0, count)
        return claimed or await self._read_new(stream, 0, count)

    async def remove(self, dead_instance: str) -> bool:
        """Delete a reclaimed inbox if nothing is left in it; True if it is gone."""
        stream = self.keys.inbox(dead_instance)
        if await self.redis.xlen(stream):
            return False
        await self.redis.delete(stream)
        return True

    async def dead_letters(self, instance_id: str | None = None) -> list[Entry]:
        stream = self.keys.dead_letters(instance_id or self.instance_id)
        items: Any = await self.redis.xrange(stream)
        return [_entry(stream, i, raw) for i, raw in items]

    async def _read_new(self, stream: str, block_ms: int, count: int) -> list[Entry]:
        answer: Any = await self.redis.xreadgroup(GROUP, self.instance_id, {stream: ">"}, count=count,
                                             block=block_ms or None)
        return [_entry(stream, i, raw) for _, items in answer or [] for i, raw in items if raw]

    async def _claim(self, stream: str, idle_ms: int, count: int) -> list[Entry]:
        claimed: Any = await self.redis.xautoclaim(stream, GROUP, self.instance_id, idle_ms,
                                                             start_id="0-0", count=count)
        items = claimed[1]
        if not items:
            return []
        pending = await self.redis.xpending_range(stream, GROUP, min=items[0][0], max=items[-1][0],
                                                  count=len(items))
        times = {p["message_id"]: int(p["times_delivered"]) for p in pending}
        out = []
        for entry_id, raw in items:
            if not raw:
                continue
            entry = _entry(stream, entry_id, raw, times.get(entry_id, 1))
            if entry.deliveries > self.max_deliveries:
                await self._dead_letter(entry)
            else:
                out.append(entry)
        return out

    async def _dead_letter(self, entry: Entry) -> None:
        dlq = entry.stream + ":dlq"  # beside the inbox it came from (Keys.dead_letters)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(dlq, {**entry.fields(), "deliveries": entry.deliveries}, maxlen=self.maxlen,  # type: ignore[dict-item]
                      approximate=True)
            pipe.xack(entry.stream, GROUP, entry.entry_id)
            pipe.xdel(entry.stream, entry.entry_id)
            await pipe.execute()
