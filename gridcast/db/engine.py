"""Engine creation and schema migration (the schema is created only by Alembic)."""

from __future__ import annotations

from functools import lru_cache

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine

from gridcast.settings import PROJECT_ROOT

# The Alembic script directory (one revision graph, a branch per package); a path, not an import.
MIGRATIONS = PROJECT_ROOT / "indexer" / "migrations"


def make_engine(url: str, **kwargs: object) -> Engine:
    return create_engine(url, pool_pre_ping=True, future=True, **kwargs)  # type: ignore[arg-type]


@lru_cache(maxsize=8)
def cached_engine(url: str) -> Engine:
    return make_engine(url)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply every migration branch (each package owns a branch of the revision graph)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
