"""The gateway's tables (SQLAlchemy 2). Schema changes go through Alembic (gateway/migrations)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Alembic's version table for the gateway: the hub may share the same PostgreSQL database.
VERSION_TABLE = "gateway_alembic_version"


class Base(DeclarativeBase):
    pass


class TenantRow(Base):
    __tablename__ = "tenants"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    requests_per_second: Mapped[float] = mapped_column(Float)
    burst: Mapped[int] = mapped_column(Integer)
    max_concurrent_sessions: Mapped[int] = mapped_column(Integer)
    audio_seconds_per_day: Mapped[int] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.tenant_id", ondelete="CASCADE"), index=True)
    # The key's first characters (looked up, shown to operators) and the SHA-256 of the whole key.
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(256), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: never
    revoked_ms: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: not revoked


class AudioUsageRow(Base):
    """Seconds of audio a tenant sent on one UTC day (YYYY-MM-DD)."""

    __tablename__ = "audio_usage"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.tenant_id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
