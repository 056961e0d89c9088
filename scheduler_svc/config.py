"""Scheduler settings (env LINGUA_SCHEDULER_*, or the [scheduler] table of the TOML file)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SchedulerSettings:
    host: str = "0.0.0.0"
    port: int = 50051
    # Prometheus /metrics; -1 disables it.
    metrics_port: int = 9101
    metrics_host: str = "0.0.0.0"
    heartbeat_interval_ms: int = 5000
    # 0 means 3 x heartbeat_interval_ms.
    heartbeat_timeout_ms: int = 0
    # How long a later result waits for a missing earlier index before RESULT_TIMEOUT is sent for it.
    result_grace_ms: int = 10_000
    max_attempts: int = 3
    # A job attempt times out after job_timeout_base_ms + job_timeout_per_audio_s_ms per audio second.
    job_timeout_base_ms: int = 30_000
    job_timeout_per_audio_s_ms: int = 5_000
    # A job that finds every capable node busy waits this long for a slot before NO_AVAILABLE_NODE.
    queue_timeout_ms: int = 10_000
    max_queued_jobs: int = 1_000
    max_queued_per_session: int = 64
    # Hint returned with NO_AVAILABLE_NODE / NODE_OVERLOADED.
    retry_after_ms: int = 2_000
    max_utterance_s: float = 60.0
    max_message_mb: int = 64
    # Used when a node registers without max_concurrent_jobs.
    default_max_jobs: int = 2

    @property
    def heartbeat_timeout_s(self) -> float:
        ms = self.heartbeat_timeout_ms or 3 * self.heartbeat_interval_ms
        return ms / 1000.0
