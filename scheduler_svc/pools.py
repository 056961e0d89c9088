"""Two-level scheduling for large fleets (setting `pools`, off by default): pick a pool, then a node in it.

Every node belongs to one pool, and each pool keeps its own CapabilityIndex, so choosing a node inside a
pool costs what it costs in a fleet of that pool's size.

- `hash`: a node's pool is FNV-1a 64 of its id modulo `pool_count`; a job goes to the home pool of its
  routing key (the tenant, else the session), which keeps a tenant's work on one slice of the fleet (warm
  models, a noisy tenant confined), then to the following pools when none of the home pool's nodes can
  take it.
- `capability`: nodes with the same capability set (language pairs and features) form a pool; a job goes
  to the capable pool with the most free slots, then to the other capable pools by free slots.

With `pool_fallback` off a job never leaves its first pool (it waits for a slot there, or fails).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from scheduler_svc.index import CapabilityIndex, Pick
from scheduler_svc.registry import NodeRecord, NodeRegistry
from scheduler_svc.scoring import Weights

MODES = ("off", "hash", "capability")

_FNV_OFFSET, _FNV_PRIME, _MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1


@functools.lru_cache(maxsize=65_536)  # a routing key is hashed on every dispatch of its jobs
def fnv1a64(text: str) -> int:
    h = _FNV_OFFSET
    for byte in text.encode():
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return h


@dataclass(frozen=True)
class PoolStep:
    """One pool in the order a job tries them (ExplainDispatch shows these)."""

    pool_id: str
    nodes: int
    free_slots: int
    reason: str


class PooledIndex:
    """The CapabilityIndex interface over pools; select() takes the job's routing key."""

    def __init__(self, registry: NodeRegistry, mode: str, count: int = 16, fallback: bool = True,
                 strategy: str = "composite", weights: Weights | None = None, seed: int | None = None) -> None:
        if mode not in MODES[1:]:
            raise ValueError(f"pools must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode, self.count, self.fallback = mode, max(1, count), fallback
        self._registry, self._strategy, self._weights, self._seed = registry, strategy, weights, seed
        self.pools: dict[str, CapabilityIndex] = {}
        self._pool_of: dict[str, str] = {}
        self._members: dict[str, set[str]] = {}
        # Free slots of each pool's job-taking nodes, kept up to date on every update (level 1 of `capability`).
        self._free: dict[str, int] = {}
        self._free_of: dict[str, int] = {}

    # ---- maintenance -------------------------------------------------------------------------------

    def pool_for(self, node: NodeRecord) -> str:
        if self.mode == "hash":
            return f"h{fnv1a64(node.node_id) % self.count:02d}"
        caps = node.caps
        signature = repr((sorted(caps.job_keys()), caps.features_mask))
        return "c-" + hashlib.sha1(signature.encode()).hexdigest()[:8]

    def update(self, node: NodeRecord) -> None:
        pool_id = self.pool_for(node)
        old = self._pool_of.get(node.node_id)
        if old is not None and old != pool_id:
            self.remove(node.node_id)
        if node.node_id not in self._pool_of:
            self._pool_of[node.node_id] = pool_id
            self._members.setdefault(pool_id, set()).add(node.node_id)
            if pool_id not in self.pools:
                self.pools[pool_id] = CapabilityIndex(self._registry, self._strategy, self._weights, self._seed)
        self.pools[pool_id].update(node)
        free = node.free_slots if node.accepts_jobs() and node.accept_public_jobs else 0
        self._free[pool_id] = self._free.get(pool_id, 0) + free - self._free_of.get(node.node_id, 0)
        self._free_of[node.node_id] = free

    def remove(self, node_id: str) -> None:
        pool_id = self._pool_of.pop(node_id, None)
        if pool_id is None:
            return
        self.pools[pool_id].remove(node_id)
        self._free[pool_id] -= self._free_of.pop(node_id, 0)
        members = self._members[pool_id]
        members.discard(node_id)
        if not members:
            del self._members[pool_id], self.pools[pool_id], self._free[pool_id]

    # ---- queries -----------------------------------------------------------------------------------

    def has_capable(self, src: str, tgt: str, features_mask: int) -> bool:
        return any(p.has_capable(src, tgt, features_mask) for p in self.pools.values())

    def capable_ids(self, src: str, tgt: str, features_mask: int) -> list[str]:
        return [n for p in self.pools.values() for n in p.capable_ids(src, tgt, features_mask)]

    def order(self, src: str, tgt: str, features_mask: int, route: str = "") -> Iterator[str]:
        """The pools a job tries, in order (level 1), lazily: usually the first one has a node."""
        if self.mode == "hash":
            home = fnv1a64(route) % self.count
            tried = (f"h{(home + i) % self.count:02d}" for i in range(self.count if self.fallback else 1))
            yield from (p for p in tried if p in self.pools)
            return
        capable = [p for p, index in self.pools.items() if index.has_capable(src, tgt, features_mask)]
        capable.sort(key=lambda p: (-self._free[p], p))
        yield from capable if self.fallback else capable[:1]

    def plan(self, src: str, tgt: str, features_mask: int, route: str = "") -> list[PoolStep]:
        """order() with each pool's size, free slots and why it comes there (ExplainDispatch's dry run)."""
        home = f"h{fnv1a64(route) % self.count:02d}"
        steps = []
        for i, pool_id in enumerate(self.order(src, tgt, features_mask, route)):
            if self.mode == "capability":
                reason = "capable pool with the most free slots" if i == 0 else "next capable pool by free slots"
            elif pool_id == home:
                reason = "home pool of the routing key"
            else:
                reason = "next pool after the home pool" if i else f"first pool with nodes after the empty home {home}"
            steps.append(PoolStep(pool_id, len(self._members[pool_id]), self._free[pool_id], reason))
        return steps

    def select(self, src: str, tgt: str, features_mask: int, dialect: str = "",
               exclude: frozenset[str] = frozenset(), route: str = "") -> NodeRecord | None:
        pick = self.pick(src, tgt, features_mask, dialect, exclude, route)
        return None if pick is None else pick.node

    def pick(self, src: str, tgt: str, features_mask: int, dialect: str = "",
             exclude: frozenset[str] = frozenset(), route: str = "") -> Pick | None:
        for pool_id in self.order(src, tgt, features_mask, route):
            found = self.pools[pool_id].pick(src, tgt, features_mask, dialect, exclude)
            if found is not None:
                return found
        return None
