"""Executor side of a micro-batch: each partition COPYs its rows into the staging table, so the
readings never funnel through the driver."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def libpq_url(url: str) -> str:
    """SQLAlchemy URL -> libpq URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def copy_partition(rows: Iterable[Any], url: str, job: str, batch_id: int) -> None:
    import psycopg
    from pyspark import TaskContext

    ctx = TaskContext.get()
    base = (ctx.partitionId() if ctx is not None else 0) << 32
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY stream_staging (job, batch_id, seq, feed, meter, ts, value, sent_at) FROM STDIN"
        ) as copy:
            for i, r in enumerate(rows):
                copy.write_row((job, batch_id, base + i, r[0], r[1], r[2], r[3], r[4]))
