"""Alembic environment for the hub catalog (run through hub_svc.catalog.migrate, or the alembic CLI)."""

from __future__ import annotations

from hub_svc.db import Base
from lingua_common.db import run_migrations

run_migrations(Base.metadata)
