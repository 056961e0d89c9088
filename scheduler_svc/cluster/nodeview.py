"""The global node view: each instance publishes snapshots of the nodes connected to it, and reads
everyone's, so any instance can score every node with the same rules.

A snapshot is JSON under the node's key with a TTL of a few publish periods: a node whose instance
died disappears by itself. When a node reconnects to another instance, the newer connection's
snapshot wins (a script compares connection times), so a slow old owner cannot overwrite it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from redis.asyncio import Redis

from scheduler_svc.cluster.keys import Keys, text
from scheduler_svc.registry import NodeCaps, NodeRecord, NodeState, Route, Usage

# KEYS[1] node snapshot; ARGV snapshot JSON, owner, connected-since ms, ttl ms. Returns 1 if written.
_PUBLISH = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local c = cjson.decode(cur)
  if c.owner ~= ARGV[2] and tonumber(c.since) > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return 1
"""

# KEYS[1] node snapshot; ARGV owner. Deletes it only if that instance still owns it.
_WITHDRAW = """
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur).owner == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def snapshot(node: NodeRecord, owner: str) -> dict[str, Any]:
    c, u = node.caps, node.usage
    token = node.auth_token if node.auth_token.startswith("sha256:") else (
        "sha256:" + hashlib.sha256(node.auth_token.encode()).hexdigest())  # never the token itself
    return {"node_id": node.node_id, "owner": owner, "since": node.connected_since_ms, "token": token,
            "state": node.state.value, "reason": node.state_reason, "max_jobs": node.max_jobs,
            "asr": sorted(c.asr_languages), "mt": sorted(c.mt_pairs), "tts": sorted(c.tts_native),
            "cross": sorted(c.tts_cross_lingual), "features": c.features_mask, "dialects": sorted(c.dialects),
            "routes": [[s, t, r.tier, r.engine, r.pivot] for (s, t), r in c.routes],
            "voices": [list(v) for v in c.voices],
            "usage": [u.cpu_percent, u.mem_percent, u.gpu_percent, u.gpu_mem_percent, u.running_jobs],
            "spa": node.seconds_per_audio_s, "version": node.version, "platform": node.platform,
            "name": node.display_name, "public": node.accept_public_jobs, "beat": node.last_heartbeat_ms}


def record(snap: dict[str, Any]) -> NodeRecord:
    """A NodeRecord for another instance's node (owner set, no reservations of ours yet)."""
    u = snap["usage"]
    caps = NodeCaps(frozenset(snap["asr"]), frozenset((s, t) for s, t in snap["mt"]), frozenset(snap["tts"]),
                    frozenset(snap["cross"]), int(snap["features"]), frozenset(snap["dialects"]),
                    routes=tuple(((s, t), Route(int(tier), engine, pivot))
                                 for s, t, tier, engine, pivot in snap.get("routes", [])),
                    voices=tuple((lang, voice, quality) for lang, voice, quality in snap.get("voices", [])))
    return NodeRecord(node_id=snap["node_id"], auth_token=snap["token"], caps=caps, max_jobs=int(snap["max_jobs"]),
                      version=snap["version"], platform=snap["platform"], display_name=snap["name"],
                      accept_public_jobs=bool(snap["public"]), state=NodeState(snap["state"]),
                      state_reason=snap["reason"], usage=Usage(u[0], u[1], u[2], u[3], int(u[4])),
                      owner=snap["owner"], seconds_per_audio_s=float(snap["spa"]),
                      connected_since_ms=int(snap["since"]), last_heartbeat_ms=int(snap["beat"]))


class NodeView:
    def __init__(self, redis: Redis, keys: Keys, instance_id: str, ttl_ms: int) -> None:
        self.redis, self.keys, self.instance_id, self.ttl_ms = redis, keys, instance_id, ttl_ms
        self._publish = redis.register_script(_PUBLISH)
        self._withdraw = redis.register_script(_WITHDRAW)

    async def publish(self, nodes: list[NodeRecord]) -> None:
        """Snapshots of the nodes whose streams are on this instance."""
        if not nodes:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for node in nodes:
                await self._publish(keys=[self.keys.node(node.node_id)], client=pipe,
                                    args=[json.dumps(snapshot(node, self.instance_id)), self.instance_id,
                                          node.connected_since_ms, self.ttl_ms])
            pipe.sadd(self.keys.nodes, *[n.node_id for n in nodes])
            await pipe.execute()

    async def withdraw(self, node_id: str) -> None:
        """The node's stream on this instance closed."""
        await self._withdraw(keys=[self.keys.node(node_id)], args=[self.instance_id])

    async def read(self) -> tuple[list[dict[str, Any]], list[str]]:
        """(snapshots of every published node, ids whose snapshot expired, now dropped from the set)."""
        ids = sorted(text(m) for m in await self.redis.smembers(self.keys.nodes))
        async with self.redis.pipeline(transaction=False) as pipe:
            for node_id in ids:
                pipe.get(self.keys.node(node_id))
            raw = await pipe.execute()
        gone = [node_id for node_id, r in zip(ids, raw, strict=True) if r is None]
        if gone:
            await self.redis.srem(self.keys.nodes, *gone)
        return [json.loads(r) for r in raw if r is not None], gone
