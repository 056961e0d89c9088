"""Owner side of cross-instance jobs: which attempts running on our nodes belong to another instance.

Pure bookkeeping (no Redis, no gRPC): the bridge asks it where a node's message must go, whom to tell
when a node is lost, and which attempts to cancel when their origin instance died.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Forwarded:
    job_id: str
    attempt: int
    node_id: str
    origin: str


class Relay:
    def __init__(self) -> None:
        self._by_attempt: dict[tuple[str, int], Forwarded] = {}

    def track(self, job_id: str, attempt: int, node_id: str, origin: str) -> bool:
        """Remember an attempt forwarded to our node; False if it already was (a repeated delivery)."""
        key = (job_id, attempt)
        if key in self._by_attempt:
            return False
        self._by_attempt[key] = Forwarded(job_id, attempt, node_id, origin)
        return True

    def origin_of(self, job_id: str, attempt: int) -> str | None:
        f = self._by_attempt.get((job_id, attempt))
        return None if f is None else f.origin

    def untrack(self, job_id: str, attempt: int) -> Forwarded | None:
        return self._by_attempt.pop((job_id, attempt), None)

    def node_lost(self, node_id: str) -> list[Forwarded]:
        """The node's forwarded attempts, forgotten: their origins must re-dispatch them."""
        return self._take(lambda f: f.node_id == node_id)

    def origin_gone(self, origin: str) -> list[Forwarded]:
        """Attempts of a dead instance: nobody waits for them, so the nodes should stop."""
        return self._take(lambda f: f.origin == origin)

    def on_node(self, node_id: str) -> int:
        """How many forwarded attempts run on the node now."""
        return sum(f.node_id == node_id for f in self._by_attempt.values())

    def __len__(self) -> int:
        return len(self._by_attempt)

    def _take(self, match: Callable[[Forwarded], bool]) -> list[Forwarded]:
        taken = [f for f in self._by_attempt.values() if match(f)]
        for f in taken:
            del self._by_attempt[(f.job_id, f.attempt)]
        return taken
