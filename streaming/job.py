"""The Spark Structured Streaming job: landed telemetry files -> windows -> quality -> sinks.

Spark's file source and checkpoint decide which files make up each micro-batch (and replay the
same files for the same batch id after a crash). Per-reading work happens in Spark on the batch
DataFrame: lateness against the per-feed watermark, de-duplication (within the batch and against
each meter's accepted timestamps still inside the watermark), stuck runs continued from per-meter
state, negative generation, and per-(feed, window, meter) sums and counts. Postgres receives only
those partials, per-meter state and alert rows; one transaction adds the partials, records the
batch id (a batch already recorded is skipped, so a replay never counts twice) and recomputes the
windows the batch touched (``streaming.sql``). The window state lives in Postgres rather than in
Spark's state store because Spark's stateful operators drop rows behind the watermark silently,
while every late reading here must become an alert. Redis and MongoDB get idempotent writes after
the commit. ``JobConfig.store_readings`` also keeps every accepted reading (audit, slower).

Hook for truth submission: closed per-epoch windows land in ``epoch_actuals`` (value, meter
count, coverage, quality flags, evidence JSON and hash) with ``submitted_at`` NULL; a truth
reporter polls ``pending_epoch_actuals()`` and marks rows with ``mark_submitted()``.
"""

from __future__ import annotations

import json
import logging
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
from streaming.staging import libpq_url, stage

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
    # Also keep every accepted reading in stream_readings (audit; costs a row per reading).
    store_readings: bool = False
    extra: dict[str, str] = field(default_factory=dict)


QUANTILES = [
    0.05,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.35,
    0.4,
    0.45,
    0.5,
    0.55,
    0.6,
    0.65,
    0.7,
    0.75,
    0.8,
    0.85,
    0.9,
    0.95,
    0.99,
]
PARTIAL_COLUMNS = (
    "job",
    "batch_id",
    "feed",
    "window_kind",
    "ws",
    "meter",
    "total",
    "n",
    "max_value",
    "max_ts",
)
READING_COLUMNS = ("job", "batch_id", "seq", "feed", "meter", "ts", "value", "sent_at")


@dataclass
class BatchResult:
    """What one micro-batch reduced to on the driver: all of it is small (per feed or meter)."""

    rows: int
    quantiles: list[float]
    watermarks: dict[str, list[float]]  # feed -> [before, after]
    meters: list[tuple[str, str, float, float]]  # feed, meter, first ts, last ts
    state: list[tuple[str, str, float | None, float | None, int, list[float]]]
    alerts: list[tuple[str, str, str, float, float, str]]  # feed, rule, meter, ts, value, detail


class BatchWriter:
    """The foreachBatch callback; holds only configuration so it is cheap to rebuild.

    Per-reading work (lateness, de-duplication, window partials, stuck runs, negative values)
    runs in Spark; Postgres gets per-(feed, window, meter) partials, per-meter state and alert
    rows, and recomputes only the windows the batch touched."""

    def __init__(self, cfg: JobConfig) -> None:
        self.cfg = cfg
        self.url = libpq_url(cfg.database_url)

    def _load_state(
        self, cur: psycopg.Cursor[Any], batch_id: int
    ) -> tuple[bool, dict[str, float], list[tuple[Any, ...]]]:
        """(already committed, per-feed watermarks in force, per-meter state rows)."""
        cur.execute(
            "SELECT 1 FROM stream_batches WHERE job = %s AND batch_id = %s",
            (self.cfg.job, batch_id),
        )
        if cur.fetchone() is not None:
            return True, {}, []
        cur.execute(
            "SELECT watermarks FROM stream_batches WHERE job = %s AND batch_id < %s"
            " ORDER BY batch_id DESC LIMIT 1",
            (self.cfg.job, batch_id),
        )
        prev = cur.fetchone()
        before = {f: float(w[1]) for f, w in prev[0].items()} if prev else {}
        cur.execute(
            "SELECT feed, meter, last_ts, last_value, run, recent_ts FROM stream_meter_state"
        )
        return False, before, cur.fetchall()

    def __call__(self, df: Any, batch_id: int) -> None:
        t0 = time.perf_counter()
        with psycopg.connect(self.url, autocommit=True) as conn, conn.cursor() as cur:
            done, before, state = self._load_state(cur, batch_id)
            if done:
                return  # replayed after a crash that followed the commit
            for table in ("stream_partial_staging", "stream_staging"):
                cur.execute(
                    f"DELETE FROM {table} WHERE job = %s AND batch_id = %s",
                    (self.cfg.job, batch_id),
                )
        df = df.persist()
        try:
            result = self.reduce(df, batch_id, before, state)
        finally:
            df.unpersist()
        if result is None:
            return
        t1 = time.perf_counter()
        out = self.commit(batch_id, result)
        log.debug(
            "batch %s reduced in %.3f s, committed in %.3f s",
            batch_id,
            t1 - t0,
            time.perf_counter() - t1,
        )
        if out is not None:
            self.publish(batch_id, out[0], out[1], result.quantiles, result.rows)

    def reduce(
        self, df: Any, batch_id: int, before: dict[str, float], state: list[tuple[Any, ...]]
    ) -> BatchResult | None:
        """Spark side: classify, de-duplicate and reduce the batch; stage its partials."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        cfg = self.cfg
        spark = df.sparkSession
        stats = (
            df.groupBy("feed")
            .agg(
                F.count(F.lit(1)).alias("n"),
                F.max("ts").alias("max_ts"),
                F.percentile_approx("sent_at", F.array(*[F.lit(q) for q in QUANTILES])).alias("q"),
            )
            .collect()
        )
        rows = sum(int(r["n"]) for r in stats)
        if not rows:
            return None
        watermarks: dict[str, list[float]] = {f: [w, w] for f, w in before.items()}
        for r in stats:
            b = before.get(r["feed"], -1e18)
            watermarks[r["feed"]] = [b, max(b, float(r["max_ts"]) - cfg.watermark_s)]
        quantiles = _merge_quantiles([(int(r["n"]), list(r["q"])) for r in stats])

        def per_feed(idx: int, default: float) -> Any:
            pairs = [x for f, w in watermarks.items() for x in (F.lit(f), F.lit(w[idx]))]
            mapped = F.create_map(*pairs)[F.col("feed")] if pairs else F.lit(None)
            return F.coalesce(mapped.cast("double"), F.lit(default))

        wm_before, wm_after = per_feed(0, -1e18), per_feed(1, -1e18)
        late = (
            df.where(F.col("ts") < wm_before)
            .dropDuplicates(["feed", "meter", "ts"])
            .select(
                "feed",
                F.lit("late").alias("rule"),
                "meter",
                "ts",
                "value",
                F.to_json(
                    F.struct(
                        wm_before.alias("watermark"), (wm_before - F.col("ts")).alias("behind_s")
                    )
                ).alias("detail"),
            )
        )
        accepted = df.where(F.col("ts") >= wm_before).dropDuplicates(["feed", "meter", "ts"])
        recent = [(f, m, float(t)) for f, m, _, _, _, ts in state for t in ts or []]
        if recent:
            seen = spark.createDataFrame(recent, "feed STRING, meter STRING, ts DOUBLE")
            accepted = accepted.join(F.broadcast(seen), ["feed", "meter", "ts"], "left_anti")
        accepted = accepted.select("feed", "meter", "ts", "value", "sent_at").persist()
        try:
            self._stage_partials(accepted, batch_id)
            if cfg.store_readings:
                stage(
                    accepted.select(
                        F.lit(cfg.job),
                        F.lit(batch_id),
                        F.monotonically_increasing_id(),
                        "feed",
                        "meter",
                        "ts",
                        "value",
                        "sent_at",
                    ),
                    cfg.database_url,
                    "stream_staging",
                    READING_COLUMNS,
                    cfg.staging_dir,
                )
            state_schema = "feed STRING, meter STRING, last_ts DOUBLE, last_value DOUBLE, run INT"
            prior = spark.createDataFrame(
                [(f, m, lt, lv, int(run)) for f, m, lt, lv, run, _ in state] or [], state_schema
            )
            # Stuck runs continue from each meter's state over readings newer than its last one;
            # an out-of-order reading cannot extend or break a run that already moved past it.
            w = Window.partitionBy("feed", "meter").orderBy("ts")
            fresh = (
                accepted.join(F.broadcast(prior), ["feed", "meter"], "left")
                .where(F.col("last_ts").isNull() | (F.col("ts") > F.col("last_ts")))
                .withColumn("prev", F.coalesce(F.lag("value").over(w), F.col("last_value")))
                .withColumn(
                    "brk",
                    F.when(F.col("prev").isNull() | (F.col("value") != F.col("prev")), 1).otherwise(
                        0
                    ),
                )
                .withColumn("grp", F.sum("brk").over(w.rowsBetween(Window.unboundedPreceding, 0)))
            )
            runs = fresh.withColumnRenamed("run", "run0").withColumn(
                "run",
                F.row_number().over(Window.partitionBy("feed", "meter", "grp").orderBy("ts"))
                + F.when(F.col("grp") == 0, F.coalesce(F.col("run0"), F.lit(0))).otherwise(0),
            )
            runs = runs.persist()
            stuck = runs.where((F.col("run") >= cfg.stuck_run) & (F.col("value") != 0)).select(
                "feed",
                F.lit("stuck").alias("rule"),
                "meter",
                "ts",
                "value",
                F.to_json(F.struct(F.col("run"))).alias("detail"),
            )
            negative = accepted.where((F.col("feed") == "solar") & (F.col("value") < 0)).select(
                "feed",
                F.lit("negative_generation").alias("rule"),
                "meter",
                "ts",
                "value",
                F.lit("{}").alias("detail"),
            )
            alerts = [tuple(r) for r in late.unionByName(stuck).unionByName(negative).collect()]
            last = {
                (r["feed"], r["meter"]): (
                    float(r["l"]["ts"]),
                    float(r["l"]["value"]),
                    int(r["l"]["run"]),
                )
                for r in runs.groupBy("feed", "meter")
                .agg(F.max_by(F.struct("ts", "value", "run"), "ts").alias("l"))
                .collect()
            }
            per_meter = (
                accepted.groupBy("feed", "meter")
                .agg(
                    F.min("ts").alias("lo"),
                    F.max("ts").alias("hi"),
                    F.collect_list(F.when(F.col("ts") >= wm_after, F.col("ts"))).alias("keep"),
                )
                .collect()
            )
            runs.unpersist()
        finally:
            accepted.unpersist()
        old = {(f, m): (lt, lv, run, ts) for f, m, lt, lv, run, ts in state}
        meters: list[tuple[str, str, float, float]] = []
        new_state: list[tuple[str, str, float | None, float | None, int, list[float]]] = []
        for r in per_meter:
            key = (r["feed"], r["meter"])
            meters.append((key[0], key[1], float(r["lo"]), float(r["hi"])))
            lt, lv, run, kept = old.get(key, (None, None, 0, []))
            after = watermarks[key[0]][1]
            recent_ts = sorted({t for t in kept or [] if t >= after} | set(r["keep"]))
            if key in last:
                lt, lv, run = last[key]
            new_state.append((key[0], key[1], lt, lv, int(run), recent_ts))
        return BatchResult(rows, quantiles, watermarks, meters, new_state, alerts)

    def _stage_partials(self, accepted: Any, batch_id: int) -> None:
        from pyspark.sql import functions as F

        cfg = self.cfg
        origin = ORIGIN.timestamp()
        frames = []
        for kind, width in (("5m", cfg.window_s), ("epoch", cfg.epoch_s)):
            ws = F.lit(origin) + F.floor((F.col("ts") - F.lit(origin)) / width) * width
            frames.append(
                accepted.withColumn("ws", ws.cast("double"))
                .groupBy("feed", "ws", "meter")
                .agg(
                    F.sum("value").alias("total"),
                    F.count(F.lit(1)).alias("n"),
                    F.max("value").alias("max_value"),
                    F.max_by("ts", "value").alias("max_ts"),
                )
                .select(
                    F.lit(cfg.job),
                    F.lit(batch_id),
                    "feed",
                    F.lit(kind),
                    "ws",
                    "meter",
                    "total",
                    "n",
                    "max_value",
                    "max_ts",
                )
            )
        stage(
            frames[0].unionAll(frames[1]),
            cfg.database_url,
            "stream_partial_staging",
            PARTIAL_COLUMNS,
            cfg.staging_dir,
        )

    def commit(self, batch_id: int, res: BatchResult) -> tuple[list[str], list[str]] | None:
        """Apply the reduced batch in one transaction; returns (touched feeds, feeds with new
        epoch actuals) for the after-commit sinks, or None when the batch was already applied."""
        cfg = self.cfg
        params: dict[str, Any] = {
            "job": cfg.job,
            "b": batch_id,
            "origin": ORIGIN,
            "spike_ratio": cfg.spike_ratio,
            "spike_floor": cfg.spike_floor,
        }
        with psycopg.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO stream_batches (job, batch_id, watermarks, rows, processed_at)"
                " VALUES (%s, %s, %s, %s, now()) ON CONFLICT DO NOTHING",
                (cfg.job, batch_id, Jsonb(res.watermarks), res.rows),
            )
            if cur.rowcount == 0:
                conn.rollback()
                return None
            cur.execute(sql.WATERMARKS)
            cur.executemany(sql.WATERMARK_ROW, [(f, w[0], w[1]) for f, w in res.watermarks.items()])
            cur.executemany(sql.METERS, res.meters)
            cur.executemany(sql.METER_STATE, res.state)
            cur.executemany(sql.ALERT, [(*a, batch_id) for a in res.alerts])
            cur.execute(sql.BATCH_PARTIALS, params)
            cur.execute("ANALYZE batch_partials")
            for name in ("UPSERT_PARTIALS", "SPIKES"):
                t = time.perf_counter()
                cur.execute(getattr(sql, name), params)
                log.debug("batch %s %s %.3f s", batch_id, name, time.perf_counter() - t)
            if cfg.store_readings:
                cur.execute(sql.AUDIT_READINGS, params)
            cur.execute(sql.TOUCHED_TABLE)
            for kind, width_s in (("5m", cfg.window_s), ("epoch", cfg.epoch_s)):
                p = {**params, "kind": kind, "width": timedelta(seconds=width_s)}
                for name in ("TOUCHED_WINDOWS", "AGGREGATE", "RAMP", "CLOSE"):
                    t = time.perf_counter()
                    cur.execute(getattr(sql, name), p)
                    if name == "TOUCHED_WINDOWS":
                        cur.execute("ANALYZE touched_windows")
                    log.debug(
                        "batch %s %s/%s %.3f s", batch_id, kind, name, time.perf_counter() - t
                    )
            cur.execute(sql.EPOCH_ACTUALS, params)
            new_epoch_feeds = sorted({r[0] for r in cur.fetchall()})
            for feed in new_epoch_feeds:
                self._nowcast(cur, feed)
            for table in ("stream_partial_staging", "stream_staging"):
                cur.execute(
                    f"DELETE FROM {table} WHERE job = %s AND batch_id = %s", (cfg.job, batch_id)
                )
        feeds = sorted({m[0] for m in res.meters} | set(new_epoch_feeds))
        return feeds, new_epoch_feeds

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


def _merge_quantiles(parts: list[tuple[int, list[float]]]) -> list[float]:
    """Per-feed sent_at quantiles -> batch quantiles, weighting each feed by its row count."""
    import numpy as np

    total = sum(n for n, _ in parts)
    if not total:
        return []
    points = np.concatenate(
        [np.repeat(np.asarray(q, dtype=float), max(1, round(40 * n / total))) for n, q in parts]
    )
    return [float(x) for x in np.quantile(points, QUANTILES)]


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
