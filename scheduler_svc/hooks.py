"""What the Mesh tells the outside world besides its queues: the seam where the cluster layer plugs in.

With memory:// state `mesh.LocalHooks` sends to the node's own stream and ignores the rest; with a
redis:// state URL `cluster.bridge.ClusterBridge` reserves shared slots, forwards to other instances and
keeps job and session records, all without the Mesh awaiting anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lingua.v1 import node_pb2, session_pb2
    from scheduler_svc.registry import NodeRecord
    from scheduler_svc.sessions import Job, Session


class MeshHooks(Protocol):
    def to_node(self, node: NodeRecord, message: node_pb2.SchedulerMessage) -> None:
        """Deliver a message (a JobAssign: also take the slot) to the node, wherever its stream is."""

    def released(self, node: NodeRecord, job_id: str, attempt: int) -> None:
        """The slot of (job, attempt) on `node` is free again."""

    def job_finished(self, job: Job, ok: bool) -> None:
        """The job's one outcome was delivered (ok: a result, else an error)."""

    def node_lost(self, node_id: str, reason: str) -> None:
        """A node connected to this instance went offline."""

    def session_opened(self, session: Session, request: session_pb2.OpenSessionRequest) -> None: ...

    def session_closed(self, session: Session, forget: bool) -> None: ...
