"""Nodes that said MODEL_NOT_AVAILABLE for a language pair they advertise, avoided for a while.

A node can advertise a model it cannot serve right now (removed from disk, failed to load, a newer
version still installing) until its next capabilities heartbeat. Without a memory of that, every job
for the pair would try it first and lose a round trip; with it, the next jobs go elsewhere at once.
"""

from __future__ import annotations

import time

Pair = tuple[str, str]


class ModelAvoidance:
    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self._until: dict[Pair, dict[str, float]] = {}

    def mark(self, node_id: str, src: str, tgt: str) -> None:
        self._until.setdefault((src, tgt), {})[node_id] = time.monotonic() + self.hold_s

    def avoided(self, src: str, tgt: str) -> frozenset[str]:
        """Nodes to skip for src->tgt now (expired marks are dropped here)."""
        marks = self._until.get((src, tgt))
        if not marks:
            return frozenset()
        now = time.monotonic()
        for node_id in [n for n, until in marks.items() if until <= now]:
            del marks[node_id]
        if not marks:
            del self._until[(src, tgt)]
        return frozenset(marks)

    def remaining_s(self, node_id: str, src: str, tgt: str) -> float:
        until = self._until.get((src, tgt), {}).get(node_id, 0.0)
        return max(0.0, until - time.monotonic())

    def forget_node(self, node_id: str) -> None:
        """The node re-announced its models: trust the new list."""
        for pair in list(self._until):
            self._until[pair].pop(node_id, None)
            if not self._until[pair]:
                del self._until[pair]
