"""Progress of one install: bytes on disk, bytes fetched, speed over a sliding window, ETA; reported to a
callback at most every `interval_s` (plus once at the end)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

State = Literal["downloading", "verifying", "done", "failed", "cancelled"]


@dataclass(frozen=True)
class InstallProgress:
    model_id: str
    version: str
    total_bytes: int
    done_bytes: int  # on disk: resumed partial bytes + fetched
    fetched_bytes: int  # over the network, by this install
    files_total: int
    files_done: int
    bytes_per_s: float
    eta_s: float | None  # None while the speed is unknown
    state: State
    error: str = ""

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 1.0


ProgressCallback = Callable[[InstallProgress], None]


class ProgressTracker:
    def __init__(self, model_id: str, version: str, total_bytes: int, files_total: int,
                 callback: ProgressCallback | None = None, interval_s: float = 0.1, window_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.model_id, self.version = model_id, version
        self.total_bytes, self.files_total = total_bytes, files_total
        self._callback, self._interval, self._window, self._clock = callback, interval_s, window_s, clock
        self._lock, self._emit_lock = threading.Lock(), threading.Lock()
        self._done = self._fetched = self._files_done = 0
        self._state: State | None = None
        self._error = ""
        self._start = clock()
        self._samples: deque[tuple[float, int]] = deque([(self._start, 0)])
        self._last_emit = float("-inf")
        self._finished = False

    def on_disk(self, n: int) -> None:
        """Bytes a resumed download already had."""
        with self._lock:
            self._done += n
        self._maybe_emit()

    def fetched(self, n: int) -> None:
        with self._lock:
            self._done += n
            self._fetched += n
            now = self._clock()
            self._samples.append((now, self._fetched))
            while len(self._samples) > 2 and self._samples[1][0] < now - self._window:
                self._samples.popleft()
        self._maybe_emit()

    def lost(self, n: int) -> None:
        """Bytes deleted again (a download that failed verification)."""
        with self._lock:
            self._done -= n

    def file_done(self) -> None:
        with self._lock:
            self._files_done += 1
        self._maybe_emit()

    def snapshot(self) -> InstallProgress:
        with self._lock:
            now = self._clock()
            t0, f0 = self._samples[0]
            speed = (self._fetched - f0) / (now - t0) if now - t0 > 0.05 else 0.0
            remaining = max(0, self.total_bytes - self._done)
            eta = remaining / speed if speed > 0 else (0.0 if remaining == 0 else None)
            state: State = self._state or ("verifying" if remaining == 0 else "downloading")
            return InstallProgress(self.model_id, self.version, self.total_bytes, self._done, self._fetched,
                                   self.files_total, self._files_done, speed, eta, state, self._error)

    def finish(self, state: State, error: str = "") -> InstallProgress:
        """The final report (always delivered); later updates are not reported."""
        with self._lock:
            self._state, self._error = state, error
        final = self.snapshot()
        with self._emit_lock:
            if not self._finished:
                self._finished = True
                self._deliver(final)
        return final

    def tick(self) -> None:
        """Report now if the interval has passed (so speed and ETA update while no bytes arrive)."""
        self._maybe_emit()

    def _maybe_emit(self) -> None:
        if self._callback is None or self._clock() - self._last_emit < self._interval:
            return
        with self._emit_lock:
            if self._finished or self._clock() - self._last_emit < self._interval:
                return
            self._last_emit = self._clock()
            self._deliver(self.snapshot())

    def _deliver(self, progress: InstallProgress) -> None:
        if self._callback is None:
            return
        try:
            self._callback(progress)
        except Exception:  # a broken display must not break the install
            log.exception("install progress callback failed")
