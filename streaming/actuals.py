"""The epoch-actuals queue the truth reporter reads: closed (feed, epoch) windows land in
``epoch_actuals`` with ``submitted_at`` NULL (written by the batch commit, ``streaming.sql``);
the reporter polls ``pending_epoch_actuals()`` and marks rows with ``mark_submitted()``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from gridcast.services import libpq_url


def pending_epoch_actuals(url: str, feed: str | None = None) -> list[dict[str, Any]]:
    """Closed epochs not yet submitted as truth, oldest first (the truth reporter's queue)."""
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT feed, epoch_start, epoch_end, value, meter_count, reading_count, coverage,"
            " quality_flags, evidence, evidence_hash FROM epoch_actuals"
            " WHERE submitted_at IS NULL AND (%s::text IS NULL OR feed = %s)"
            " ORDER BY epoch_start, feed",
            (feed, feed),
        )
        cols = [d.name for d in cur.description or []]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def mark_submitted(url: str, feed: str, epoch_start: datetime, tx_hash: str) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            "UPDATE epoch_actuals SET submitted_at = now(), submission_tx = %s"
            " WHERE feed = %s AND epoch_start = %s",
            (tx_hash, feed, epoch_start),
        )


def meter_energy_leaves(
    url: str, feed: str, epoch_start: datetime, epoch: int | None = None
) -> list[tuple[str, int, int]]:
    """The metered-delivery leaves of one closed (feed, epoch): (meterId, epoch, energyWh) per
    meter, sorted by meter id, from ``epoch_meter_energy`` (written once, when the epoch closed).
    `epoch` is the number the leaves carry (the chain's epoch of that data window); by default
    the epoch start in unix seconds. Empty while the epoch is still open."""
    tag = int(epoch_start.timestamp()) if epoch is None else epoch
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT meter, energy_wh FROM epoch_meter_energy WHERE feed = %s AND epoch_start = %s"
            " ORDER BY meter",
            (feed, epoch_start),
        ).fetchall()
    return [(str(meter), tag, int(wh)) for meter, wh in rows]
