"""Hub settings (env LINGUA_HUB_*, or the [hub] table of the TOML file)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HubSettings:
    host: str = "0.0.0.0"
    grpc_port: int = 50052
    # HTTP: the same files with Range requests, the catalog as JSON, /healthz, /metrics.
    http_port: int = 8082
    # Catalog database: sqlite:///path or postgresql+psycopg://user@host/db. Empty: <data_dir>/hub.db.
    database_url: str = ""
    # Blobs (content-addressed by sha256) live under <data_dir>/blobs.
    data_dir: str = "data/hub"
    # Bearer token operators present to publish or deprecate; empty refuses every publish.
    operator_token: str = ""
    # When set, reads (catalog and downloads) need this bearer token too.
    read_token: str = ""
    # Ed25519 private key (PKCS#8 PEM file, mode 0600; `lingua hub keygen`) that signs every version published.
    # Empty: versions are published unsigned, and nodes refuse them. `lingua hub sign` signs earlier versions.
    signing_key: str = ""
    chunk_size: int = 256 * 1024
    max_message_mb: int = 64

    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir}/hub.db"
