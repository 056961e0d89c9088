"""What the node's dashboard shows about its recent past: the jobs it ran and its resource usage.

Both are bounded, thread-safe ring buffers: the agent writes from its event loop and worker threads, the
control server's HTTP threads read.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

RECENT_JOBS = 50
RESOURCE_SAMPLES = 120


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class JobRecord:
    job_id: str
    attempt_id: int
    session_id: str
    utterance_index: int
    src_lang: str
    tgt_lang: str
    started_unix_ms: int
    duration_ms: float | None = None  # None while running
    outcome: str = "running"  # running | ok | error | cancelled
    error: str = ""
    # Per-stage timings in ms (vad_ms, asr_ms, mt_ms, tts_ms, total_ms, modules_ms) when the pipeline ran.
    timings: dict[str, float] = field(default_factory=dict)
    _started_mono: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["_started_mono"]
        if self.duration_ms is None:  # still running: how long so far
            out["elapsed_ms"] = round((time.monotonic() - self._started_mono) * 1000, 1)
        return out


class JobsView:
    """Jobs running now and the last `keep` finished ones (newest first)."""

    def __init__(self, keep: int = RECENT_JOBS) -> None:
        self._lock = threading.Lock()
        self._current: dict[tuple[str, int], JobRecord] = {}
        self._recent: deque[JobRecord] = deque(maxlen=keep)
        self.total_finished = 0

    def started(self, job_id: str, attempt_id: int, session_id: str, utterance_index: int,
                src_lang: str, tgt_lang: str) -> None:
        record = JobRecord(job_id, attempt_id, session_id, utterance_index, src_lang, tgt_lang,
                           started_unix_ms=_now_ms(), _started_mono=time.monotonic())
        with self._lock:
            self._current[(job_id, attempt_id)] = record

    def finished(self, job_id: str, attempt_id: int, outcome: str, *, error: str = "",
                 timings: dict[str, float] | None = None, src_lang: str = "", tgt_lang: str = "") -> None:
        with self._lock:
            record = self._current.pop((job_id, attempt_id), None)
            if record is None:
                return
            record.duration_ms = round((time.monotonic() - record._started_mono) * 1000, 1)
            record.outcome, record.error = outcome, error
            record.timings = {k: round(float(v), 1) for k, v in (timings or {}).items()}
            record.src_lang = src_lang or record.src_lang  # two-way jobs: the direction actually taken
            record.tgt_lang = tgt_lang or record.tgt_lang
            self._recent.appendleft(record)
            self.total_finished += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            current = sorted(self._current.values(), key=lambda r: r._started_mono)
            return {"current": [r.as_dict() for r in current], "recent": [r.as_dict() for r in self._recent],
                    "total_finished": self.total_finished}


@dataclass
class ResourceSample:
    t_unix_ms: int
    cpu: float
    mem: float
    gpu: float
    gpu_mem: float


class ResourceHistory:
    """The last `keep` resource samples (cpu / memory / gpu / gpu memory, in %)."""

    def __init__(self, keep: int = RESOURCE_SAMPLES) -> None:
        self._lock = threading.Lock()
        self._samples: deque[ResourceSample] = deque(maxlen=keep)

    def add(self, cpu: float, mem: float, gpu: float, gpu_mem: float) -> None:
        sample = ResourceSample(_now_ms(), round(cpu, 1), round(mem, 1), round(gpu, 1), round(gpu_mem, 1))
        with self._lock:
            self._samples.append(sample)

    def age_s(self) -> float:
        """Seconds since the newest sample (infinity when there is none)."""
        with self._lock:
            if not self._samples:
                return float("inf")
            return (_now_ms() - self._samples[-1].t_unix_ms) / 1000

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(s) for s in self._samples]
