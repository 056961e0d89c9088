"""Redis key names, all under one prefix.

Keys that a Lua script touches carry the entity in a hash tag (`{node:…}`, `{job:…}`) so the scripts
stay valid on Redis Cluster, where every key of one script must live in one slot.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str

    @property
    def instances(self) -> str:
        return f"{self.prefix}:instances"

    def presence(self, instance_id: str) -> str:
        return f"{self.prefix}:instance:{{{instance_id}}}:alive"

    def inbox(self, instance_id: str) -> str:
        return f"{self.prefix}:inbox:{{{instance_id}}}"

    def dead_letters(self, instance_id: str) -> str:
        return f"{self.prefix}:inbox:{{{instance_id}}}:dlq"

    def reclaim_lock(self, instance_id: str) -> str:
        return f"{self.prefix}:inbox:{{{instance_id}}}:reclaim"

    @property
    def nodes(self) -> str:
        return f"{self.prefix}:nodes"

    def node(self, node_id: str) -> str:
        return f"{self.prefix}:node:{{node:{node_id}}}"

    def reserved(self, node_id: str) -> str:
        return f"{self.prefix}:node:{{node:{node_id}}}:reserved"

    def job(self, job_id: str) -> str:
        return f"{self.prefix}:job:{{job:{job_id}}}"

    def request(self, request_id: str) -> str:
        return f"{self.prefix}:request:{{req:{request_id}}}"

    def session(self, session_id: str) -> str:
        return f"{self.prefix}:session:{{session:{session_id}}}"

    # Pairing keys share one hash tag: the scripts touch codes, expiries and failures together.
    @property
    def pairing_codes(self) -> str:
        return f"{self.prefix}:pairing:{{pairing}}:codes"

    @property
    def pairing_expiry(self) -> str:
        return f"{self.prefix}:pairing:{{pairing}}:expiry"

    def pairing_issued(self, holder: str) -> str:
        return f"{self.prefix}:pairing:{{pairing}}:issued:{holder}"

    def pairing_failures(self, client: str) -> str:
        return f"{self.prefix}:pairing:{{pairing}}:failures:{client}"

    def pairing_node(self, node_id: str) -> str:
        """The node's one live code."""
        return f"{self.prefix}:pairing:{{pairing}}:node:{node_id}"

    @property
    def pairing_recent(self) -> str:
        """Wrong codes from anyone within the failure window (the scheduler-wide cap)."""
        return f"{self.prefix}:pairing:{{pairing}}:recent"

    @property
    def pairing_misses(self) -> str:
        """Wrong codes ever (a counter), and what it read when each live code was issued."""
        return f"{self.prefix}:pairing:{{pairing}}:misses"

    @property
    def pairing_misses_at(self) -> str:
        return f"{self.prefix}:pairing:{{pairing}}:misses_at"


def text(value: bytes | str | object) -> str:
    """A Redis reply as str (the client returns bytes; its type hints also allow str)."""
    return value.decode() if isinstance(value, bytes) else str(value)
