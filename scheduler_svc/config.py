"""Scheduler settings (env LINGUA_SCHEDULER_*, or the [scheduler] table of the TOML file)."""

from __future__ import annotations

from dataclasses import dataclass

from scheduler_svc.health import HealthPolicy
from scheduler_svc.pools import MODES as POOL_MODES
from scheduler_svc.scoring import STRATEGIES, Weights


@dataclass
class SchedulerSettings:
    host: str = "0.0.0.0"
    port: int = 50051
    # Prometheus /metrics; -1 disables it.
    metrics_port: int = 9101
    metrics_host: str = "0.0.0.0"
    max_message_mb: int = 64

    # -- node health
    heartbeat_interval_ms: int = 5000
    # 0 means 3 x heartbeat_interval_ms.
    heartbeat_timeout_ms: int = 0
    # A new node takes jobs after this many heartbeats (0: at once).
    ready_after_heartbeats: int = 2
    # This many failed jobs within the window make a node degraded; it recovers after recover_s without.
    failure_threshold: int = 3
    failure_window_s: float = 60.0
    recover_s: float = 30.0
    # Used when a node registers without max_concurrent_jobs.
    default_max_jobs: int = 2

    # -- dispatch: strategy is composite | least_connections | round_robin | power_of_two
    strategy: str = "composite"
    weight_load: float = 3.0
    weight_cpu: float = 1.0
    weight_gpu: float = 0.5
    weight_mem: float = 0.5
    weight_capacity: float = 1.0
    weight_speed: float = 1.0
    bonus_native_voice: float = 2.0
    bonus_features: float = 0.25
    bonus_dialect: float = 0.5
    bonus_paired: float = 100.0

    # Two-level scheduling for large fleets (pools.py): off | hash (nodes in pool_count hash buckets, a job
    # starts in its tenant's) | capability (a pool per capability set, the one with most free slots first).
    pools: str = "off"
    pool_count: int = 16
    # A job whose first pool has no eligible node tries the next ones (off: it waits for its pool).
    pool_fallback: bool = True

    # -- jobs
    max_attempts: int = 3
    # A node that answered MODEL_NOT_AVAILABLE for a pair it advertises gets no jobs for that pair for
    # this long (or until it re-announces its models).
    model_unavailable_hold_s: float = 60.0
    # An attempt must be acknowledged by the node within ack_timeout_ms, then finish within
    # job_timeout_base_ms + job_timeout_per_audio_s_ms per second of audio.
    ack_timeout_ms: int = 5_000
    job_timeout_base_ms: int = 30_000
    job_timeout_per_audio_s_ms: int = 5_000
    # A job that finds every capable node busy waits this long for a slot before NO_AVAILABLE_NODE.
    queue_timeout_ms: int = 10_000
    max_queued_jobs: int = 1_000
    max_queued_per_session: int = 64
    # Hint returned with NO_AVAILABLE_NODE / NODE_OVERLOADED.
    retry_after_ms: int = 2_000
    max_utterance_s: float = 60.0

    # -- sessions
    # How long a later result waits for a missing earlier index before RESULT_TIMEOUT is sent for it.
    result_grace_ms: int = 10_000
    # Silence between AudioChunks that seals an utterance.
    pause_ms: int = 1_000
    # Utterances closer than this share MT context (a group), bounded in parts and characters.
    group_window_ms: int = 30_000
    group_max_parts: int = 3
    group_max_chars: int = 400
    # grpc-web sessions (OpenSession/Subscribe) without a subscriber are closed after this long.
    session_idle_timeout_ms: int = 120_000
    # Messages kept for a session whose Subscribe dropped, to deliver after it resumes.
    max_buffered_messages: int = 512

    # speaker_identification: voices remembered per session (each new one gets the next spk-N id).
    max_speakers_per_session: int = 16

    # -- shared state: memory:// (one instance, everything in this process) or redis://host:port/db
    # (several instances behind Envoy share nodes, reservations, jobs and sessions; see cluster/).
    state_url: str = "memory://"
    # Every Redis key starts with this (several meshes, or tests, can share one Redis).
    state_prefix: str = "lingua"
    # This instance's name in the cluster; empty: hostname-pid-random.
    instance_id: str = ""
    # Presence heartbeat and node-view refresh period; presence and node snapshots expire after 3 periods.
    cluster_heartbeat_ms: int = 1_000
    # Inbox entries handled this many times without an ack go to the dead-letter stream.
    inbox_max_deliveries: int = 10
    # An own inbox entry left unacknowledged this long is handled again.
    inbox_retry_idle_ms: int = 30_000
    inbox_maxlen: int = 10_000
    # Graceful shutdown (SIGTERM) when scaled out: in-flight jobs get this long to finish before the
    # instance hands its remaining sessions and nodes to the others anyway.
    drain_timeout_ms: int = 10_000

    # -- pairing
    pairing_ttl_s: float = 300.0
    pairing_max_failures: int = 5
    pairing_failure_window_s: float = 60.0

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}")
        if self.pools not in POOL_MODES:
            raise ValueError(f"pools must be one of {', '.join(POOL_MODES)}, not {self.pools!r}")
        if not self.state_url.startswith(("memory://", "redis://", "rediss://", "unix://")):
            raise ValueError(f"state_url must be memory:// or redis://host:port/db, not {self.state_url!r}")

    @property
    def heartbeat_timeout_s(self) -> float:
        ms = self.heartbeat_timeout_ms or 3 * self.heartbeat_interval_ms
        return ms / 1000.0

    @property
    def weights(self) -> Weights:
        return Weights(load=self.weight_load, cpu=self.weight_cpu, gpu=self.weight_gpu, mem=self.weight_mem,
                       capacity=self.weight_capacity, speed=self.weight_speed, native_voice=self.bonus_native_voice,
                       features=self.bonus_features, dialect=self.bonus_dialect, paired=self.bonus_paired)

    @property
    def health(self) -> HealthPolicy:
        return HealthPolicy(ready_after_heartbeats=self.ready_after_heartbeats,
                            failure_threshold=self.failure_threshold, failure_window_s=self.failure_window_s,
                            recover_s=self.recover_s)
