"""Adapter settings (env LINGUA_COMPAT_*, or the [compat] table of the TOML file)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CompatSettings:
    host: str = "0.0.0.0"
    # WebSocket /ws/node (the original's Electron nodes) and GET /health.
    port: int = 8765
    # The scheduler's gRPC address; every JSON node gets its own NodeService.Connect stream there.
    scheduler: str = "127.0.0.1:50051"
    max_message_mb: int = 64
    # Jobs a JSON node runs at once unless its node_register says (max_concurrent_jobs); the original's 4.
    node_max_jobs: int = 4
    # A JSON node that sends nothing (heartbeats every 15 s in the original) for this long is dropped, and the
    # scheduler fails its jobs over. Meanwhile the adapter heartbeats for it at the scheduler's interval.
    node_silence_timeout_s: float = 45.0
    # The first frame must be node_register within this many seconds.
    register_timeout_s: float = 30.0
    # Shared secret JSON nodes must present as ?token=… in their URL; empty: none (the original had no node
    # auth, and the scheduler's NodeService has none either — keep the adapter on a private network then).
    node_token: str = ""
    # On SIGTERM: how long open connections get to close.
    grace_s: float = 5.0
