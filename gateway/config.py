"""Gateway settings (env LINGUA_GATEWAY_*, or the [gateway] table of the TOML file)."""

from __future__ import annotations

from dataclasses import dataclass, field

MiB = 1024 * 1024


@dataclass
class GatewaySettings:
    host: str = "0.0.0.0"
    # HTTP: REST /v1/…, WebSocket /v1/stream, grpc-web, the web client, /healthz, /metrics.
    http_port: int = 8080
    # Public gRPC: SessionService with API keys, and TenantAdmin with the admin token.
    grpc_port: int = 50053
    # Tenants, keys, quotas and daily audio usage: sqlite:///path, sqlite:// (in memory, one process only) or
    # postgresql+psycopg://user@host/db. Empty: <data_dir>/gateway.db.
    db_url: str = ""
    data_dir: str = "data/gateway"
    # Rate limits and concurrent-session counts: "" keeps them in this process's memory; redis://host:port/db
    # shares them between every gateway process that uses the same URL and prefix.
    redis_url: str = ""
    redis_prefix: str = "lingua:gw"
    # Bearer token for TenantAdmin; empty refuses every admin call.
    admin_token: str = ""
    # Quota of a tenant created without one (CreateTenant fields left at 0 take these).
    default_requests_per_second: float = 10.0
    default_burst: int = 20
    default_max_concurrent_sessions: int = 10
    default_audio_seconds_per_day: int = 36_000
    # How long a looked-up API key is trusted without asking the database again: a revocation or quota
    # change takes effect within this many seconds.
    key_cache_ttl_s: float = 1.0
    # Redis session leases: a gateway renews its sessions' leases every third of this; a crashed gateway's
    # sessions stop counting against the quota after it.
    session_lease_ttl_s: float = 30.0

    # -- front doors (gateway/server.py and friends)
    # Scheduler gRPC address; several comma-separated (scaled out): new sessions go round robin.
    scheduler: str = "127.0.0.1:50051"
    # Largest message sent to clients and exchanged with the scheduler (results carry synthesized speech).
    max_message_mb: int = 64
    # Longest utterance (decoded seconds, whatever a container declares); keep it equal to the scheduler's.
    # Audio is decoded here (bounded, off the event loop) to count it against the daily audio quota.
    max_utterance_s: float = 60.0
    # Public gRPC port: largest message read; 0: the smallest whole MiB holding max_utterance_s of 48 kHz
    # stereo PCM16 plus 1 MiB (12 MiB for 60 s). Bigger ones end the call with RESOURCE_EXHAUSTED.
    max_receive_mb: int = 0
    # Public gRPC port: concurrent streams one client connection may hold (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS;
    # more wait for a free one).
    max_concurrent_streams: int = 128
    # Failed-authentication throttling: bad API keys tolerated per minute from one client address, and with one
    # key prefix; past that 429 / RESOURCE_EXHAUSTED (RATE_LIMITED) with a retry delay, before any lookup.
    auth_failures_per_client: int = 30
    auth_failures_per_key: int = 10
    # Most throttle buckets (per address, per key prefix) and rate-limit buckets kept in memory.
    max_throttle_entries: int = 10_000
    # Peers (e.g. Envoy) whose X-Forwarded-For names the real client address; comma-separated in the env var.
    trusted_proxies: list[str] = field(default_factory=list)
    # Longest a unary call (REST translate, Translate, OpenSession, ...) may wait for the scheduler.
    request_timeout_s: float = 120.0
    # A grpc-web session nobody subscribed to for this long is closed (as the scheduler does) and its
    # concurrent-session slot freed.
    session_idle_timeout_s: float = 120.0
    # Largest REST upload / grpc-web request body, and largest WebSocket frame (bigger: an `error` frame).
    max_upload_mb: int = 32
    max_ws_frame_kb: int = 1024
    # Origins allowed to call from a browser (CORS); "*" for any. Comma-separated in the env var.
    cors_origins: list[str] = field(default_factory=lambda: ["*"])
    # On SIGTERM: how long in-flight calls and streams get to finish.
    grace_s: float = 5.0
    # /ws/session (the original apps' JSON protocol): where a client's API key may be (header = Authorization
    # Bearer, query = ?api_key=, first_frame = an `api_key` field); comma-separated in the env var.
    legacy_ws_auth: list[str] = field(default_factory=lambda: ["header", "query", "first_frame"])
    # Tenant id that keyless /ws/session clients count against: a private deployment's explicit opt-in;
    # empty (the default) refuses them.
    legacy_ws_anonymous_tenant: str = ""

    @property
    def receive_limit_bytes(self) -> int:
        if self.max_receive_mb > 0:
            return self.max_receive_mb * MiB
        pcm = int(self.max_utterance_s * 48_000 * 2 * 2)  # the largest utterance: 48 kHz, stereo, 16-bit
        return -(-(pcm + MiB) // MiB) * MiB

    def scheduler_addresses(self) -> list[str]:
        return [a.strip() for a in self.scheduler.split(",") if a.strip()]

    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir}/gateway.db"
