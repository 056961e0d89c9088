"""Scheduler settings (env LINGUA_SCHEDULER_*, or the [scheduler] table of the TOML file)."""

from __future__ import annotations

from dataclasses import dataclass

from lingua.rpc import MiB
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
    # Largest message the scheduler sends (results carry synthesized speech).
    max_message_mb: int = 64
    # Largest message it reads; 0: the smallest whole MiB holding max_utterance_s of 48 kHz stereo PCM16
    # plus 1 MiB for the other fields (12 MiB for 60 s). Bigger ones end the call with RESOURCE_EXHAUSTED.
    max_receive_mb: int = 0
    # Concurrent streams per client connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). The gateway relays
    # every session it holds over one connection, so keep this above the sessions one gateway serves.
    max_concurrent_streams: int = 10_000

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
    # An offline node is forgotten (registry, index, health) this long after it went offline; a node that
    # comes back later registers afresh.
    offline_node_ttl_s: float = 600.0

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
    # Messages kept for a session whose Subscribe dropped, to deliver after it resumes; past this many,
    # live extras (partials, TTS chunks, events) are dropped.
    max_buffered_messages: int = 512
    # A session whose client does not read: past this many unread messages, or this many MiB, it is ended
    # with CLIENT_TOO_SLOW instead of growing.
    max_outbox_messages: int = 1024
    max_outbox_mb: int = 64

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
    # One instance alone (memory://): in-flight utterances get this long to finish on SIGTERM; what is left
    # then gets an explicit error outcome before the process exits.
    drain_timeout_ms: int = 10_000

    # -- pairing: a client (its gateway-stamped tenant, else its address) with pairing_max_failures wrong
    # codes within the window is refused until the oldest ages out; the whole scheduler takes at most
    # pairing_max_global_failures wrong codes per window (then every redeem waits); a live code is burned
    # after pairing_code_max_misses wrong guesses made anywhere while it is live.
    pairing_ttl_s: float = 300.0
    pairing_max_failures: int = 5
    pairing_failure_window_s: float = 60.0
    pairing_max_global_failures: int = 100
    pairing_code_max_misses: int = 200

    # -- model installs ordered through SchedulerAdmin: unfinished ones are forgotten after this long, and
    # at most this many are followed at once (the oldest is dropped).
    install_watch_ttl_s: float = 3_600.0
    max_install_watches: int = 1_024

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}")
        if self.pools not in POOL_MODES:
            raise ValueError(f"pools must be one of {', '.join(POOL_MODES)}, not {self.pools!r}")
        if not self.state_url.startswith(("memory://", "redis://", "rediss://", "unix://")):
            raise ValueError(f"state_url must be memory:// or redis://host:port/db, not {self.state_url!r}")

    @property
    def receive_limit_bytes(self) -> int:
        if self.max_receive_mb > 0:
            return self.max_receive_mb * MiB
        pcm = int(self.max_utterance_s * 48_000 * 2 * 2)  # the largest utterance: 48 kHz, stereo, 16-bit
        return -(-(pcm + MiB) // MiB) * MiB

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
