"""Moved to :mod:`gridcast.db.engine` (core: every package migrates and connects through it)."""

from gridcast.db.engine import (
    MIGRATIONS,
    alembic_config,
    cached_engine,
    downgrade,
    make_engine,
    upgrade,
)

__all__ = ["MIGRATIONS", "alembic_config", "cached_engine", "downgrade", "make_engine", "upgrade"]
