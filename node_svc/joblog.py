"""An append-only audit log of the jobs a node ran (JSON lines), for operators and chaos tests.

Each line: {"node_id", "job_id", "attempt", "event": "start" | "end", "outcome", "t_ns"} where t_ns is
CLOCK_MONOTONIC (comparable across processes on one machine).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path


class JobLog:
    def __init__(self, path: str) -> None:
        self._path = Path(path) if path else None
        self._lock = threading.Lock()

    def write(self, node_id: str, job_id: str, attempt: int, event: str, outcome: str = "") -> None:
        if self._path is None:
            return
        line = json.dumps({"node_id": node_id, "job_id": job_id, "attempt": attempt, "event": event,
                           "outcome": outcome, "t_ns": time.monotonic_ns()})
        with self._lock, self._path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
