"""Alembic environment for the hub catalog (run through hub_svc.catalog.migrate, or the alembic CLI)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from hub_svc.db import Base

url = context.config.get_main_option("sqlalchemy.url")
connectable = context.config.attributes.get("connection")

if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif connectable is not None:
    context.configure(connection=connectable, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url or "")
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
