from __future__ import annotations

from scheduler_svc.reorder import ReorderBuffer


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_in_order_passes_straight_through() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(10, Clock())
    assert buf.offer(0, "a") == ["a"]
    assert buf.offer(1, "b") == ["b"]


def test_out_of_order_is_held_then_released_in_order() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(10, Clock())
    assert buf.offer(2, "c") == []
    assert buf.offer(0, "a") == ["a"]
    assert buf.offer(1, "b") == ["b", "c"]
    assert buf.pending == 0


def test_first_outcome_wins_and_late_duplicates_are_dropped() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(10, Clock())
    assert buf.offer(1, "b") == []
    assert buf.offer(1, "b2") is None
    assert buf.offer(0, "a") == ["a", "b"]
    assert buf.offer(0, "a2") is None


def test_missing_index_is_given_up_after_grace_counted_from_the_later_result() -> None:
    clock = Clock()
    buf: ReorderBuffer[str] = ReorderBuffer(10, clock)
    buf.offer(0, "a")
    clock.t = 5
    assert buf.offer(2, "c") == []
    assert buf.gap_deadline() == 15
    clock.t = 14.9
    assert buf.give_up_expired(lambda i: f"timeout {i}") == []
    clock.t = 15
    assert buf.give_up_expired(lambda i: f"timeout {i}") == ["timeout 1", "c"]
    assert buf.offer(1, "late b") is None  # given up: dropped


def test_several_missing_indices_are_given_up_together() -> None:
    clock = Clock()
    buf: ReorderBuffer[str] = ReorderBuffer(1, clock)
    buf.offer(3, "d")
    clock.t = 1
    assert buf.give_up_expired(lambda i: f"t{i}") == ["t0", "t1", "t2", "d"]
    assert buf.next_index == 4
    assert buf.gap_deadline() is None
