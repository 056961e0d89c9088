"""Alembic environment for the gateway's tables (run through gateway.tenants.TenantStore, or the alembic CLI)."""

from __future__ import annotations

from gateway.db import VERSION_TABLE, Base
from lingua_common.db import run_migrations

run_migrations(Base.metadata, VERSION_TABLE)
