"""The streaming pipeline as a forecasting operator: its live Holt-Winters nowcast, held flat over
the round and banded by the recent nowcast error, offered to the shared operator bot as a
CurveSource (same commit → reveal path as the ML oracle)."""

from __future__ import annotations

import psycopg
from eth_utils import keccak

from gridcast.chain.feeds import FeedView
from gridcast.chain.market import Market
from gridcast.errors import NotReadyError
from gridcast.services import libpq_url


class NowcastUnavailableError(NotReadyError, RuntimeError):
    """The Spark job has not produced a nowcast for this feed yet."""


class NowcastSource:
    name = "nowcast(holt-winters, alpha=0.3)"

    def __init__(self, market: Market, database_url: str, band: float = 0.1) -> None:
        self.market = market
        self.url = libpq_url(database_url)
        self.band = band

    def model_hash(self, feed: FeedView) -> bytes:
        return keccak(text=f"gridcast-nowcast:{self.name}:band={self.band}")

    def curve(
        self, feed: FeedView, first_epoch: int, count: int
    ) -> tuple[list[int], list[int], list[int]]:
        dataset = self.market.binding(feed.feed_id).dataset
        with psycopg.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT value FROM stream_nowcasts WHERE feed = %s"
                " ORDER BY target_start DESC LIMIT 1",
                (dataset,),
            )
            row = cur.fetchone()
        if row is None:
            raise NowcastUnavailableError(f"no nowcast for {dataset} yet")
        level = float(row[0])
        spread = abs(level) * self.band
        value = feed.scale(level)
        return (
            [value] * count,
            [feed.scale(level - spread)] * count,
            [feed.scale(level + spread)] * count,
        )
