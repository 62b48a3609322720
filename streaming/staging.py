"""Postgres URL helpers shared by the streaming job, its tools and its tests."""

from __future__ import annotations


def libpq_url(url: str) -> str:
    """SQLAlchemy URL -> libpq URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
