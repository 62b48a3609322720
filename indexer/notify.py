"""Notifications for subscribers (the GraphQL API's subscriptions, the record re-verifier).

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
  gridcast:deliveryRootPosted {"feedId", "epoch", "root", "block"}
  gridcast:assetChanged       {"assetId", "block"}
  gridcast:orderPlaced        {"feedId", "marketId", "epoch", "index", "trader", "side",
                               "volumeWh", "limitPrice", "block"}  (amounts as decimal strings)
  gridcast:clearingPublished  {"feedId", "marketId", "epoch", "price", "volumeWh", "block"}
  gridcast:deliveryCertified  {"assetId", "feedId", "epochs", "block"}
  gridcast:certificateRetired {"retirementId", "account", "certificateId", "energyWh",
                               "co2eGrams", "block"}
  gridcast:reorg              {"ancestor", "depth", "block"}

Delivery is durable: every message of a batch, whatever the batch's size, is written to the
outbox (``indexer_outbox``, see :mod:`indexer.models.outbox`) in the batch's transaction, with
``gridcast:newBlock`` (or ``gridcast:reorg``) last. After the commit one wake-up goes out on the
last message's channel (Redis pub/sub when a Redis URL is configured, else Postgres NOTIFY, sent
in the transaction so it arrives on commit), its payload being that message plus ``"position"``,
the newest outbox position. Consumers read the outbox by position from their own cursor; a lost
wake-up only delays them until the next one (or their poll).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import orjson
import psycopg

from indexer.writer import Step, run

log = logging.getLogger("gridcast.indexer")
BACKSLASH = "\\"
PRUNE = (
    "WITH top AS (SELECT coalesce(max(position), 0) AS p FROM indexer_outbox) "
    "DELETE FROM indexer_outbox WHERE position <= ("
    "  SELECT least(top.p - %(keep)s, coalesce((SELECT min(position) FROM outbox_cursors),"
    "  top.p)) FROM top"
    ") OR created_at < now() - make_interval(secs => %(age)s)"
)


def _dedupe(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    for channel, payload in items:
        try:  # orjson: ~5x json.dumps; the body is stored as jsonb (spacing is not kept)
            body = orjson.dumps(payload, default=str, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # an int beyond 64 bits
            body = json.dumps(payload, sort_keys=True, default=str)
        if (channel, body) not in seen:
            seen.add((channel, body))
            out.append((channel, body))
    return out


class Notifier:
    """Writes a batch's messages to the outbox, wakes consumers after commit, prunes the outbox.

    Retention: a row goes once it is more than ``keep`` positions behind the newest and every
    durable cursor (``outbox_cursors``) has passed it, or once it is older than ``max_age_s``.
    """

    def __init__(
        self,
        redis_url: str | None,
        *,
        keep: int = 100_000,
        max_age_s: float = 7 * 86_400,
        prune_every_s: float = 30.0,
    ) -> None:
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
        self.keep = keep
        self.max_age_s = max_age_s
        self.prune_every_s = prune_every_s
        self._last_prune = 0.0

    def messages(
        self, items: list[tuple[str, dict[str, Any]]], block: int, hash: str | None, events: int
    ) -> list[tuple[str, str]]:
        """The batch's messages, deduplicated, ``gridcast:newBlock`` last (nothing dropped)."""
        out = _dedupe(items)
        out.append(
            ("gridcast:newBlock", json.dumps({"block": block, "hash": hash, "events": events}))
        )
        return out

    def steps(self, messages: list[tuple[str, str]], block: int) -> list[Step]:
        """Plan steps (see indexer.writer) appending ``messages`` to the outbox, the wake-up
        (queued as a NOTIFY in the transaction without Redis) and, when due, the retention."""
        if not messages:
            return []
        # JSON has no raw tab, newline or carriage return: escaping the backslashes is enough
        text = "".join(
            f"{block}\t{channel}\t{body.replace(BACKSLASH, BACKSLASH * 2)}\n"
            for channel, body in messages
        )
        out: list[Step] = [
            ("copy", "COPY indexer_outbox (block_number, channel, payload) FROM STDIN",
             text.encode(), []),
            ("wake", *messages[-1], self._redis is None),
        ]  # fmt: skip
        prune = self.prune_step()
        if prune is not None:
            out.append(prune)
        return out

    def in_transaction(
        self, conn: psycopg.Connection[Any], messages: list[tuple[str, str]], block: int
    ) -> tuple[str, str] | None:
        """Append ``messages`` to the outbox in the caller's transaction; returns the wake-up
        (channel, body) to send once it commits (queued as a NOTIFY here without Redis)."""
        return run(conn, self.steps(messages, block))

    def prune_step(self, *, force: bool = False) -> Step | None:
        """The retention rule as a plan step, at most every ``prune_every_s``."""
        now = time.monotonic()
        if not force and now - self._last_prune < self.prune_every_s:
            return None
        self._last_prune = now
        return ("exec", PRUNE, {"keep": self.keep, "age": self.max_age_s})

    def maybe_prune(self, conn: psycopg.Connection[Any], *, force: bool = False) -> int:
        """Apply the retention rule at most every ``prune_every_s``; returns rows deleted."""
        step = self.prune_step(force=force)
        if step is None:
            return 0
        return conn.execute(step[1], step[2]).rowcount

    def after_commit(self, wake: tuple[str, str] | None) -> None:
        if self._redis is None or wake is None:
            return
        try:
            self._redis.publish(*wake)
        except Exception:  # noqa: BLE001 - consumers catch up from the outbox on the next wake-up
            log.warning("redis publish failed", exc_info=True)
