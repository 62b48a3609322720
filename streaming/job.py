"""The Spark Structured Streaming job: landed telemetry files -> windows -> quality -> sinks.

Spark's file source and checkpoint decide which files make up each micro-batch (and replay the
same files for the same batch id after a crash). Each micro-batch is ONE Spark job that reduces
every (feed, meter) group's readings in numpy with the same function, in one of two places: a
small batch (its landed Parquet files at most ``driver_reduce_max_bytes``) is collected as Arrow
and reduced on the driver, which saves the shuffle and the Python worker round trips that cost
more than the reduction itself; a larger one is grouped on the executors (``applyInArrow``, each
group's output packed as one Arrow blob). The reduction covers lateness against the per-feed
watermark in force, de-duplication (within the batch and against the meter's accepted timestamps
still inside the watermark), stuck runs continued from per-meter state, negative generation,
per-(window, meter) sums and counts for both window kinds, the meter's new rule state and a few
sent_at samples for latency. The watermarks
and per-meter state travel to the executors with the function (they are per feed and per meter,
never per reading); the reduced rows reach the driver as one Arrow table.

The driver adds the batch's partials to the stored per-window arrays of the windows it touched
(``stream_window_meters``: one row per window holding every meter's sum and count) and computes
those windows' aggregates and spike alerts in numpy (``streaming.windows``); Postgres then gets
one row per touched window (COPY), the per-meter state and the alert rows, in ONE transaction
that also records the batch id (a batch already recorded is skipped, so a replay never counts
twice) and closes the windows the watermark passed (``streaming.sql``). The window state lives
in Postgres rather than in Spark's state store because Spark's stateful operators drop rows
behind the watermark silently, while every late reading here must become an alert. Redis and
MongoDB get idempotent writes after the commit. ``JobConfig.store_readings`` also keeps every
accepted reading (audit, slower: every reading then travels through the driver).

Hook for truth submission: closed per-epoch windows land in ``epoch_actuals`` (value, meter
count, coverage, quality flags, evidence JSON and hash) with ``submitted_at`` NULL; a truth
reporter polls ``pending_epoch_actuals()`` and marks rows with ``mark_submitted()``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import psycopg
from psycopg.types.json import Jsonb

from gridcast.services import libpq_url
from streaming import sql
from streaming.errors import NonRetryableError
from streaming.nowcast import holt_winters
from streaming.windows import KEYS as WINDOW_KEYS
from streaming.windows import WindowUpdate, merge_windows, stored_table

log = logging.getLogger(__name__)

FEATURE_KEY = "gridcast:features:{feed}"
NOWCAST_KEY = "gridcast:nowcast:{feed}"
FEATURE_CHANNEL = "gridcast:features"
LATENCY_KEY = "gridcast:stream:latency"
RAW_SCHEMA = (
    "received_at DOUBLE, v LONG, feed STRING, meter STRING, sent_at DOUBLE, "
    "readings ARRAY<STRUCT<ts: DOUBLE, value: DOUBLE>>"
)
REDUCE_ON = ("auto", "driver", "executors")
CLEAN_SOURCE = ("archive", "delete", "off")
LANDED_FILES = "part-*.parquet"  # what the gateway lands (streaming.landing.land_table)
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
    # Also keep every accepted reading in stream_readings (audit; costs a row per reading).
    store_readings: bool = False
    # Where micro-batches are reduced per meter: "auto" = on the driver while the batch's files
    # total at most driver_reduce_max_bytes, else on the executors; or always "driver" /
    # always "executors".
    reduce_on: str = "auto"
    driver_reduce_max_bytes: int = 64 << 20
    # Landed files once their batch committed: "archive" moves them under archive_dir (default:
    # a sibling "<landing>-archive"), "delete" removes them, "off" leaves them. The file source
    # lists the landing directory at every trigger, so a directory that only grows makes every
    # micro-batch slower over the hours.
    clean_source: str = "archive"
    archive_dir: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A bad setting is refused when the config is built: before migrations or Spark start.
        if self.watermark_s < 0 or self.window_s <= 0 or self.epoch_s % self.window_s:
            raise NonRetryableError("epoch_s must be a positive multiple of window_s")
        if self.clean_source not in CLEAN_SOURCE:
            raise NonRetryableError(f"clean_source must be one of {', '.join(CLEAN_SOURCE)}")
        if self.reduce_on not in REDUCE_ON:
            raise NonRetryableError(f"reduce_on must be one of {', '.join(REDUCE_ON)}")

    def archive_path(self) -> Path:
        return self.archive_dir or self.landing_dir.with_name(self.landing_dir.name + "-archive")


QUANTILES = [q / 100 for q in (*range(5, 100, 5), 99)]
SENT_SAMPLES = 32  # sent_at points per meter and batch, at most (latency quantiles)
# One schema for everything the per-meter reduction emits; `kind` says what a row is:
#   partial  tag=window kind, t=window start, v=sum, x=max value, y=ts of max, n=count
#   alert    tag=rule, t=event ts, v=value, detail=JSON
#   meter    t=first / v=last accepted ts (NaN if none), x=newest ts seen, n=rows, m=accepted,
#            y/z/r = last ts / value / run of the meter's stuck state after the batch
#   keep     t=accepted ts that may still be inside the watermark (de-dup set)
#   sent     t=sent_at sample, x=weight (readings it stands for)
#   reading  t=ts, v=value (only with store_readings)
OUT_SCHEMA = (
    "kind STRING, feed STRING, meter STRING, tag STRING, t DOUBLE, v DOUBLE, x DOUBLE,"
    " y DOUBLE, z DOUBLE, n LONG, m LONG, r LONG, detail STRING"
)
PACKED_SCHEMA = "payload BINARY"  # one Arrow IPC stream (OUT_SCHEMA rows) per meter group
OUT_COLUMNS = ("kind", "feed", "meter", "tag", "t", "v", "x", "y", "z", "n", "m", "r", "detail")
MeterState = tuple[float | None, float | None, int, list[float]]  # last ts, value, run, recent


def meter_reducer(
    cfg: JobConfig, before: dict[str, float], state: dict[tuple[str, str], MeterState]
) -> Any:
    """The per-(feed, meter) function Spark runs on each group of the batch (Arrow in, Arrow
    out). `before` (watermarks in force) and `state` (per-meter rule state) travel in its
    closure: both are per feed or per meter, never per reading."""
    windows = (("5m", float(cfg.window_s)), ("epoch", float(cfg.epoch_s)))
    origin = ORIGIN.timestamp()
    stuck_run, watermark_s, keep_readings = cfg.stuck_run, cfg.watermark_s, cfg.store_readings

    def reduce_meter(key: tuple[Any, ...], table: Any) -> Any:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        schema = _out_arrow_schema()
        feed, meter = str(key[0].as_py()), str(key[1].as_py())
        # One row per message: flatten the readings in Arrow (no per-reading rows in the JVM).
        readings = table.column("readings")
        counts = pc.fill_null(pc.list_value_length(readings), 0).to_numpy()
        flat = pc.list_flatten(readings)
        ts = pc.struct_field(flat, "ts").to_numpy().astype(float)
        value = pc.struct_field(flat, "value").to_numpy().astype(float)
        sent = np.repeat(table.column("sent_at").to_numpy().astype(float), counts)
        ok = ~(np.isnan(ts) | np.isnan(value))
        ts, value, sent = ts[ok], value[ok], sent[ok]
        batches: list[Any] = []

        def add(kind: str, size: int, **cols: Any) -> None:
            consts = {"kind": kind, "feed": feed, "meter": meter}
            arrays = []
            for f in schema:
                col = consts.get(f.name, cols.get(f.name))
                if col is None:
                    arrays.append(pa.nulls(size, f.type))
                elif isinstance(col, str):
                    arrays.append(pa.repeat(pa.scalar(col, f.type), size))
                else:
                    arrays.append(pa.array(col, f.type))
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))

        if not len(ts):
            return schema.empty_table()
        wm = before.get(feed, -1e18)
        late = ts < wm
        if late.any():
            lt, first = np.unique(ts[late], return_index=True)
            details = [json.dumps({"watermark": wm, "behind_s": wm - t}) for t in lt.tolist()]
            add("alert", len(lt), tag="late", t=lt, v=value[late][first], detail=details)
        # Accepted: inside the watermark, once per timestamp, not one the meter already had.
        acc_ts, first = np.unique(ts[~late], return_index=True)
        acc_val = value[~late][first]
        last_ts, last_value, run0, recent = state.get((feed, meter), (None, None, 0, []))
        if recent and len(acc_ts):
            new = ~np.isin(acc_ts, np.asarray(recent, dtype=float))
            acc_ts, acc_val = acc_ts[new], acc_val[new]
        k = len(acc_ts)
        if k:
            # Stuck runs continue from the meter's state over readings newer than its last one;
            # an out-of-order reading cannot extend or break a run that already moved past it.
            fresh = acc_ts > last_ts if last_ts is not None else np.ones(k, dtype=bool)
            f_ts, f_val = acc_ts[fresh], acc_val[fresh]
            if len(f_ts):
                prev = np.empty(len(f_val))
                prev[0] = np.nan if last_value is None else last_value
                prev[1:] = f_val[:-1]
                brk = np.isnan(prev) | (f_val != prev)
                idx = np.arange(len(f_val))
                start = np.maximum.accumulate(np.where(brk, idx, 0))
                runs = idx - start + 1 + np.where(np.cumsum(brk) == 0, run0, 0)
                hit = (runs >= stuck_run) & (f_val != 0)
                if hit.any():
                    add(
                        "alert",
                        int(hit.sum()),
                        tag="stuck",
                        t=f_ts[hit],
                        v=f_val[hit],
                        detail=[json.dumps({"run": int(x)}) for x in runs[hit]],
                    )
                last_ts, last_value, run0 = float(f_ts[-1]), float(f_val[-1]), int(runs[-1])
            if feed == "solar":
                neg = acc_val < 0
                if neg.any():
                    c = int(neg.sum())
                    add(
                        "alert",
                        c,
                        tag="negative_generation",
                        t=acc_ts[neg],
                        v=acc_val[neg],
                        detail="{}",
                    )
            for kind, width in windows:
                ws = origin + np.floor((acc_ts - origin) / width) * width  # sorted with acc_ts
                order = np.lexsort((-acc_val, ws))  # per window: largest value first
                starts, counts = np.unique(ws, return_index=True, return_counts=True)[1:]
                top = order[starts]
                add(
                    "partial",
                    len(starts),
                    tag=kind,
                    t=ws[starts],
                    v=np.add.reduceat(acc_val, starts),
                    x=acc_val[top],
                    y=acc_ts[top],
                    n=counts,
                )
            keep = acc_ts >= ts.max() - watermark_s  # the driver cuts at the feed's watermark
            add("keep", int(keep.sum()), t=acc_ts[keep])
            if keep_readings:
                add("reading", k, t=acc_ts, v=acc_val)
        add(
            "meter",
            1,
            t=[acc_ts[0] if k else np.nan],
            v=[acc_ts[-1] if k else np.nan],
            x=[ts.max()],
            n=[len(ts)],
            m=[k],
            y=[last_ts],
            z=[last_value],
            r=[run0],
        )
        points, weights = np.unique(sent, return_counts=True)
        if len(points) > SENT_SAMPLES:
            points = np.quantile(sent, np.linspace(0, 1, SENT_SAMPLES))
            weights = np.full(SENT_SAMPLES, len(sent) / SENT_SAMPLES)
        add("sent", len(points), t=points, x=weights.astype(float))
        return pa.Table.from_batches(batches, schema=schema)

    return reduce_meter


def reduce_on_driver(table: Any, reducer: Any) -> Any:
    """Run `reducer` over each (feed, meter) group of a collected batch, as applyInArrow would
    on the executors (a stable sort keeps each group's messages in file order)."""
    import pyarrow as pa

    if table.num_rows == 0:
        return _out_arrow_schema().empty_table()
    table = table.sort_by([("feed", "ascending"), ("meter", "ascending")])
    feeds, meters = table.column("feed").to_pylist(), table.column("meter").to_pylist()
    keys = list(zip(feeds, meters, strict=True))
    outs = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            feed, meter = keys[start]
            outs.append(reducer((pa.scalar(feed), pa.scalar(meter)), table.slice(start, i - start)))
            start = i
    return pa.concat_tables(outs)


def packed_output(reducer: Any) -> Any:
    """`reducer` with its output packed into one Arrow IPC blob per group: the JVM then moves a
    row per meter instead of a row per window partial (it never reads them)."""

    def run(key: tuple[Any, ...], table: Any) -> Any:
        import pyarrow as pa

        out = reducer(key, table)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, out.schema) as writer:
            writer.write_table(out)
        return pa.table({"payload": pa.array([sink.getvalue().to_pybytes()], pa.binary())})

    return run


def unpack_output(packed: Any) -> Any:
    import pyarrow as pa

    tables = [pa.ipc.open_stream(blob).read_all() for blob in packed.column("payload").to_pylist()]
    return pa.concat_tables(tables) if tables else _out_arrow_schema().empty_table()


def _out_arrow_schema() -> Any:
    import pyarrow as pa

    types = {"n": pa.int64(), "m": pa.int64(), "r": pa.int64()}
    strings = ("kind", "feed", "meter", "tag", "detail")
    return pa.schema(
        [(c, pa.string() if c in strings else types.get(c, pa.float64())) for c in OUT_COLUMNS]
    )


@dataclass
class BatchResult:
    """What one micro-batch reduced to on the driver: per feed, per meter and per window."""

    rows: int
    quantiles: list[float]
    watermarks: dict[str, list[float]]  # feed -> [before, after]
    meters: list[tuple[str, str, float, float]]  # feed, meter, first ts, last ts
    state: list[tuple[str, str, float | None, float | None, int, list[float]]]
    alerts: list[tuple[str, str, str, float, float, str]]  # feed, rule, meter, ts, value, detail
    partials: Any  # pyarrow.Table: feed, window_kind, ws, meter, total, n, max_value, max_ts
    readings: Any = None  # pyarrow.Table of accepted readings (store_readings only)


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
            "SELECT watermarks FROM stream_batches WHERE job = %s AND batch_id < %s"
            " ORDER BY batch_id DESC LIMIT 1",
            (self.cfg.job, batch_id),
        )
        prev = cur.fetchone()
        before = {f: float(w[1]) for f, w in prev[0].items()} if prev else {}
        cur.execute(
            "SELECT feed, meter, last_ts, last_value, run, recent_ts FROM stream_meter_state"
        )
        state = {(f, m): (lt, lv, int(run), list(ts or [])) for f, m, lt, lv, run, ts in cur}
        return False, before, state

    def __call__(self, df: Any, batch_id: int) -> None:
        try:
            self._run(df, batch_id)
        except psycopg.Error:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
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
        import pyarrow as pa
        import pyarrow.compute as pc

        cfg = self.cfg
        reducer = meter_reducer(cfg, before, state)
        self.reduced_on = "driver" if self.reduces_on_driver(df) else "executors"
        if self.reduced_on == "driver":
            out = reduce_on_driver(df.toArrow(), reducer)
        else:
            packed = df.groupBy("feed", "meter").applyInArrow(packed_output(reducer), PACKED_SCHEMA)
            out = unpack_output(packed.toArrow())
        if out.num_rows == 0:
            return None
        kind = out.column("kind")

        def rows_of(name: str) -> Any:
            return out.filter(pc.equal(kind, name))

        meters_t = rows_of("meter")
        rows = int(pc.sum(meters_t.column("n")).as_py() or 0)
        if not rows:
            return None
        newest: dict[str, float] = {}
        for f, x in zip(
            meters_t.column("feed").to_pylist(), meters_t.column("x").to_pylist(), strict=True
        ):
            newest[f] = max(newest.get(f, -1e18), x)
        watermarks: dict[str, list[float]] = {f: [w, w] for f, w in before.items()}
        for f, x in newest.items():
            b = before.get(f, -1e18)
            watermarks[f] = [b, max(b, x - cfg.watermark_s)]
        keep: dict[tuple[str, str], list[float]] = {}
        keep_t = rows_of("keep")
        for f, m, t in zip(
            *(keep_t.column(c).to_pylist() for c in ("feed", "meter", "t")), strict=True
        ):
            if t >= watermarks[f][1]:
                keep.setdefault((f, m), []).append(t)
        meters: list[tuple[str, str, float, float]] = []
        new_state: list[tuple[str, str, float | None, float | None, int, list[float]]] = []
        cols = ("feed", "meter", "t", "v", "m", "y", "z", "r")
        for f, m, lo, hi, k, lt, lv, run in zip(
            *(meters_t.column(c).to_pylist() for c in cols), strict=True
        ):
            if not k:
                continue  # only late or repeated readings: nothing about the meter changed
            meters.append((f, m, lo, hi))
            after = watermarks[f][1]
            old = [t for t in state.get((f, m), (None, None, 0, []))[3] if t >= after]
            new_state.append((f, m, lt, lv, int(run), sorted(set(old) | set(keep.get((f, m), [])))))
        alerts_t = rows_of("alert")
        alerts = list(
            zip(
                *(
                    alerts_t.column(c).to_pylist()
                    for c in ("feed", "tag", "meter", "t", "v", "detail")
                ),
                strict=True,
            )
        )
        sent_t = rows_of("sent")
        quantiles = _weighted_quantiles(
            sent_t.column("t").to_numpy(), sent_t.column("x").to_numpy(), QUANTILES
        )
        part = rows_of("partial")
        partials = pa.table(
            {
                "feed": part.column("feed"),
                "window_kind": part.column("tag"),
                "ws": part.column("t"),
                "meter": part.column("meter"),
                "total": part.column("v"),
                "n": part.column("n"),
                "max_value": part.column("x"),
                "max_ts": part.column("y"),
            }
        )
        readings = None
        if cfg.store_readings:
            rd = rows_of("reading")
            readings = pa.table(
                {
                    "feed": rd.column("feed"),
                    "meter": rd.column("meter"),
                    "ts": _timestamps(rd.column("t")),
                    "value": rd.column("v"),
                }
            )
        return BatchResult(
            rows, quantiles, watermarks, meters, new_state, alerts, partials, readings
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
            new_epoch_feeds = sorted({r[0] for r in timed("actuals", sql.EPOCH_ACTUALS, params)})
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
        conn = self.connection()
        features = latest_features(conn, feeds)
        nowcasts = latest_nowcasts(conn, epoch_feeds)
        now = time.time()
        if self.cfg.redis_url:
            import redis

            if self._redis is None:
                self._redis = redis.Redis.from_url(self.cfg.redis_url)
            pipe = self._redis.pipeline(transaction=False)
            for feed, feat in features.items():
                mapping: dict[str, str | float] = {k: json.dumps(v) for k, v in feat.items()}
                mapping["updated_at"] = now
                pipe.hset(FEATURE_KEY.format(feed=feed), mapping=mapping)  # type: ignore[arg-type]
                pipe.publish(FEATURE_CHANNEL, json.dumps({"feed": feed, **feat}))
            for feed, nc in nowcasts.items():
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
        if self.cfg.mongo_url:
            write_alerts_to_mongo(self.url, self.cfg.mongo_url, batch_id)


def _weighted_quantiles(points: Any, weights: Any, qs: list[float]) -> list[float]:
    """Quantiles of `points` where each stands for `weights` readings (the batch's sent_at)."""
    import numpy as np

    if not len(points):
        return []
    order = np.argsort(points)
    cum = np.cumsum(np.asarray(weights, dtype=float)[order])
    at = np.searchsorted(cum, np.asarray(qs) * cum[-1], side="left")
    return [float(x) for x in np.asarray(points, dtype=float)[order][np.minimum(at, len(cum) - 1)]]


def _timestamps(seconds: Any) -> Any:
    """Unix seconds (double) -> Arrow timestamps in microseconds, as Postgres rounds them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    micros = pc.round(pc.multiply(seconds, 1_000_000.0))
    return pc.cast(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _columns(rows: list[tuple[Any, ...]], width: int, array_at: int = -1) -> list[list[Any]]:
    """Rows -> one list per column (for `unnest`); column `array_at` as array literals."""
    cols: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] or [[] for _ in range(width)]
    if array_at >= 0:
        cols[array_at] = ["{" + ",".join(repr(float(x)) for x in v) + "}" for v in cols[array_at]]
    return cols


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
    """Landed Parquet -> one row per message (feed, meter, sent_at, readings); the per-meter
    reduction flattens the readings itself, so the JVM never handles a row per reading."""
    reader = spark.readStream.schema(RAW_SCHEMA).option("pathGlobFilter", LANDED_FILES)
    if cfg.clean_source != "off":
        reader = reader.option("cleanSource", cfg.clean_source)
    if cfg.clean_source == "archive":
        archive = cfg.archive_path()
        archive.mkdir(parents=True, exist_ok=True)
        reader = reader.option("sourceArchiveDir", str(archive))
    if cfg.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", cfg.max_files_per_trigger)
    return reader.parquet(str(cfg.landing_dir)).select("feed", "meter", "sent_at", "readings")


def start(spark: Any, cfg: JobConfig) -> Any:
    """Start the streaming query (returns the StreamingQuery)."""
    if not cfg.landing_dir.exists():
        cfg.landing_dir.mkdir(parents=True, exist_ok=True)
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
