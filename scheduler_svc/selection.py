"""Choosing a node for a job: the paired node while it can serve, else the pool; and why a node cannot."""

from __future__ import annotations

from dataclasses import dataclass

from scheduler_svc.avoidance import ModelAvoidance
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.index import NodeIndex
from scheduler_svc.registry import NodeRecord, NodeRegistry, NodeState
from scheduler_svc.scoring import rank


@dataclass
class Need:
    """What a job (or a hypothetical one) requires of a node."""

    src: str
    tgt: str
    features_mask: int = 0
    dialect: str = ""
    tried: frozenset[str] = frozenset()
    paired_node_id: str = ""
    require_paired: bool = False
    two_way: bool = False
    # Nodes that recently said MODEL_NOT_AVAILABLE for this pair.
    avoid: frozenset[str] = frozenset()
    # Routing key for pools (the tenant, else the session).
    route: str = ""

    @property
    def excluded(self) -> frozenset[str]:
        return self.tried | self.avoid


class NodeSelector:
    def __init__(self, registry: NodeRegistry, index: NodeIndex, avoidance: ModelAvoidance,
                 settings: SchedulerSettings) -> None:
        self.registry, self.index, self.avoidance, self.settings = registry, index, avoidance, settings

    def eligible(self, node: NodeRecord, need: Need, slot: bool = True) -> list[str]:
        """Why `node` cannot take a job with `need` (empty: it can). slot=False ignores a full node."""
        reasons = []
        if not node.accept_public_jobs and node.node_id != need.paired_node_id:
            reasons.append("private: takes only jobs of sessions paired with it (accept_public_jobs false)")
        if node.state is not NodeState.READY:
            reasons.append(f"state {node.state.value}" + (f" ({node.state_reason})" if node.state_reason else ""))
        if slot and node.free_slots <= 0:
            reasons.append(f"no free slot ({node.busy_slots}/{node.max_jobs} jobs reserved)")
        reasons += node.caps.missing_for(need.src, need.tgt)
        if need.two_way:
            reasons += [f"two-way: {r}" for r in node.caps.missing_for(need.tgt, need.src)]
        lacking = node.caps.missing_features(need.features_mask)
        if lacking:
            reasons.append(f"lacks feature(s) {', '.join(lacking)}")
        if slot and node.node_id in need.tried:
            reasons.append("already tried for this job")
        if node.node_id in need.avoid:
            left = max(self.avoidance.remaining_s(node.node_id, need.src, need.tgt),
                       self.avoidance.remaining_s(node.node_id, need.tgt, need.src))
            reasons.append(f"said MODEL_NOT_AVAILABLE for {need.src}->{need.tgt}; avoided for {left:.0f} s more")
        return reasons

    def paired_usable(self, need: Need) -> NodeRecord | None:
        """The session's paired node if it is ready and capable (busy or not), else None."""
        paired = self.registry.get(need.paired_node_id) if need.paired_node_id else None
        if paired is None or self.eligible(paired, need, slot=False):
            return None
        return paired

    def select(self, need: Need) -> tuple[NodeRecord | None, bool]:
        """The node for `need` (None: wait or fail), and whether the session's paired node was passed over.

        While the paired node is ready and capable, the session's jobs go to it, waiting for a free slot
        when it is busy; when it is not, they fall back to the pool unless the client required it.
        """
        if need.paired_node_id:
            paired = self.paired_usable(need)
            if paired is not None and paired.node_id not in need.excluded:
                return (paired if paired.free_slots > 0 else None), False
            if need.require_paired:
                return None, True
            return self.pool(need), True
        return self.pool(need), False

    def two_way_capable(self, need: Need) -> set[str]:
        return set(self.index.capable_ids(need.src, need.tgt, need.features_mask)) & set(
            self.index.capable_ids(need.tgt, need.src, need.features_mask))

    def pool(self, need: Need) -> NodeRecord | None:
        if not need.two_way:
            return self.index.select(need.src, need.tgt, need.features_mask, need.dialect, need.excluded, need.route)
        # Both directions needed: intersect the two capability groups (two-way sessions are few).
        both = self.two_way_capable(need)
        nodes = [n for n in (self.registry.get(i) for i in sorted(both))
                 if n is not None and not self.eligible(n, need)]
        # The worse of the two directions' tiers decides, then the score.
        return min(nodes, key=lambda n: (max(n.caps.tier(need.src, need.tgt), n.caps.tier(need.tgt, need.src)),
                                         -rank(n, need.tgt, self.settings.strategy, self.settings.weights),
                                         n.node_id), default=None)
