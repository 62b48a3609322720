"""Moving a micro-batch's Spark rows into a Postgres staging table: either Spark writes CSV that
the driver COPYs (JVM speed, no Python per row), or each executor partition COPYs its own rows,
so nothing funnels through the driver (no shared staging storage needed)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def libpq_url(url: str) -> str:
    """SQLAlchemy URL -> libpq URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def copy_partition(rows: Iterable[Any], url: str, table: str, columns: Sequence[str]) -> None:
    import psycopg

    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r))


def stage(
    frame: Any, url: str, table: str, columns: Sequence[str], staging_dir: Path | None
) -> None:
    """COPY `frame` (its columns in the order of `columns`) into `table`."""
    if staging_dir is None:
        cols = list(columns)
        frame.foreachPartition(lambda part: copy_partition(part, url, table, cols))
        return
    import psycopg

    out = staging_dir / table
    frame.write.mode("overwrite").option("header", "false").csv(str(out))
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
            for part in sorted(out.glob("part-*")):
                with part.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        copy.write(block)
    shutil.rmtree(out, ignore_errors=True)
