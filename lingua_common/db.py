"""SQLAlchemy engines and Alembic upgrades shared by the services that keep tables (hub catalog, gateway).

A service passes its own migrations directory and Alembic version table, so that several services can share
one PostgreSQL database without their revision histories colliding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.pool import StaticPool


def is_memory_sqlite(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:") or url.startswith("sqlite:///:memory:?")


def make_engine(url: str) -> Engine:
    """An engine for `url`. SQLite: the file's directory is created, one connection is shared for an in-memory
    database (each new connection would see an empty one), and file databases use WAL and wait on locks so
    that several processes and threads can share them."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    if is_memory_sqlite(url):
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def migrate(url: str, migrations: Path, version_table: str = "alembic_version") -> Engine:
    """An engine for `url` with the schema at the newest revision of the Alembic scripts in `migrations`."""
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["version_table"] = version_table
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    return engine


def run_migrations(metadata: MetaData, default_version_table: str = "alembic_version") -> None:
    """The body of a service's migrations/env.py: online through the connection `migrate` hands over, offline
    (SQL script), or online against the configured URL when run from the alembic command line."""
    config = context.config
    version_table = config.attributes.get("version_table", default_version_table)
    options: dict[str, Any] = {"target_metadata": metadata, "version_table": version_table}
    connectable = config.attributes.get("connection")
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
    elif connectable is not None:
        context.configure(connection=connectable, **options)
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as connection:
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()
