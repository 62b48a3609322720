"""After-commit sinks: the newest features and nowcasts read back from Postgres, written to
Redis (hash per feed, a pub/sub notice, the latency list) and alerts upserted into MongoDB. Every
write is idempotent, so a batch replayed after a crash writes the same values again."""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg

FEATURE_KEY = "gridcast:features:{feed}"
NOWCAST_KEY = "gridcast:nowcast:{feed}"
FEATURE_CHANNEL = "gridcast:features"
LATENCY_KEY = "gridcast:stream:latency"


def publish_to_redis(
    client: Any,
    conn: psycopg.Connection[Any],
    batch_id: int,
    feeds: list[str],
    epoch_feeds: list[str],
    quantiles: list[float],
    rows: int,
) -> None:
    """The touched feeds' newest 5-minute features and the new nowcasts to Redis, and the
    batch's sent_at quantiles to the latency list (one pipeline round trip)."""
    features = latest_features(conn, feeds)
    nowcasts = latest_nowcasts(conn, epoch_feeds)
    now = time.time()
    pipe = client.pipeline(transaction=False)
    for feed, feat in features.items():
        mapping: dict[str, str | float] = {k: json.dumps(v) for k, v in feat.items()}
        mapping["updated_at"] = now
        pipe.hset(FEATURE_KEY.format(feed=feed), mapping=mapping)
        pipe.publish(FEATURE_CHANNEL, json.dumps({"feed": feed, **feat}))
    for feed, nc in nowcasts.items():
        pipe.hset(NOWCAST_KEY.format(feed=feed), mapping={k: json.dumps(v) for k, v in nc.items()})
    pipe.rpush(
        LATENCY_KEY,
        json.dumps({"batch_id": batch_id, "rows": rows, "updated_at": now, "sent_at_q": quantiles}),
    )
    pipe.ltrim(LATENCY_KEY, -100_000, -1)
    pipe.execute()


def latest_features(conn: psycopg.Connection[Any], feeds: list[str]) -> dict[str, dict[str, Any]]:
    """The newest 5-minute window per feed (one index probe per feed)."""
    out: dict[str, dict[str, Any]] = {}
    if not feeds:
        return out
    rows = conn.execute(
        "SELECT f.feed, extract(epoch FROM a.window_start), a.value, a.mean, a.reading_count,"
        " a.meter_count, a.coverage, a.ramp_rate FROM unnest(%s::text[]) AS f(feed)"
        " CROSS JOIN LATERAL (SELECT * FROM stream_aggregates s WHERE s.feed = f.feed"
        " AND s.window_kind = '5m' ORDER BY s.window_start DESC LIMIT 1) a",
        (feeds,),
    ).fetchall()
    for feed, ws, value, mean, n, meters, cov, ramp in rows:
        out[feed] = {
            "window_start": float(ws),
            "value": value,
            "mean": mean,
            "reading_count": n,
            "meter_count": meters,
            "coverage": cov,
            "ramp_rate": ramp,
        }
    return out


def latest_nowcasts(conn: psycopg.Connection[Any], feeds: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if not feeds:
        return out
    rows = conn.execute(
        "SELECT f.feed, extract(epoch FROM n.target_start), n.value, n.method, n.based_on_epochs"
        " FROM unnest(%s::text[]) AS f(feed) CROSS JOIN LATERAL (SELECT * FROM stream_nowcasts s"
        " WHERE s.feed = f.feed ORDER BY s.target_start DESC LIMIT 1) n",
        (feeds,),
    ).fetchall()
    for feed, target, value, method, n in rows:
        out[feed] = {
            "target_start": float(target),
            "value": value,
            "method": method,
            "based_on_epochs": n,
        }
    return out


def write_alerts_to_mongo(pg_url: str, mongo_url: str, batch_id: int) -> int:
    """Upsert this batch's alerts into MongoDB `gridcast.stream_alerts` (keyed like Postgres)."""
    from pymongo import MongoClient, ReplaceOne

    with psycopg.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT feed, rule, meter, extract(epoch FROM event_ts), value, detail"
            " FROM stream_alerts WHERE batch_id = %s",
            (batch_id,),
        )
        alerts = cur.fetchall()
    if not alerts:
        return 0
    # Keyed on a natural `key` field (unique index) rather than `_id`, so any server that speaks
    # the wire protocol upserts it the same way.
    ops = [
        ReplaceOne(
            {"key": f"{feed}|{rule}|{meter}|{float(ts):.3f}"},
            {
                "key": f"{feed}|{rule}|{meter}|{float(ts):.3f}",
                "feed": feed,
                "rule": rule,
                "meter": meter,
                "event_ts": float(ts),
                "value": value,
                "detail": detail,
                "batch_id": batch_id,
            },
            upsert=True,
        )
        for feed, rule, meter, ts, value, detail in alerts
    ]
    client: Any = MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        collection = client.get_default_database("gridcast").stream_alerts
        collection.create_index("key", unique=True)
        collection.bulk_write(ops, ordered=False)
    finally:
        client.close()
    return len(ops)
