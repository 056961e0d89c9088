"""Node health: when a node may take jobs.

registering ──N healthy heartbeats──▶ ready ──failures in a window / broken model──▶ degraded
     ▲                                  ▲                                            │
     │                                  └──────── healthy again for `recover_s` ─────┘
  (re)register                 draining: operator DrainNode or the node shutting down (no new jobs)
                               offline: no heartbeat for heartbeat_timeout, or the stream closed
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from scheduler_svc.registry import NodeRecord, NodeState


@dataclass(frozen=True)
class HealthPolicy:
    ready_after_heartbeats: int = 2
    failure_threshold: int = 3
    failure_window_s: float = 60.0
    recover_s: float = 30.0


@dataclass
class HealthTracker:
    """Per-node counters the policy needs (kept beside the NodeRecord)."""

    healthy_heartbeats: int = 0
    failures: deque[float] = field(default_factory=deque)
    broken_models: tuple[str, ...] = ()
    degraded_since: float = 0.0


def after_register(node: NodeRecord, tracker: HealthTracker, policy: HealthPolicy) -> tuple[NodeState, str]:
    tracker.healthy_heartbeats = 0
    tracker.failures.clear()
    if policy.ready_after_heartbeats <= 0:
        return NodeState.READY, "registered"
    return NodeState.REGISTERING, f"waiting for {policy.ready_after_heartbeats} healthy heartbeats"


def after_heartbeat(node: NodeRecord, tracker: HealthTracker, policy: HealthPolicy,
                    broken_models: tuple[str, ...], now: float | None = None) -> tuple[NodeState, str] | None:
    """The state a heartbeat moves the node to, or None to stay."""
    now = time.monotonic() if now is None else now
    tracker.broken_models = broken_models
    if node.state in (NodeState.DRAINING, NodeState.OFFLINE):
        return None
    if broken_models:
        tracker.healthy_heartbeats = 0
        if node.state is not NodeState.DEGRADED:
            tracker.degraded_since = now
            return NodeState.DEGRADED, f"model(s) reported broken: {', '.join(broken_models)}"
        return None
    tracker.healthy_heartbeats += 1
    if node.state is NodeState.REGISTERING and tracker.healthy_heartbeats >= policy.ready_after_heartbeats:
        return NodeState.READY, f"{tracker.healthy_heartbeats} healthy heartbeats"
    if node.state is NodeState.DEGRADED:
        _forget_old(tracker, policy, now)
        if not tracker.failures and now - tracker.degraded_since >= policy.recover_s:
            return NodeState.READY, f"healthy for {policy.recover_s:.0f} s"
    return None


def after_job_failure(node: NodeRecord, tracker: HealthTracker, policy: HealthPolicy,
                      now: float | None = None) -> tuple[NodeState, str] | None:
    now = time.monotonic() if now is None else now
    tracker.failures.append(now)
    _forget_old(tracker, policy, now)
    if node.state is NodeState.READY and len(tracker.failures) >= policy.failure_threshold:
        tracker.degraded_since = now
        return NodeState.DEGRADED, (f"{len(tracker.failures)} job failures within "
                                    f"{policy.failure_window_s:.0f} s")
    if node.state is NodeState.DEGRADED:
        tracker.degraded_since = now  # still failing: the recovery clock starts over
    return None


def _forget_old(tracker: HealthTracker, policy: HealthPolicy, now: float) -> None:
    while tracker.failures and now - tracker.failures[0] > policy.failure_window_s:
        tracker.failures.popleft()
