"""Alembic environment: runs online against the URL the engine module put in the config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import indexer.models  # noqa: F401  (registers every table on Base.metadata)
from indexer.db.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set by indexer.db.engine.alembic_config"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `gridcast db upgrade`")
run_migrations_online()
