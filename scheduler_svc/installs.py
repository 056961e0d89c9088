"""Model installs the operator asked a node for (SchedulerAdmin.InstallModel), and their progress.

The node streams ModelInstallStatus messages; the admin call waits for the first one (accepted) or
for the last one (READY / ERROR), whichever the operator asked for. Bounded: at most `max_watches` are
followed (the oldest is forgotten first), an unfinished one is forgotten after `ttl_s`, and only the last
256 finished ones are kept for lookups.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from lingua.v1 import node_pb2
from lingua_common.ids import new_id

_FINAL = (node_pb2.MODEL_STATE_READY, node_pb2.MODEL_STATE_ERROR)
# Finished installs kept for lookups; older ones are forgotten.
_KEEP_FINISHED = 256


@dataclass
class InstallWatch:
    request_id: str
    node_id: str
    latest: node_pb2.ModelInstallStatus | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    created: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> bool:
        return self.latest is not None and self.latest.state in _FINAL

    async def next_status(self, final: bool, timeout_s: float) -> node_pb2.ModelInstallStatus | None:
        """The first status (or the final one), or the latest seen when the time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not (self.finished if final else self.latest is not None):
            self.changed.clear()
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                break
        return self.latest


class InstallRequests:
    def __init__(self, ttl_s: float = 3_600.0, max_watches: int = 1_024) -> None:
        self.ttl_s = ttl_s
        self.max_watches = max(1, max_watches)
        # In the order they were made (oldest first).
        self._watches: dict[str, InstallWatch] = {}

    def __len__(self) -> int:
        return len(self._watches)

    def order(self, node_id: str, model_id: str, version: str) -> tuple[InstallWatch, node_pb2.ModelInstallOrder]:
        watch = InstallWatch(request_id=new_id("inst"), node_id=node_id)
        self._expire(watch.created)
        self._watches[watch.request_id] = watch
        self._forget_old()
        return watch, node_pb2.ModelInstallOrder(request_id=watch.request_id, model_id=model_id, version=version)

    def update(self, node_id: str, status: node_pb2.ModelInstallStatus) -> None:
        watch = self._watches.get(status.request_id)
        if watch is None or watch.node_id != node_id:
            return  # an install the node started on its own, or a stale request
        watch.latest = status
        watch.changed.set()

    def node_gone(self, node_id: str, error: node_pb2.ModelInstallStatus) -> None:
        """The node disconnected: unfinished installs end with `error` (copied per request)."""
        for watch in self._watches.values():
            if watch.node_id == node_id and not watch.finished:
                status = node_pb2.ModelInstallStatus()
                status.CopyFrom(error)
                status.request_id = watch.request_id
                if watch.latest is not None:
                    status.model_id, status.version = watch.latest.model_id, watch.latest.version
                watch.latest = status
                watch.changed.set()

    def _expire(self, now: float) -> None:
        """Forget watches past their ttl, and the oldest while there is no room for one more."""
        while self._watches:
            oldest = next(iter(self._watches.values()))
            if oldest.created > now - self.ttl_s and len(self._watches) < self.max_watches:
                break
            del self._watches[oldest.request_id]

    def _forget_old(self) -> None:
        finished = [rid for rid, w in self._watches.items() if w.finished]
        for rid in finished[: max(0, len(finished) - _KEEP_FINISHED)]:
            del self._watches[rid]
