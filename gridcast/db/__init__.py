"""The database layer every package shares (core): engine creation, the declarative base and the
migration runner. Each domain package owns its tables' models and its Alembic branch; none imports
another package to reach Postgres."""

from gridcast.db.base import Base
from gridcast.db.engine import alembic_config, cached_engine, downgrade, make_engine, upgrade

__all__ = ["Base", "alembic_config", "cached_engine", "downgrade", "make_engine", "upgrade"]
