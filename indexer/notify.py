"""Post-commit notifications for subscribers (the GraphQL API's subscriptions).

Channels (JSON payloads; ``block`` is always present):
  gridcast:newBlock           {"block", "hash", "events"}              once per committed batch
  gridcast:feedUpdated        {"feedId", "block"}
  gridcast:forecastCommitted  {"feedId", "operator", "firstEpoch", "epochs", "block"}
  gridcast:forecastRevealed   {"feedId", "operator", "firstEpoch", "epochs", "block"}
  gridcast:consensusUpdated   {"feedId", "epoch", "block"}
  gridcast:truthSubmitted     {"feedId", "epoch", "block"}
  gridcast:disputeUpdated     {"feedId", "epoch", "block"}
  gridcast:epochSettled       {"feedId", "epoch", "block", "cancelled"}
  gridcast:forecastScored     {"feedId", "epoch", "operator", "block"}
  gridcast:stakeChanged       {"operator", "kind", "block"}
  gridcast:rewardsChanged     {"account", "kind", "block"}
  gridcast:reorg              {"ancestor", "depth", "block"}
Redis pub/sub when a Redis URL is configured, else Postgres NOTIFY (same channel names, sent in
the batch's transaction so they arrive on commit). Batches with more than MAX_PER_BATCH entity
notifications (backfill) send only gridcast:newBlock.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

MAX_PER_BATCH = 1000


def _dedupe(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    for channel, payload in items:
        body = json.dumps(payload, sort_keys=True, default=str)
        if (channel, body) not in seen:
            seen.add((channel, body))
            out.append((channel, body))
    return out


class Notifier:
    def __init__(self, redis_url: str | None) -> None:
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def messages(
        self, items: list[tuple[str, dict[str, Any]]], block: int, hash: str | None, events: int
    ) -> list[tuple[str, str]]:
        out = _dedupe(items) if len(items) <= MAX_PER_BATCH else []
        out.append(
            ("gridcast:newBlock", json.dumps({"block": block, "hash": hash, "events": events}))
        )
        return out

    def in_transaction(
        self, conn: psycopg.Connection[Any], messages: list[tuple[str, str]]
    ) -> None:
        """Postgres NOTIFY fallback: queued in the transaction, delivered at commit."""
        if self._redis is None and messages:
            with conn.cursor() as cur:
                cur.executemany("SELECT pg_notify(%s, %s)", messages)

    def after_commit(self, messages: list[tuple[str, str]]) -> None:
        if self._redis is None or not messages:
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            for channel, body in messages:
                pipe.publish(channel, body)
            pipe.execute()
        except Exception:  # noqa: BLE001 - a subscriber outage must not stop indexing
            import logging

            logging.getLogger("gridcast.indexer").warning("redis publish failed", exc_info=True)
