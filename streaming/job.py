"""The Spark Structured Streaming job: landed telemetry files -> windows -> quality -> sinks.

Spark's file source and checkpoint decide which files make up each micro-batch (and replay the
same files for the same batch id after a crash). Each batch's rows are COPYed by the executors
into a staging table; one Postgres transaction then applies the batch's event-time windows,
watermark and quality rules (``streaming.sql``). The window state lives in Postgres rather than
in Spark's state store because Spark's stateful operators drop rows behind the watermark
silently, while every late reading here must become an alert. Redis and MongoDB get idempotent
writes after the commit.

Hook for truth submission: closed per-epoch windows land in ``epoch_actuals`` (value, meter
count, coverage, quality flags, evidence JSON and hash) with ``submitted_at`` NULL; a truth
reporter polls ``pending_epoch_actuals()`` and marks rows with ``mark_submitted()``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from streaming import sql
from streaming.errors import NonRetryableError
from streaming.nowcast import holt_winters
from streaming.staging import copy_partition, libpq_url

log = logging.getLogger(__name__)

FEATURE_KEY = "gridcast:features:{feed}"
NOWCAST_KEY = "gridcast:nowcast:{feed}"
FEATURE_CHANNEL = "gridcast:features"
LATENCY_KEY = "gridcast:stream:latency"
RAW_SCHEMA = (
    "received_at DOUBLE, v LONG, feed STRING, meter STRING, sent_at DOUBLE, "
    "readings ARRAY<STRUCT<ts: DOUBLE, value: DOUBLE>>"
)
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)  # window alignment origin (midnight UTC)


@dataclass(frozen=True)
class JobConfig:
    landing_dir: Path
    checkpoint_dir: Path
    database_url: str
    redis_url: str | None = None
    mongo_url: str | None = None
    job: str = "gridcast-stream"
    window_s: int = 300  # 5-minute windows (data time)
    epoch_s: int = 3600  # data time one epoch stands for (hourly feeds)
    watermark_s: float = 600.0  # data seconds a reading may trail the newest one
    trigger_s: float = 0.5
    max_files_per_trigger: int | None = None
    spike_ratio: float = 4.0
    spike_floor: float = 0.1
    stuck_run: int = 6
    season: int = 24  # epochs per day, for the nowcast's seasonal term
    master: str | None = None
    # Where Spark writes each batch as CSV for the driver to COPY (JVM speed, no Python per row).
    # Must be visible to executors and the driver (local disk on one host, shared storage on a
    # multi-host cluster); None stages through the executors' own Postgres connections instead.
    staging_dir: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)


class BatchWriter:
    """The foreachBatch callback; holds only configuration so it is cheap to rebuild."""

    def __init__(self, cfg: JobConfig) -> None:
        self.cfg = cfg
        self.url = libpq_url(cfg.database_url)

    def _watermarks_before(self, cur: psycopg.Cursor[Any], batch_id: int) -> dict[str, float]:
        """Per-feed watermarks in force for `batch_id`: recorded ones when the batch is replayed
        (so its rows are classified exactly as before), else the previous batch's result."""
        cur.execute(
            "SELECT watermarks FROM stream_batches WHERE job = %s AND batch_id = %s",
            (self.cfg.job, batch_id),
        )
        row = cur.fetchone()
        if row is not None:
            return {f: float(w[0]) for f, w in row[0].items()}
        cur.execute(
            "SELECT watermarks FROM stream_batches WHERE job = %s AND batch_id < %s"
            " ORDER BY batch_id DESC LIMIT 1",
            (self.cfg.job, batch_id),
        )
        prev = cur.fetchone()
        return {f: float(w[1]) for f, w in prev[0].items()} if prev else {}

    def __call__(self, df: Any, batch_id: int) -> None:
        cfg = self.cfg
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(
                "DELETE FROM stream_staging WHERE job = %s AND batch_id = %s", (cfg.job, batch_id)
            )
        t0 = time.perf_counter()
        rows = df.select("feed", "meter", "ts", "value", "sent_at")
        if cfg.staging_dir is not None:
            stage_via_files(rows, cfg, batch_id)
        else:
            url, job = cfg.database_url, cfg.job
            rows.foreachPartition(lambda part: copy_partition(part, url, job, batch_id))
        t1 = time.perf_counter()
        t_commit = self.commit(batch_id)
        log.debug(
            "batch %s staged in %.3f s, committed in %.3f s",
            batch_id,
            t1 - t0,
            time.perf_counter() - t1,
        )
        if t_commit is not None:
            self.publish(batch_id, *t_commit)

    def commit(self, batch_id: int) -> tuple[list[str], list[str], list[float], int] | None:
        """Apply staged rows in one transaction; returns (touched feeds, feeds with new epoch
        actuals, sent_at quantiles, rows) for the after-commit sinks."""
        cfg = self.cfg
        with psycopg.connect(self.url) as conn, conn.cursor() as cur:
            before = self._watermarks_before(cur, batch_id)
            params: dict[str, Any] = {
                "job": cfg.job,
                "b": batch_id,
                "watermark_s": cfg.watermark_s,
                "origin": ORIGIN,
                "spike_ratio": cfg.spike_ratio,
                "spike_floor": cfg.spike_floor,
                "stuck_run": cfg.stuck_run,
            }
            cur.execute(sql.BATCH_STATS, params)
            rows, quantiles = cur.fetchone() or (0, None)
            if not rows:
                return None
            cur.execute(sql.WATERMARKS)
            cur.executemany(
                "INSERT INTO batch_wm (feed, before, after) VALUES (%s, %s, %s)",
                [(f, w, w) for f, w in before.items()],
            )
            cur.execute(sql.WATERMARK_AFTER, params)
            cur.execute("SELECT feed, before, after FROM batch_wm")
            watermarks = {f: [b, a] for f, b, a in cur.fetchall()}
            for name in ("LATE_ALERTS", "ACCEPT", "METERS", "NEGATIVE", "SPIKES", "STUCK"):
                t = time.perf_counter()
                cur.execute(getattr(sql, name), params)
                log.debug("batch %s %s %.3f s", batch_id, name, time.perf_counter() - t)
            cur.execute(
                "SELECT DISTINCT feed FROM stream_readings WHERE batch_id = %s", (batch_id,)
            )
            feeds = [r[0] for r in cur.fetchall()]
            cur.execute(sql.TOUCHED_TABLE)
            for kind, width_s in (("5m", cfg.window_s), ("epoch", cfg.epoch_s)):
                p = {
                    **params,
                    "kind": kind,
                    "width_s": width_s,
                    "width": timedelta(seconds=width_s),
                }
                for name in ("TOUCHED_WINDOWS", "AGGREGATE", "RAMP", "CLOSE"):
                    t = time.perf_counter()
                    cur.execute(getattr(sql, name), p)
                    log.debug(
                        "batch %s %s/%s %.3f s", batch_id, kind, name, time.perf_counter() - t
                    )
            cur.execute(sql.EPOCH_ACTUALS, params)
            new_epoch_feeds = sorted({r[0] for r in cur.fetchall()})
            for feed in new_epoch_feeds:
                self._nowcast(cur, feed)
            cur.execute(
                "INSERT INTO stream_batches (job, batch_id, watermarks, rows, processed_at)"
                " VALUES (%s, %s, %s, %s, now()) ON CONFLICT DO NOTHING",
                (cfg.job, batch_id, Jsonb(watermarks), rows),
            )
            cur.execute(
                "DELETE FROM stream_staging WHERE job = %s AND batch_id = %s", (cfg.job, batch_id)
            )
        return sorted(set(feeds) | set(new_epoch_feeds)), new_epoch_feeds, quantiles or [], rows

    def _nowcast(self, cur: psycopg.Cursor[Any], feed: str) -> None:
        cur.execute(
            "SELECT epoch_start, epoch_end, value FROM epoch_actuals WHERE feed = %s"
            " ORDER BY epoch_start DESC LIMIT %s",
            (feed, self.cfg.season * 14),
        )
        history = list(reversed(cur.fetchall()))
        forecast = holt_winters([h[2] for h in history], season=self.cfg.season)
        cur.execute(
            "INSERT INTO stream_nowcasts (feed, target_start, value, method, based_on_epochs,"
            " computed_at) VALUES (%s, %s, %s, %s, %s, now())"
            " ON CONFLICT (feed, target_start) DO UPDATE SET value = excluded.value,"
            " method = excluded.method, based_on_epochs = excluded.based_on_epochs,"
            " computed_at = excluded.computed_at",
            (feed, history[-1][1], forecast.value, forecast.method, forecast.based_on),
        )

    def publish(
        self,
        batch_id: int,
        feeds: list[str],
        epoch_feeds: list[str],
        quantiles: list[float],
        rows: int,
    ) -> None:
        features = latest_features(self.url, feeds)
        now = time.time()
        if self.cfg.redis_url:
            import redis

            r = redis.Redis.from_url(self.cfg.redis_url)
            pipe = r.pipeline(transaction=False)
            for feed, feat in features.items():
                mapping: dict[str, str | float] = {k: json.dumps(v) for k, v in feat.items()}
                mapping["updated_at"] = now
                pipe.hset(FEATURE_KEY.format(feed=feed), mapping=mapping)  # type: ignore[arg-type]
                pipe.publish(FEATURE_CHANNEL, json.dumps({"feed": feed, **feat}))
            for feed, nc in latest_nowcasts(self.url, epoch_feeds).items():
                pipe.hset(
                    NOWCAST_KEY.format(feed=feed), mapping={k: json.dumps(v) for k, v in nc.items()}
                )
            pipe.rpush(
                LATENCY_KEY,
                json.dumps(
                    {"batch_id": batch_id, "rows": rows, "updated_at": now, "sent_at_q": quantiles}
                ),
            )
            pipe.ltrim(LATENCY_KEY, -100_000, -1)
            pipe.execute()
            r.close()
        if self.cfg.mongo_url:
            write_alerts_to_mongo(self.url, self.cfg.mongo_url, batch_id)


def stage_via_files(rows: Any, cfg: JobConfig, batch_id: int) -> None:
    """Spark writes the batch as CSV; the driver streams the files into stream_staging."""
    from pyspark.sql import functions as F

    assert cfg.staging_dir is not None
    out = cfg.staging_dir / f"batch-{batch_id}"
    (
        rows.select(
            F.lit(cfg.job),
            F.lit(batch_id),
            F.monotonically_increasing_id(),
            "feed",
            "meter",
            "ts",
            "value",
            "sent_at",
        )
        .write.mode("overwrite")
        .option("header", "false")
        .csv(str(out))
    )
    with psycopg.connect(libpq_url(cfg.database_url)) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY stream_staging (job, batch_id, seq, feed, meter, ts, value, sent_at)"
            " FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            for part in sorted(out.glob("part-*")):
                with part.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        copy.write(block)
    shutil.rmtree(out, ignore_errors=True)


def latest_features(url: str, feeds: list[str]) -> dict[str, dict[str, Any]]:
    """The newest 5-minute window per feed, plus the newest closed epoch window."""
    out: dict[str, dict[str, Any]] = {}
    if not feeds:
        return out
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT ON (feed) feed, extract(epoch FROM window_start), value, mean,"
            " reading_count, meter_count, coverage, ramp_rate FROM stream_aggregates"
            " WHERE window_kind = '5m' AND feed = ANY(%s) ORDER BY feed, window_start DESC",
            (feeds,),
        )
        for feed, ws, value, mean, n, meters, cov, ramp in cur.fetchall():
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


def latest_nowcasts(url: str, feeds: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT ON (feed) feed, extract(epoch FROM target_start), value, method,"
            " based_on_epochs FROM stream_nowcasts WHERE feed = ANY(%s)"
            " ORDER BY feed, target_start DESC",
            (feeds,),
        )
        for feed, target, value, method, n in cur.fetchall():
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


def telemetry_stream(spark: Any, cfg: JobConfig) -> Any:
    """Landed JSON lines -> one row per reading (feed, meter, ts, value, sent_at)."""
    from pyspark.sql import functions as F

    reader = spark.readStream.schema(RAW_SCHEMA)
    if cfg.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", cfg.max_files_per_trigger)
    raw = reader.json(str(cfg.landing_dir))
    return (
        raw.select("feed", "meter", "sent_at", F.explode("readings").alias("r"))
        .select(
            "feed", "meter", F.col("r.ts").alias("ts"), F.col("r.value").alias("value"), "sent_at"
        )
        .where(F.col("ts").isNotNull() & F.col("value").isNotNull())
    )


def start(spark: Any, cfg: JobConfig) -> Any:
    """Start the streaming query (returns the StreamingQuery)."""
    if not cfg.landing_dir.exists():
        cfg.landing_dir.mkdir(parents=True, exist_ok=True)
    if cfg.watermark_s < 0 or cfg.window_s <= 0 or cfg.epoch_s % cfg.window_s:
        raise NonRetryableError("epoch_s must be a positive multiple of window_s")
    return (
        telemetry_stream(spark, cfg)
        .writeStream.foreachBatch(BatchWriter(cfg))
        .option("checkpointLocation", str(cfg.checkpoint_dir))
        .trigger(processingTime=f"{int(cfg.trigger_s * 1000)} milliseconds")
        .queryName(cfg.job)
        .start()
    )


def run_until_idle(spark: Any, cfg: JobConfig) -> None:
    """Process every file landed so far, then stop (tests, batch catch-up)."""
    query = start(spark, cfg)
    try:
        query.processAllAvailable()
    finally:
        query.stop()
