"""Per-session reorder buffer: outcomes leave in strictly increasing utterance_index.

An outcome is whatever ends an utterance (a result or an error). The first outcome for an index
wins; later ones are dropped. A missing index is waited for at most `grace_s` after a later index
became ready; then it is given up (the caller emits RESULT_TIMEOUT for it) and later outcomes flow.
A late outcome for a given-up index is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ReorderBuffer(Generic[T]):
    def __init__(self, grace_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.grace_s = grace_s
        self.next_index = 0
        self._ready: dict[int, tuple[T, float]] = {}
        self._clock = clock

    @property
    def pending(self) -> int:
        return len(self._ready)

    def holds(self, index: int) -> bool:
        """Whether an outcome for `index` was already accepted (delivered or waiting)."""
        return index < self.next_index or index in self._ready

    def offer(self, index: int, outcome: T) -> list[T] | None:
        """Add an outcome; returns what is now deliverable in order, or None if it was dropped."""
        if index < self.next_index or index in self._ready:
            return None
        self._ready[index] = (outcome, self._clock())
        return self._drain()

    def gap_deadline(self) -> float | None:
        """Monotonic time at which the missing next_index is given up, if something waits on it."""
        if not self._ready:
            return None
        return min(arrived for _, arrived in self._ready.values()) + self.grace_s

    def give_up_expired(self, make_timeout: Callable[[int], T]) -> list[T]:
        """Give up missing indices whose grace ran out; returns their timeouts and what follows them."""
        out: list[T] = []
        deadline = self.gap_deadline()
        while deadline is not None and self._clock() >= deadline:
            first_ready = min(self._ready)
            while self.next_index < first_ready:
                out.append(make_timeout(self.next_index))
                self.next_index += 1
            out.extend(self._drain())
            deadline = self.gap_deadline()
        return out

    def give_up_all(self, make_timeout: Callable[[int], T]) -> list[T]:
        """Give up every missing index before a waiting outcome now (the scheduler is stopping)."""
        out: list[T] = []
        while self._ready:
            first_ready = min(self._ready)
            while self.next_index < first_ready:
                out.append(make_timeout(self.next_index))
                self.next_index += 1
            out.extend(self._drain())
        return out

    def _drain(self) -> list[T]:
        out = []
        while self.next_index in self._ready:
            out.append(self._ready.pop(self.next_index)[0])
            self.next_index += 1
        return out
