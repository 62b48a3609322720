"""Throwaway databases for benchmarks that need a Postgres database of their own."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text


def scratch_database(server_url: str, prefix: str) -> tuple[str, str]:
    """Creates `<prefix>_<random>` on the server; returns (its name, its URL)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base, _, query = server_url.partition("?")
    return name, base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


def drop_database(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
