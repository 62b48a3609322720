"""Latency drift of the streaming job over a run that lands >= 100,000 files.

Files are written straight into the landing directory (no broker or gateway: the drift under test
is the job's source's, which may grow with the files it has seen), in the gateway's layout and
names: one Parquet file a message, one reading each, renamed into place (not fsync'd: the disk is
not what is measured). The real job reads them: its source (--source landed, the default, or
Spark's file source: --source files), archiving each batch's files -> foreachBatch -> Postgres ->
Redis.

Closed loop, one round at a time: land --files-per-batch files, wait for the Redis feature update
of the batch that read the last of them, repeat. A round's latency is that update's time minus the
moment its first file landed (so a round split over two batches counts in full). Reports the p50,
p95 and max over the first --early files (less --warmup-rounds) and over the --window files after
--files, each micro-batch's phases over the same two windows (Spark's durationMs and the writer's
own timings), and merges the drift_* keys into benchmarks/results/streaming.json (other keys
kept).

The job's Redis and Postgres come from the settings (GRIDCAST_REDIS_URL, GRIDCAST_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procs import family, rss_mb  # noqa: E402
from scratch import drop_database, scratch_database  # noqa: E402

from gridcast.services import database_url, libpq_url, redis_url  # noqa: E402
from gridcast.settings import get_settings  # noqa: E402
from indexer.db.engine import upgrade  # noqa: E402
from streaming.config import SOURCES, JobConfig  # noqa: E402
from streaming.job import start  # noqa: E402
from streaming.landing import next_sequence  # noqa: E402
from streaming.schema import SCHEMA_VERSION  # noqa: E402
from streaming.sinks import LATENCY_KEY  # noqa: E402
from streaming.spark import spark_session  # noqa: E402

T0 = 1_306_918_800.0  # 2011-06-01 09:00 UTC: data time of the first reading
READINGS = pa.list_(pa.struct([("ts", pa.float64()), ("value", pa.float64())]))


def land_round(landing: Path, first: int, count: int, meters: int) -> float:
    """Files first .. first+count-1, one message each (meter i % meters, data time T0 + i s);
    all written under hidden names, then renamed in, so one trigger sees the whole round.
    Returns the wall clock of the first rename."""
    staged: list[tuple[Path, Path]] = []
    for i in range(first, first + count):
        now = time.time()
        table = pa.table(
            {
                "received_at": pa.array([now], pa.float64()),
                "v": pa.array([SCHEMA_VERSION], pa.int64()),
                "feed": pa.array(["solar"]),
                "meter": pa.array([f"m{i % meters:05d}"]),
                "sent_at": pa.array([now], pa.float64()),
                "readings": pa.array([[{"ts": T0 + i, "value": 1.0 + (i % 97)}]], READINGS),
            }
        )
        name = f"part-bench-{next_sequence():020d}.parquet"  # streaming.landing's names
        tmp = landing / f".{name}.tmp"
        pq.write_table(table, tmp, compression="none")
        staged.append((tmp, landing / name))
    landed = time.time()
    for tmp, final in staged:
        os.replace(tmp, final)
    return landed


def committed_rows(conn: psycopg.Connection, job: str) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(rows), 0) FROM stream_batches WHERE job = %s", (job,)
    ).fetchone()
    return int(row[0]) if row else 0


def last_batch(conn: psycopg.Connection, job: str) -> int:
    row = conn.execute("SELECT max(batch_id) FROM stream_batches WHERE job = %s", (job,)).fetchone()
    return int(row[0]) if row and row[0] is not None else -1


def wait_round(
    conn: psycopg.Connection, r: redis.Redis, job: str, rows: int, query: object
) -> float:
    """Wall clock of the Redis update of the batch that committed the round's last row."""
    deadline = time.time() + 600
    while committed_rows(conn, job) < rows:
        if time.time() > deadline or not query.isActive:  # type: ignore[attr-defined]
            raise RuntimeError(f"job stalled at {committed_rows(conn, job)} of {rows} rows")
        time.sleep(0.005)
    batch = last_batch(conn, job)
    while True:
        tail = r.lrange(LATENCY_KEY, -1, -1)
        if tail and json.loads(tail[0])["batch_id"] >= batch:
            return float(json.loads(tail[0])["updated_at"])
        if time.time() > deadline:
            raise RuntimeError("Redis feature update never arrived")
        time.sleep(0.002)


PHASES = (
    "latestOffset",
    "getBatch",
    "queryPlanning",
    "addBatch",
    "walCommit",
    "commitOffsets",
    "triggerExecution",
)
WRITER_PHASES = ("state", "spark", "commit", "sinks")


def harvest(query: object, into: dict[int, tuple[dict[str, float], int]]) -> None:
    """Each batch's StreamingQueryProgress.durationMs (`latestOffset`: the source finds new input
    and logs it; `addBatch`: our foreachBatch writer; `walCommit`/`commitOffsets`: the offset and
    commit logs) and its input rows. Spark keeps the last 100 progress reports only, so this runs
    every 40 rounds."""
    for p in query.recentProgress:  # type: ignore[attr-defined]
        d = json.loads(p.json) if hasattr(p, "json") else p
        if d.get("numInputRows", 0) > 0:
            ms = {k: float(v) for k, v in d["durationMs"].items()}
            into[int(d["batchId"])] = (ms, d["numInputRows"])


class WriterTimings(logging.Handler):
    """The writer's own per-batch timings (its debug line: state, spark, commit, sinks)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_batch: dict[int, dict[str, float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("batch %s: %d rows"):
            args: tuple[Any, ...] = tuple(record.args or ())
            b, _rows, state, spark, _on, commit, sinks = args
            self.by_batch[int(b)] = {
                "state": float(state) * 1000,
                "spark": float(spark) * 1000,
                "commit": float(commit) * 1000,
                "sinks": float(sinks) * 1000,
            }


def summary(lat_s: np.ndarray) -> tuple[float, float, float]:
    ms = lat_s * 1000
    return (
        round(float(np.percentile(ms, 50)), 1),
        round(float(np.percentile(ms, 95)), 1),
        round(float(ms.max()), 1),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100_000, help="files landed before the window")
    ap.add_argument("--window", type=int, default=10_000, help="files measured after --files")
    ap.add_argument("--early", type=int, default=10_000, help="first files measured")
    ap.add_argument(
        "--warmup-rounds",
        type=int,
        default=5,
        help="first rounds left out of the early figures (JVM warm-up; their files still count)",
    )
    ap.add_argument("--files-per-batch", type=int, default=200)
    ap.add_argument("--meters", type=int, default=1000)
    ap.add_argument(
        "--compact-interval",
        type=int,
        default=JobConfig.source_log_compact_interval,
        help="batches between file-source log compactions (Spark's own default is 10)",
    )
    ap.add_argument("--trigger", type=float, default=0.1)
    ap.add_argument(
        "--source",
        choices=SOURCES,
        default=JobConfig.source,
        help="the job's source (see `gridcast stream run --help`)",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/streaming.json")
    ap.add_argument("--no-write", action="store_true", help="print only (a comparison run)")
    args = ap.parse_args()

    settings = get_settings()
    server = database_url(settings)
    name, db = scratch_database(server, "bench_drift")
    r = redis.Redis.from_url(redis_url(settings))
    r.delete(LATENCY_KEY)
    work = settings.state_dir / "bench-streaming-drift" / uuid.uuid4().hex[:8]
    landing = work / "landing"
    landing.mkdir(parents=True)
    job = "bench-streaming-drift"
    load_before = os.getloadavg()[0]
    query = None
    lat: list[float] = []
    spans: list[tuple[float, float, int]] = []  # per round: landed, feature written, files so far
    progress: dict[int, tuple[dict[str, float], int]] = {}  # batch id: durationMs, input rows
    rss: list[tuple[int, float]] = []  # (files landed, driver RSS MiB) every 10,000 files
    writer = WriterTimings()
    writer_log = logging.getLogger("streaming.writer")
    writer_log.addHandler(writer)
    writer_log.setLevel(logging.DEBUG)
    started = time.time()
    try:
        upgrade(db)
        spark = spark_session(settings.spark_master, app_name="bench-streaming-drift")
        spark.sparkContext.setLogLevel("ERROR")
        cfg = JobConfig(
            landing,
            work / "checkpoint",
            db,
            redis_url=redis_url(settings),
            job=job,
            trigger_s=args.trigger,
            max_files_per_trigger=args.files_per_batch,
            source=args.source,
            source_log_compact_interval=args.compact_interval,
            watermark_s=3600.0,
        )
        query = start(spark, cfg)
        total = args.files + args.window
        with psycopg.connect(libpq_url(db), autocommit=True) as conn:
            landed = 0
            while landed < total:
                n = min(args.files_per_batch, total - landed)
                t_land = land_round(landing, landed, n, args.meters)
                landed += n
                t_done = wait_round(conn, r, job, landed, query)
                lat.append(t_done - t_land)
                spans.append((t_land, t_done, landed))
                if len(spans) % 40 == 0 or landed >= total:
                    harvest(query, progress)
                if landed % 10_000 < args.files_per_batch:
                    recent = np.asarray(lat[-50:])
                    rss.append((landed, rss_mb(family(os.getpid()))))
                    print(
                        f"{landed:>7,} files {time.time() - started:7.0f} s  last 50 rounds p95 "
                        f"{np.percentile(recent, 95) * 1000:6.0f} ms  driver RSS "
                        f"{rss[-1][1]:,.0f} MiB  load {os.getloadavg()[0]:.2f}",
                        flush=True,
                    )
            batches = last_batch(conn, job) + 1
    finally:
        if query is not None:
            query.stop()
        seconds = time.time() - started
        drop_database(server, name)

    source_log = work / "checkpoint" / "sources" / "0"
    compactions = sorted(source_log.glob("*.compact"), key=lambda p: int(p.name.split(".")[0]))
    newest_mb = compactions[-1].stat().st_size / 1e6 if compactions else 0.0
    # The rounds a compaction fell in (its file's mtime inside the round): each rewrites every
    # file seen so far, so their latency grows with the run while the p95 stays flat.
    compaction_rounds: list[tuple[int, float]] = []
    for c in compactions:
        t = c.stat().st_mtime
        for t_land, t_done, files in spans:
            if t_land <= t <= t_done:
                compaction_rounds.append((files, (t_done - t_land) * 1000))
                break
    for files, ms in compaction_rounds:
        print(f"compaction in the round ending at {files:,} files: {ms:.0f} ms")
    shutil.rmtree(work, ignore_errors=True)
    # Each batch's phases, placed by the files the source had seen at its end (one row a file).
    ids = sorted(progress)
    seen = np.cumsum([progress[b][1] for b in ids])
    warm = args.warmup_rounds * args.files_per_batch
    early_mask = (seen > warm) & (seen <= args.early)
    after_mask = seen > args.files
    if not early_mask.any() or not after_mask.any():
        raise SystemExit("too few batches in a window: raise --early / --window")

    def phase(name: str) -> np.ndarray:
        if name in WRITER_PHASES:
            return np.asarray([writer.by_batch.get(b, {}).get(name, np.nan) for b in ids])
        return np.asarray([progress[b][0].get(name, 0.0) for b in ids])

    attribution: dict[str, tuple[float, float]] = {}
    heads = ("p50 early", "p95 early", "p50 after", "p95 after")
    print(f"{'phase (ms)':<18} " + " ".join(f"{h:>10}" for h in heads))
    for name in (*PHASES, *WRITER_PHASES):
        v = phase(name)
        e, a = v[early_mask], v[after_mask]
        e, a = e[~np.isnan(e)], a[~np.isnan(a)]
        if not len(e) or not len(a):
            continue
        row = [float(np.percentile(x, q)) for x in (e, a) for q in (50, 95)]
        attribution[name] = (round(row[1], 1), round(row[3], 1))
        print(f"{name:<18} {row[0]:>10.1f} {row[1]:>10.1f} {row[2]:>10.1f} {row[3]:>10.1f}")
    offset_ms = phase("latestOffset")
    early_b, after_b = offset_ms[early_mask], offset_ms[after_mask]
    for b, files, ms in zip(ids, seen, offset_ms, strict=True):
        if compactions and (b + 1) % args.compact_interval == 0:
            print(
                f"batch {b} compacted the source log at {files:,} files: latestOffset {ms:.0f} ms"
            )
    rounds = np.asarray(lat)
    early_rounds = -(-args.early // args.files_per_batch)
    after_rounds = -(-args.window // args.files_per_batch)
    e50, e95, emax = summary(rounds[args.warmup_rounds : early_rounds])
    a50, a95, amax = summary(rounds[-after_rounds:])
    early_k, after_k = f"first_{args.early // 1000}k", f"after_{args.files // 1000}k"
    result: dict[str, float] = {
        f"drift_p50_ms_{early_k}_files": e50,
        f"drift_p95_ms_{early_k}_files": e95,
        f"drift_max_ms_{early_k}_files": emax,
        f"drift_p50_ms_{after_k}_files": a50,
        f"drift_p95_ms_{after_k}_files": a95,
        f"drift_max_ms_{after_k}_files": amax,
        f"drift_latest_offset_p95_ms_{early_k}_files": summary(early_b / 1000)[1],
        f"drift_latest_offset_p95_ms_{after_k}_files": summary(after_b / 1000)[1],
        f"drift_latest_offset_max_ms_{after_k}_files": summary(after_b / 1000)[2],
        **{
            f"drift_phase_p95_ms_{name}_{window}": ms
            for name, pair in attribution.items()
            for window, ms in zip((early_k, after_k), pair, strict=True)
        },
        # Driver (Python + JVM + workers) RSS at the first sample, the end, and the largest.
        f"drift_rss_mb_driver_{early_k}_files": rss[0][1] if rss else 0.0,
        f"drift_rss_mb_driver_{after_k}_files": rss[-1][1] if rss else 0.0,
        "drift_rss_mb_driver_max": max((m for _, m in rss), default=0.0),
        "drift_source_landed": float(args.source == "landed"),
        "drift_files_total": float(args.files + args.window),
        "drift_files_per_batch": float(args.files_per_batch),
        "drift_batches": float(batches),
        "drift_compact_interval": float(args.compact_interval),
        "drift_compactions": float(len(compactions)),
        "drift_source_log_compact_mb": round(newest_mb, 2),
        "drift_last_compaction_round_ms": round(compaction_rounds[-1][1], 1)
        if compaction_rounds
        else 0.0,
        "drift_last_compaction_round_files": float(compaction_rounds[-1][0])
        if compaction_rounds
        else 0.0,
        "drift_seconds": round(seconds, 1),
        "drift_load_avg_1m_before": round(load_before, 2),
        "drift_load_avg_1m_after": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=2))
    if not args.no_write:
        # Merge: benchmarks/streaming.py writes the other keys of this file.
        merged = json.loads(args.out.read_text()) if args.out.exists() else {}
        merged.update(result)
        args.out.write_text(json.dumps(merged, indent=2) + "\n")
        print(f"merged into {args.out}")


if __name__ == "__main__":
    main()
