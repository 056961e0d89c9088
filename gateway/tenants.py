"""Tenants, their API keys and quotas, and their daily audio usage, in SQLite or PostgreSQL.

The store is synchronous (SQLAlchemy); async callers run it in a worker thread (Access, the admin servicer).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from gateway import keys
from gateway.db import VERSION_TABLE, ApiKeyRow, AudioUsageRow, TenantRow
from gateway.quotas import Quota
from lingua.v1 import common_pb2
from lingua_common import db
from lingua_common.errors import LinguaError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$")
DEV_TENANT = "dev"


def now_ms() -> int:
    return int(time.time() * 1000)


def utc_day(unix_s: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if unix_s is None else unix_s, UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    tenant_id: str
    prefix: str
    label: str
    created_ms: int
    expires_ms: int  # 0: never
    revoked_ms: int  # 0: not revoked

    def usable(self, at_ms: int) -> bool:
        return not self.revoked_ms and not (self.expires_ms and self.expires_ms <= at_ms)


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    quota: Quota
    created_ms: int
    keys: list[ApiKey] = field(default_factory=list)


@dataclass(frozen=True)
class KeyMatch:
    """What a presented API key resolves to (whether or not it is still usable)."""

    key: ApiKey
    quota: Quota


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(row.key_id, row.tenant_id, row.prefix, row.label, row.created_ms, row.expires_ms, row.revoked_ms)


def _quota(row: TenantRow) -> Quota:
    return Quota(row.requests_per_second, row.burst, row.max_concurrent_sessions, row.audio_seconds_per_day)


class TenantStore:
    def __init__(self, url: str, default_quota: Quota) -> None:
        self.url = url
        self.default_quota = default_quota.check()
        self.engine = db.migrate(url, Path(__file__).parent / "migrations", VERSION_TABLE)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        # An in-memory SQLite database is one shared connection: one thread at a time.
        self._lock: threading.Lock | None = threading.Lock() if db.is_memory_sqlite(url) else None

    def _guard(self) -> contextlib.AbstractContextManager[object]:
        return self._lock if self._lock is not None else contextlib.nullcontext()

    # ---- tenants ------------------------------------------------------------------------------------

    def create_tenant(self, name: str, quota: Quota | None = None) -> Tenant:
        if not NAME.match(name):
            raise LinguaError(common_pb2.INVALID_MESSAGE,
                              f"tenant name {name!r}: 1-128 letters, digits, spaces or ._@- (starting with a "
                              "letter or digit)")
        quota = (quota or self.default_quota).check()
        row = TenantRow(tenant_id=keys.new_id("tn"), name=name, requests_per_second=quota.requests_per_second,
                        burst=quota.burst, max_concurrent_sessions=quota.max_concurrent_sessions,
                        audio_seconds_per_day=quota.audio_seconds_per_day, created_ms=now_ms())
        try:
            with self._guard(), self._session.begin() as session:
                session.add(row)
        except IntegrityError:
            raise LinguaError(common_pb2.ALREADY_EXISTS, f"a tenant named {name!r} already exists") from None
        return Tenant(row.tenant_id, row.name, quota, row.created_ms)

    def list_tenants(self) -> list[Tenant]:
        with self._guard(), self._session() as session:
            tenants = list(session.scalars(select(TenantRow).order_by(TenantRow.created_ms, TenantRow.name)))
            by_tenant: dict[str, list[ApiKey]] = {}
            for k in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_ms, ApiKeyRow.key_id)):
                by_tenant.setdefault(k.tenant_id, []).append(_key(k))
        return [Tenant(t.tenant_id, t.name, _quota(t), t.created_ms, by_tenant.get(t.tenant_id, []))
                for t in tenants]

    def get_tenant(self, tenant_id: str) -> Tenant:
        with self._guard(), self._session() as session:
            row = session.get(TenantRow, tenant_id)
            if row is None:
                raise LinguaError(common_pb2.NOT_FOUND, f"no tenant {tenant_id!r} (lingua tenant list)")
            found = [_key(k) for k in session.scalars(select(ApiKeyRow).where(ApiKeyRow.tenant_id == tenant_id)
                                                      .order_by(ApiKeyRow.created_ms, ApiKeyRow.key_id))]
            return Tenant(row.tenant_id, row.name, _quota(row), row.created_ms, found)

    def find_by_name(self, name: str) -> Tenant | None:
        with self._guard(), self._session() as session:
            tenant_id = session.scalar(select(TenantRow.tenant_id).where(TenantRow.name == name))
        return None if tenant_id is None else self.get_tenant(tenant_id)

    def update_quota(self, tenant_id: str, requests_per_second: float = 0, burst: int = 0,
                     max_concurrent_sessions: int = 0, audio_seconds_per_day: int = 0) -> Tenant:
        """Replace the quota fields given as non-zero; the others stay."""
        with self._guard(), self._session.begin() as session:
            row = session.get(TenantRow, tenant_id)
            if row is None:
                raise LinguaError(common_pb2.NOT_FOUND, f"no tenant {tenant_id!r} (lingua tenant list)")
            quota = _quota(row).updated(requests_per_second, burst, max_concurrent_sessions,
                                        audio_seconds_per_day).check()
            row.requests_per_second, row.burst = quota.requests_per_second, quota.burst
            row.max_concurrent_sessions, row.audio_seconds_per_day = (quota.max_concurrent_sessions,
                                                                      quota.audio_seconds_per_day)
        return self.get_tenant(tenant_id)

    # ---- keys ---------------------------------------------------------------------------------------

    def issue_key(self, tenant_id: str, label: str = "", expires_ms: int = 0) -> tuple[ApiKey, str]:
        """A new key for the tenant: its record and the key itself, which is not stored and cannot be shown
        again."""
        if expires_ms and expires_ms <= now_ms():
            raise LinguaError(common_pb2.INVALID_MESSAGE, "the key's expiry is in the past")
        if len(label) > 256:
            raise LinguaError(common_pb2.INVALID_MESSAGE, "a key label has at most 256 characters")
        secret = keys.generate()
        row = ApiKeyRow(key_id=keys.new_id("key"), tenant_id=tenant_id, prefix=keys.prefix_of(secret),
                        key_hash=keys.key_hash(secret), label=label, created_ms=now_ms(), expires_ms=expires_ms,
                        revoked_ms=0)
        with self._guard(), self._session.begin() as session:
            if session.get(TenantRow, tenant_id) is None:
                raise LinguaError(common_pb2.NOT_FOUND, f"no tenant {tenant_id!r} (lingua tenant list)")
            session.add(row)
        return _key(row), secret

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key (revoking it again keeps the first revocation time)."""
        with self._guard(), self._session.begin() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise LinguaError(common_pb2.NOT_FOUND, f"no API key {key_id!r}")
            if not row.revoked_ms:
                row.revoked_ms = now_ms()
            return _key(row)

    def find_key(self, api_key: str) -> KeyMatch | None:
        """The key record `api_key` is (revoked or expired ones too), or None for a key that is not ours."""
        if not keys.well_formed(api_key):
            return None
        with self._guard(), self._session() as session:
            rows = session.execute(select(ApiKeyRow, TenantRow).join(TenantRow)
                                   .where(ApiKeyRow.prefix == keys.prefix_of(api_key))).all()
        # Every candidate is compared, so the time taken does not depend on which one matched.
        found = [(k, t) for k, t in rows if keys.matches(k.key_hash, api_key)]
        if not found:
            return None
        key_row, tenant_row = found[0]
        return KeyMatch(_key(key_row), _quota(tenant_row))

    # ---- daily audio --------------------------------------------------------------------------------

    def add_audio(self, tenant_id: str, seconds: float, limit: float, day: str | None = None) -> float | None:
        """Count `seconds` of audio against the tenant's UTC day; the day's new total, or None (nothing counted)
        when it would go past `limit`. Atomic across processes: one conditional UPDATE."""
        day = day or utc_day()
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(AudioUsageRow)
        with self._guard(), self._session.begin() as session:
            session.execute(insert.values(tenant_id=tenant_id, day=day, seconds=0.0).on_conflict_do_nothing())
            total = session.execute(
                update(AudioUsageRow)
                .where(AudioUsageRow.tenant_id == tenant_id, AudioUsageRow.day == day,
                       AudioUsageRow.seconds + seconds <= limit)
                .values(seconds=AudioUsageRow.seconds + seconds)
                .returning(AudioUsageRow.seconds)).scalar()
        return None if total is None else float(total)

    def audio_used(self, tenant_id: str, day: str | None = None) -> float:
        with self._guard(), self._session() as session:
            row = session.get(AudioUsageRow, (tenant_id, day or utc_day()))
        return 0.0 if row is None else row.seconds

    def close(self) -> None:
        self.engine.dispose()


def ensure_dev_tenant(store: TenantStore) -> tuple[str, str]:
    """The development tenant `lingua up` uses (created on first use) and a new API key for it, to print.
    Keys from earlier runs stay valid: a developer may have put one into an app."""
    tenant = store.find_by_name(DEV_TENANT)
    if tenant is None:
        try:
            tenant = store.create_tenant(DEV_TENANT)
        except LinguaError as exc:  # another process created it first
            if exc.code != common_pb2.ALREADY_EXISTS:
                raise
            tenant = store.find_by_name(DEV_TENANT)
            assert tenant is not None
    _key_record, secret = store.issue_key(tenant.tenant_id, label="lingua up (development)")
    return tenant.tenant_id, secret
