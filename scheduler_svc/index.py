"""Capability index: find the best eligible node for a job without scanning every node.

Nodes are grouped by what they can run: (src, tgt), then the exact feature set and dialects they
support. Each group keeps its eligible nodes in a sorted list ordered by rank, updated in O(log n)
whenever a node's load, usage or state changes (nodes that cannot take a job are not in it).
Selection looks only at the first entry of the groups whose features cover the job's, so it costs
microseconds at 10,000 nodes. Bonuses that depend on the job (dialect) are the same for a whole
group, so comparing group heads stays exact. Groups also split by translation tier (neural, rule-based,
pivot, demo): a node with a better tier for the pair wins before any score is compared.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

from sortedcontainers import SortedList

from scheduler_svc.registry import NodeRecord, NodeRegistry
from scheduler_svc.scoring import Weights, rank

Key = tuple[float, str]  # (-rank, node_id): ascending order puts the best first, ties to the smaller id
GroupKey = tuple[int, int, frozenset[str]]  # (translation tier, features mask, dialects)


@dataclass
class _Group:
    members: set[str] = field(default_factory=set)
    ranked: SortedList = field(default_factory=SortedList)
    key_of: dict[str, Key] = field(default_factory=dict)

    def place(self, node_id: str, key: Key | None) -> None:
        old = self.key_of.pop(node_id, None)
        if old is not None:
            self.ranked.remove(old)
        if key is not None:
            self.ranked.add(key)
            self.key_of[node_id] = key


class _Ring:
    """Members of a (src, tgt) in rotation order, with O(1) removal (order may shift on removal)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        self.cursor = 0

    def add(self, node_id: str) -> None:
        self.pos[node_id] = len(self.ids)
        self.ids.append(node_id)

    def remove(self, node_id: str) -> None:
        i = self.pos.pop(node_id)
        last = self.ids.pop()
        if last != node_id:
            self.ids[i] = last
            self.pos[last] = i

    def next(self) -> str:
        self.cursor %= len(self.ids)
        node_id = self.ids[self.cursor]
        self.cursor += 1
        return node_id


class NodeIndex(Protocol):
    """What the Mesh asks of its index: this one, or pools.PooledIndex (two-level, for large fleets)."""

    def update(self, node: NodeRecord) -> None: ...

    def remove(self, node_id: str) -> None: ...

    def has_capable(self, src: str, tgt: str, features_mask: int) -> bool: ...

    def capable_ids(self, src: str, tgt: str, features_mask: int) -> list[str]: ...

    def select(self, src: str, tgt: str, features_mask: int, dialect: str = "",
               exclude: frozenset[str] = frozenset(), route: str = "") -> NodeRecord | None: ...


class CapabilityIndex:
    def __init__(self, registry: NodeRegistry, strategy: str = "composite", weights: Weights | None = None,
                 seed: int | None = None) -> None:
        self._registry = registry
        self.strategy = strategy
        self.weights = weights or Weights()
        self._groups: dict[tuple[str, str], dict[GroupKey, _Group]] = {}
        self._rings: dict[tuple[str, str], _Ring] = {}
        self._membership: dict[str, list[tuple[tuple[str, str], GroupKey]]] = {}
        self._rng = random.Random(seed)

    # ---- maintenance -------------------------------------------------------------------------------

    def update(self, node: NodeRecord) -> None:
        """Re-index `node` after any change to its capabilities, state, usage or load."""
        caps = node.caps
        # A private node (accept_public_jobs false) is in no pool: it serves only sessions paired with it,
        # which reach it through the pairing, not the index (the original's filter was a no-op).
        keys = sorted(caps.job_keys()) if node.accept_public_jobs else []
        wanted = [(key, (caps.tier(*key), caps.features_mask, caps.dialects)) for key in keys]
        if self._membership.get(node.node_id) != wanted:
            self.remove(node.node_id)
            for key, g in wanted:
                self._groups.setdefault(key, {}).setdefault(g, _Group()).members.add(node.node_id)
                self._rings.setdefault(key, _Ring()).add(node.node_id)
            self._membership[node.node_id] = wanted
        eligible = node.accepts_jobs()
        for key, g in wanted:
            entry = (-rank(node, key[1], self.strategy, self.weights), node.node_id) if eligible else None
            self._groups[key][g].place(node.node_id, entry)

    def remove(self, node_id: str) -> None:
        for key, g in self._membership.pop(node_id, []):
            groups = self._groups.get(key, {})
            group = groups.get(g)
            if group is not None:
                group.place(node_id, None)
                group.members.discard(node_id)
                if not group.members:
                    del groups[g]
            ring = self._rings.get(key)
            if ring is not None:
                ring.remove(node_id)
            if not groups:
                self._groups.pop(key, None)
                self._rings.pop(key, None)

    # ---- queries -----------------------------------------------------------------------------------

    def has_capable(self, src: str, tgt: str, features_mask: int) -> bool:
        """Whether any indexed node (busy or not) could ever run such a job."""
        return any(not features_mask & ~g[1] for g in self._groups.get((src, tgt), {}))

    def capable_ids(self, src: str, tgt: str, features_mask: int) -> list[str]:
        return [n for g, group in self._groups.get((src, tgt), {}).items() if not features_mask & ~g[1]
                for n in group.members]

    def select(self, src: str, tgt: str, features_mask: int, dialect: str = "",
               exclude: frozenset[str] = frozenset(), route: str = "") -> NodeRecord | None:
        """The best eligible node; `route` (the job's routing key) matters only to pools."""
        pick = self.pick(src, tgt, features_mask, dialect, exclude)
        return None if pick is None else pick.node

    def pick(self, src: str, tgt: str, features_mask: int, dialect: str = "",
             exclude: frozenset[str] = frozenset()) -> Pick | None:
        if self.strategy == "round_robin":
            return self._round_robin(src, tgt, features_mask, exclude)
        if self.strategy == "power_of_two":
            two = self._power_of_two(src, tgt, features_mask, dialect, exclude)
            if two is not None:
                return two
        return self._best(src, tgt, features_mask, dialect, exclude)

    def _best(self, src: str, tgt: str, features_mask: int, dialect: str, exclude: frozenset[str]) -> Pick | None:
        best: tuple[int, float, str] | None = None  # (tier, -score, node id): smallest wins
        for g, group in self._groups.get((src, tgt), {}).items():
            if features_mask & ~g[1] or (best is not None and g[0] > best[0]):
                continue
            head = next((k for k in group.ranked if k[1] not in exclude), None)
            if head is None:
                continue
            score = -head[0] + (self.weights.dialect if dialect and dialect in g[2] else 0.0)
            if best is None or (g[0], -score, head[1]) < best:
                best = (g[0], -score, head[1])
        if best is None:
            return None
        node = self._registry.get(best[2])
        return None if node is None else Pick(node, -best[1])

    def best_tier(self, src: str, tgt: str, features_mask: int, exclude: frozenset[str]) -> int | None:
        """The best tier among nodes that could take the job now (None: no such node)."""
        tiers = [g[0] for g, group in self._groups.get((src, tgt), {}).items()
                 if not features_mask & ~g[1] and any(k[1] not in exclude for k in group.ranked)]
        return min(tiers, default=None)

    def _eligible(self, node_id: str, features_mask: int, exclude: frozenset[str],
                  tier: tuple[str, str, int] | None = None) -> NodeRecord | None:
        """The node if it can take the job now; with `tier` (src, tgt, tier) only at that translation tier."""
        node = self._registry.get(node_id)
        if node is None or node_id in exclude or not node.accepts_jobs() or features_mask & ~node.caps.features_mask:
            return None
        if tier is not None and node.caps.tier(tier[0], tier[1]) != tier[2]:
            return None
        return node

    def _round_robin(self, src: str, tgt: str, features_mask: int, exclude: frozenset[str]) -> Pick | None:
        ring = self._rings.get((src, tgt))
        best = self.best_tier(src, tgt, features_mask, exclude)
        if ring is None or best is None:
            return None
        for _ in range(len(ring.ids)):
            node = self._eligible(ring.next(), features_mask, exclude, (src, tgt, best))
            if node is not None:
                return Pick(node, rank(node, tgt, "composite", self.weights))
        return None

    def _power_of_two(self, src: str, tgt: str, features_mask: int, dialect: str,
                      exclude: frozenset[str]) -> Pick | None:
        ring = self._rings.get((src, tgt))
        best = self.best_tier(src, tgt, features_mask, exclude)
        if ring is None or best is None:
            return None
        found: dict[str, NodeRecord] = {}
        for _ in range(16):  # bounded sampling; falls back to the best node when eligible ones are rare
            node = self._eligible(ring.ids[self._rng.randrange(len(ring.ids))], features_mask, exclude,
                                  (src, tgt, best))
            if node is not None:
                found[node.node_id] = node
                if len(found) == 2:
                    break
        if len(found) < 2:
            return None
        scored = [(rank(n, tgt, "composite", self.weights)
                   + (self.weights.dialect if dialect and dialect in n.caps.dialects else 0.0), n)
                  for n in found.values()]
        score, node = min(scored, key=lambda s: (-s[0], s[1].node_id))
        return Pick(node, score)


@dataclass
class Pick:
    node: NodeRecord
    score: float
