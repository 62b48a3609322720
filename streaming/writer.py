"""The foreachBatch callback: one Spark job reduces the batch per meter (``streaming.reduction``,
on the driver or the executors), the driver merges the window partials (``streaming.windows``),
ONE Postgres transaction applies it all (``streaming.sql``), then the sinks get the touched
features (``streaming.sinks``).

The transaction also records the batch id (a batch already recorded is skipped, so a replay never
counts twice) and closes the windows the watermark passed. The window state lives in Postgres
rather than in Spark's state store because Spark's stateful operators drop rows behind the
watermark silently, while every late reading here must become an alert.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlparse

import psycopg
from psycopg.types.json import Jsonb

from gridcast.services import libpq_url
from streaming import sql
from streaming.config import JobConfig
from streaming.nowcast import holt_winters
from streaming.reduction import (
    ORIGIN,
    PACKED_SCHEMA,
    BatchResult,
    MeterState,
    meter_reducer,
    packed_output,
    reduce_batch,
    summarize,
    unpack_output,
)
from streaming.schema import UNIT_W
from streaming.sinks import publish_to_redis, write_alerts_to_mongo
from streaming.windows import KEYS as WINDOW_KEYS
from streaming.windows import WindowUpdate, merge_windows, stored_table

log = logging.getLogger(__name__)


class BatchWriter:
    """The foreachBatch callback: one Spark job reduces the batch per meter, the driver merges
    the window partials, one Postgres transaction applies it all, then Redis (and MongoDB) get
    the touched features. It keeps one Postgres connection across batches (reopened after a
    database error)."""

    def __init__(self, cfg: JobConfig) -> None:
        self.cfg = cfg
        self.url = libpq_url(cfg.database_url)
        self._conn: psycopg.Connection[Any] | None = None
        self._redis: Any = None
        self.reduced_on = ""  # where the last batch was reduced (logged)
        # Per-meter state as this writer's last commit left it, and that batch's id: the next
        # batch uses it instead of reading the whole table again (10,000 meters: 25-170 ms of
        # a fleet batch) when its previous batch is that one. The job is the table's only
        # writer; any failure, a skipped batch or another batch in between reloads it.
        self._state: dict[tuple[str, str], MeterState] | None = None
        self._state_batch = -1

    def connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
            # Room for a large batch's temp tables in memory (set before they are first used).
            self._conn.execute("SET temp_buffers = '256MB'")
        return self._conn

    def _load_state(
        self, cur: psycopg.Cursor[Any], batch_id: int
    ) -> tuple[bool, dict[str, float], dict[tuple[str, str], MeterState]]:
        """(already committed, per-feed watermarks in force, per-meter state)."""
        cur.execute(
            "SELECT 1 FROM stream_batches WHERE job = %s AND batch_id = %s",
            (self.cfg.job, batch_id),
        )
        if cur.fetchone() is not None:
            return True, {}, {}
        cur.execute(
            "SELECT batch_id, watermarks FROM stream_batches WHERE job = %s AND batch_id < %s"
            " ORDER BY batch_id DESC LIMIT 1",
            (self.cfg.job, batch_id),
        )
        prev = cur.fetchone()
        before = {f: float(w[1]) for f, w in prev[1].items()} if prev else {}
        if self._state is not None and prev is not None and prev[0] == self._state_batch:
            return False, before, self._state
        self._state = None
        cur.execute(
            "SELECT feed, meter, last_ts, last_value, run, recent_ts FROM stream_meter_state"
        )
        state = {(f, m): (lt, lv, int(run), list(ts or [])) for f, m, lt, lv, run, ts in cur}
        return False, before, state

    def __call__(self, df: Any, batch_id: int) -> None:
        try:
            self._run(df, batch_id)
        except psycopg.Error:
            self._state = None
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            raise
        except BaseException:
            self._state = None
            raise

    def _run(self, df: Any, batch_id: int) -> None:
        t0 = time.perf_counter()
        with self.connection().cursor() as cur:
            done, before, state = self._load_state(cur, batch_id)
        if done:
            return  # replayed after a crash that followed the commit
        t1 = time.perf_counter()
        result = self.reduce(df, before, state)
        if result is None:
            return
        t2 = time.perf_counter()
        out = self.commit(batch_id, result)
        t3 = time.perf_counter()
        if out is None:
            self._state = None
        else:
            # The state the commit wrote (an upsert of each touched meter's whole row).
            state.update({(f, m): (lt, lv, run, rec) for f, m, lt, lv, run, rec in result.state})
            self._state, self._state_batch = state, batch_id
        if out is not None:
            self.publish(batch_id, out[0], out[1], result.quantiles, result.rows)
        log.debug(
            "batch %s: %d rows, state %.3f s, spark %.3f s (%s), commit %.3f s, sinks %.3f s",
            batch_id,
            result.rows,
            t1 - t0,
            t2 - t1,
            self.reduced_on,
            t3 - t2,
            time.perf_counter() - t3,
        )

    def reduces_on_driver(self, df: Any) -> bool:
        """Where this batch is reduced: small batches on the driver (one Spark stage, no shuffle:
        a shuffle and a Python worker round trip cost more than the reduction itself), large
        ones, or input the driver cannot stat, on the executors."""
        cfg = self.cfg
        if cfg.reduce_on != "auto":
            return cfg.reduce_on == "driver"
        if cfg.source == "landed":
            # streaming.landed_source splits a batch into partitions of at most
            # driver_reduce_max_bytes of files: one partition is a batch the driver takes.
            return bool(df.rdd.getNumPartitions() <= 1)
        total = 0
        for uri in df.inputFiles():
            parsed = urlparse(uri)
            if parsed.scheme not in ("", "file"):
                return False
            try:
                total += os.path.getsize(unquote(parsed.path))
            except OSError:
                return False
            if total > cfg.driver_reduce_max_bytes:
                return False
        return True

    def reduce(
        self, df: Any, before: dict[str, float], state: dict[tuple[str, str], MeterState]
    ) -> BatchResult | None:
        """One Spark job: group the batch by (feed, meter), reduce each group in numpy, collect
        the small result (per window, meter and alert) to the driver as Arrow."""
        cfg = self.cfg
        reducer = meter_reducer(cfg, before, state)
        self.reduced_on = "driver" if self.reduces_on_driver(df) else "executors"
        if self.reduced_on == "driver":
            out = reduce_batch(df.toArrow(), cfg, before, state)  # = per-meter, all at once
        else:
            packed = df.groupBy("feed", "meter").applyInArrow(packed_output(reducer), PACKED_SCHEMA)
            out = unpack_output(packed.toArrow())
        return summarize(out, before, state, cfg)

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
            "epoch_width": timedelta(seconds=cfg.epoch_s),
        }
        conn = self.connection()
        timings: list[str] = []

        def timed(name: str, statement: str, p: Any = None) -> psycopg.Cursor[Any]:
            t = time.perf_counter()
            cur.execute(statement, p)
            timings.append(f"{name} {1000 * (time.perf_counter() - t):.0f}")
            return cur

        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "INSERT INTO stream_batches (job, batch_id, watermarks, rows, processed_at)"
                " VALUES (%s, %s, %s, %s, now()) ON CONFLICT DO NOTHING",
                (cfg.job, batch_id, Jsonb(res.watermarks), res.rows),
            )
            if cur.rowcount == 0:
                return None  # already applied: the (empty) transaction just ends
            cur.execute(sql.TEMP_TABLES)
            feeds = list(res.watermarks)
            cur.execute(
                sql.WATERMARKS,
                (
                    feeds,
                    [w[0] for w in res.watermarks.values()],
                    [w[1] for w in res.watermarks.values()],
                ),
            )
            timed("meters", sql.METERS, _columns(res.meters, 4))
            timed("state", sql.METER_STATE, _columns(res.state, 6, array_at=5))
            if res.alerts:
                timed("alerts", sql.ALERTS, (batch_id, *_columns(res.alerts, 6)))
            t = time.perf_counter()
            windows = self._merge(cur, res.partials)
            timings.append(f"merge {1000 * (time.perf_counter() - t):.0f}")
            t = time.perf_counter()
            _copy_arrow(cur, "batch_windows", windows.table)
            timings.append(f"copy {1000 * (time.perf_counter() - t):.0f}")
            timed("windows", sql.WINDOWS)
            timed("aggregates", sql.AGGREGATES)
            if windows.spikes:
                timed("spikes", sql.ALERTS, (batch_id, *_columns(windows.spikes, 6)))
            if res.readings is not None:
                _copy_arrow(cur, "batch_readings", res.readings)
                timed("audit", sql.AUDIT_READINGS, params)
            for kind, width_s in (("5m", cfg.window_s), ("epoch", cfg.epoch_s)):
                p = {**params, "kind": kind, "width": timedelta(seconds=width_s)}
                for name in ("RAMP", "CLOSE"):
                    timed(f"{kind}/{name.lower()}", getattr(sql, name), p)
            new_epochs = timed("actuals", sql.EPOCH_ACTUALS, params).fetchall()
            if new_epochs:
                feeds_of = [e[0] for e in new_epochs]
                energy = {
                    "feeds": feeds_of,
                    "starts": [e[1] for e in new_epochs],
                    "units": [UNIT_W.get(f, 1.0) for f in feeds_of],
                    "epoch_hours": cfg.epoch_s / 3600.0,
                }
                timed("energy", sql.METER_ENERGY, energy)
            new_epoch_feeds = sorted({e[0] for e in new_epochs})
            for feed in new_epoch_feeds:
                self._nowcast(cur, feed)
        log.debug("batch %s commit ms: %s", batch_id, ", ".join(timings))
        touched = sorted({m[0] for m in res.meters} | set(new_epoch_feeds))
        return touched, new_epoch_feeds

    def _merge(self, cur: psycopg.Cursor[Any], partials: Any) -> WindowUpdate:
        """The batch's partials added to the stored arrays of the windows they touch."""
        keys = partials.group_by(WINDOW_KEYS).aggregate([])
        cur.execute(
            "SELECT p.feed, p.window_kind, extract(epoch FROM p.window_start)::float8, p.meters,"
            " p.totals, p.counts FROM unnest(%s::text[], %s::text[], %s::float8[]) AS t(f, k, ws)"
            " JOIN stream_window_meters p ON p.feed = t.f AND p.window_kind = t.k"
            " AND p.window_start = to_timestamp(t.ws)",
            tuple(keys.column(c).to_pylist() for c in WINDOW_KEYS),
        )
        stored = stored_table(cur.fetchall())
        widths = {"5m": float(self.cfg.window_s), "epoch": float(self.cfg.epoch_s)}
        return merge_windows(partials, stored, widths, self.cfg.spike_ratio, self.cfg.spike_floor)

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
        if self.cfg.redis_url:
            import redis

            if self._redis is None:
                self._redis = redis.Redis.from_url(self.cfg.redis_url)
            publish_to_redis(
                self._redis, self.connection(), batch_id, feeds, epoch_feeds, quantiles, rows
            )
        if self.cfg.mongo_url:
            write_alerts_to_mongo(self.url, self.cfg.mongo_url, batch_id)


def _columns(rows: list[tuple[Any, ...]], width: int, array_at: int = -1) -> list[str]:
    """Rows -> one Postgres array literal per column (for `unnest(%s::type[])`); column
    `array_at` holds float lists, each an element written as an array literal itself. Built
    with str.join: psycopg adapts a Python list element by element in Python (~3 us each:
    10,000 meters x 10 columns was ~60 ms of a fleet batch's commit)."""
    cols: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] or [[] for _ in range(width)]
    if array_at >= 0:
        cols[array_at] = ["{" + ",".join([repr(float(x)) for x in v]) + "}" for v in cols[array_at]]
    return [_array_literal(c) for c in cols]


def _number(x: Any) -> str:
    """repr round-trips a float (PG reads nan and inf too); ints stay ints (int[] columns)."""
    if x is None:
        return "NULL"
    return str(x) if isinstance(x, int) else repr(float(x))


def _array_literal(values: list[Any]) -> str:
    """A one-dimensional array literal: strings double-quoted with backslash and quote escaped
    (any text round-trips), numbers as `_number`, None as NULL."""
    if any(isinstance(v, str) for v in values):
        return (
            "{"
            + ",".join(
                "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                for v in values
            )
            + "}"
        )
    return "{" + ",".join(map(_number, values)) + "}"


def _copy_arrow(cur: psycopg.Cursor[Any], table: str, data: Any) -> None:
    """COPY an Arrow table into `table` (same column order) as CSV written by Arrow's C++."""
    import io

    import pyarrow.csv as pacsv

    if data.num_rows == 0:
        return
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False))
    columns = ", ".join(data.column_names)
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buf.getbuffer())
