"""Gateway settings (env LINGUA_GATEWAY_*, or the [gateway] table of the TOML file)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    max_message_mb: int = 64
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

    def scheduler_addresses(self) -> list[str]:
        return [a.strip() for a in self.scheduler.split(",") if a.strip()]

    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir}/gateway.db"
