"""Capability index: find the best eligible node for a job without scanning every node.

Nodes are grouped by what they can run: (src, tgt), then the exact feature set and dialects they
support. Each group keeps a max-heap of (rank, node) entries, pushed whenever a node's load, usage or
state changes; entries are invalidated lazily by the node's epoch. Selection looks only at the heads
of the groups whose features cover the job's, so it costs microseconds at 10,000 nodes. Bonuses that
depend on the job (dialect) are the same for a whole group, so comparing group heads stays exact.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field

from scheduler_svc.registry import NodeRecord, NodeRegistry
from scheduler_svc.scoring import Weights, rank

# (-rank, node_id, epoch): heapq is a min-heap; node_id makes ties deterministic.
Entry = tuple[float, str, int]
GroupKey = tuple[int, frozenset[str]]  # (features mask, dialects)


@dataclass
class _Group:
    members: set[str] = field(default_factory=set)
    heap: list[Entry] = field(default_factory=list)


@dataclass
class Pick:
    node: NodeRecord
    score: float


class CapabilityIndex:
    def __init__(self, registry: NodeRegistry, strategy: str = "composite", weights: Weights | None = None,
                 seed: int | None = None) -> None:
        self._registry = registry
        self.strategy = strategy
        self.weights = weights or Weights()
        self._groups: dict[tuple[str, str], dict[GroupKey, _Group]] = {}
        # Every member of a (src, tgt), in rotation order, for round_robin and power_of_two sampling.
        self._ring: dict[tuple[str, str], deque[str]] = {}
        self._membership: dict[str, list[tuple[tuple[str, str], GroupKey]]] = {}
        self._rng = random.Random(seed)

    # ---- maintenance -------------------------------------------------------------------------------

    def update(self, node: NodeRecord) -> None:
        """Re-index `node` after any change to its capabilities, state, usage or load."""
        node.epoch += 1
        gkey: GroupKey = (node.caps.features_mask, node.caps.dialects)
        wanted = [(key, gkey) for key in sorted(node.caps.job_keys())]
        if self._membership.get(node.node_id) != wanted:
            self.remove(node.node_id)
            for key, g in wanted:
                self._groups.setdefault(key, {}).setdefault(g, _Group()).members.add(node.node_id)
                self._ring.setdefault(key, deque()).append(node.node_id)
            self._membership[node.node_id] = wanted
        if not node.accepts_jobs():
            return
        for key, g in wanted:
            group = self._groups[key][g]
            heapq.heappush(group.heap, (-rank(node, key[1], self.strategy, self.weights), node.node_id, node.epoch))
            if len(group.heap) > 2 * len(group.members) + 64:
                self._compact(group)

    def remove(self, node_id: str) -> None:
        for key, g in self._membership.pop(node_id, []):
            groups = self._groups.get(key, {})
            group = groups.get(g)
            if group is not None:
                group.members.discard(node_id)
                if not group.members:
                    del groups[g]
            ring = self._ring.get(key)
            if ring is not None:
                ring.remove(node_id)
            if not groups:
                self._groups.pop(key, None)
                self._ring.pop(key, None)

    # ---- queries -----------------------------------------------------------------------------------

    def has_capable(self, src: str, tgt: str, features_mask: int) -> bool:
        """Whether any indexed node (busy or not) could ever run such a job."""
        return any(not features_mask & ~g[0] for g in self._groups.get((src, tgt), {}))

    def capable_ids(self, src: str, tgt: str, features_mask: int) -> list[str]:
        return [n for g, group in self._groups.get((src, tgt), {}).items() if not features_mask & ~g[0]
                for n in group.members]

    def select(self, src: str, tgt: str, features_mask: int, dialect: str = "",
               exclude: frozenset[str] = frozenset()) -> NodeRecord | None:
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
        best: tuple[float, str, NodeRecord] | None = None
        for g, group in self._groups.get((src, tgt), {}).items():
            if features_mask & ~g[0]:
                continue
            head = self._valid_head(group, exclude)
            if head is None:
                continue
            score = -head[0][0] + (self.weights.dialect if dialect and dialect in g[1] else 0.0)
            if best is None or (score, _neg(head[1].node_id)) > (best[0], _neg(best[1])):
                best = (score, head[1].node_id, head[1])
        return None if best is None else Pick(best[2], best[0])

    def _eligible(self, node_id: str, features_mask: int, exclude: frozenset[str]) -> NodeRecord | None:
        node = self._registry.get(node_id)
        if node is None or node_id in exclude or not node.accepts_jobs() or features_mask & ~node.caps.features_mask:
            return None
        return node

    def _round_robin(self, src: str, tgt: str, features_mask: int, exclude: frozenset[str]) -> Pick | None:
        ring = self._ring.get((src, tgt))
        if not ring:
            return None
        for _ in range(len(ring)):
            node_id = ring[0]
            ring.rotate(-1)
            node = self._eligible(node_id, features_mask, exclude)
            if node is not None:
                return Pick(node, rank(node, tgt, "composite", self.weights))
        return None

    def _power_of_two(self, src: str, tgt: str, features_mask: int, dialect: str,
                      exclude: frozenset[str]) -> Pick | None:
        ring = self._ring.get((src, tgt))
        if not ring:
            return None
        found: dict[str, NodeRecord] = {}
        for _ in range(16):  # bounded sampling; falls back to the best node when eligible ones are rare
            node = self._eligible(ring[self._rng.randrange(len(ring))], features_mask, exclude)
            if node is not None:
                found[node.node_id] = node
                if len(found) == 2:
                    break
        if len(found) < 2:
            return None
        scored = [(rank(n, tgt, "composite", self.weights)
                   + (self.weights.dialect if dialect and dialect in n.caps.dialects else 0.0), n)
                  for n in found.values()]
        score, node = max(scored, key=lambda s: (s[0], _neg(s[1].node_id)))
        return Pick(node, score)

    def _valid_head(self, group: _Group, exclude: frozenset[str]) -> tuple[Entry, NodeRecord] | None:
        skipped: list[Entry] = []
        found: tuple[Entry, NodeRecord] | None = None
        while group.heap:
            entry = group.heap[0]
            node = self._registry.get(entry[1])
            if node is None or node.epoch != entry[2] or not node.accepts_jobs():
                heapq.heappop(group.heap)  # stale: a newer entry exists, or the node is not eligible
                continue
            if node.node_id in exclude:
                skipped.append(heapq.heappop(group.heap))
                continue
            found = (entry, node)
            break
        for entry in skipped:
            heapq.heappush(group.heap, entry)
        return found

    def _compact(self, group: _Group) -> None:
        live = []
        for entry in group.heap:
            node = self._registry.get(entry[1])
            if node is not None and node.epoch == entry[2] and node.accepts_jobs():
                live.append(entry)
        heapq.heapify(live)
        group.heap = live


def _neg(node_id: str) -> tuple[int, ...]:
    """Sort key that makes the lexically smallest node id win ties under max()."""
    return (*(-ord(c) for c in node_id), 1)
