"""Streaming benchmark: sustained readings/s through MQTT -> gateway -> Spark -> Postgres/Redis,
and latency from MQTT publish to the Redis feature update (p50/p95).

Publisher and gateway run as `gridcast telemetry` subprocesses (as in production) against a
private mosquitto with the project's broker settings (streaming/mosquitto.conf: a per-client
queue that holds a whole burst); the Spark job runs in this process.
Phase 1 publishes as fast as possible (throughput = readings committed / seconds from the first
publish to the commit of the last one); phase 2 publishes at a paced rate (latency without a
backlog: MQTT publish -> Redis feature update, as recorded by the job). Each phase replays data
hours after the previous one, so nothing is behind the watermark. Writes
benchmarks/results/streaming.json.

    .venv/bin/python benchmarks/streaming.py --hours 6000 --meters 40

`--shape fleet` runs the fleet instead (or `both`, the default): 10,000 meters of the same PV
series, one reading per QoS 1 message from a raw-socket load generator in its own process; it
reports messages/s, the paced publish -> feature latency and the peak RSS of the gateway and the
driver (Python + JVM).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procs import cpu_s, family, named, peak_rss_mb  # noqa: E402
from scratch import drop_database, scratch_database  # noqa: E402

from gridcast.demo.broker import start_mosquitto  # noqa: E402
from gridcast.services import database_url, libpq_url, redis_url  # noqa: E402
from gridcast.settings import get_settings  # noqa: E402
from indexer.db.engine import upgrade  # noqa: E402
from streaming.config import REDUCE_ON, SOURCES, JobConfig  # noqa: E402
from streaming.job import start  # noqa: E402
from streaming.mqtt import varint  # noqa: E402
from streaming.sinks import LATENCY_KEY  # noqa: E402
from streaming.spark import spark_session  # noqa: E402

DATA_START = datetime(2011, 6, 1, 9, tzinfo=UTC)  # solar replay start (streaming.replay)


def committed_rows(db: str, job: str) -> int:
    with psycopg.connect(libpq_url(db)) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(rows), 0) FROM stream_batches WHERE job = %s", (job,)
        ).fetchone()
    return int(row[0]) if row else 0


def replay(
    hours: float,
    meters: int,
    batch: int,
    speedup: float,
    seed: int,
    start: datetime,
    env: dict[str, str],
) -> tuple[int, float, float]:
    """Publish over MQTT: (readings sent, wall clock of the first publish, publishing seconds)."""
    cmd = [
        sys.executable,
        "-m",
        "gridcast.cli",
        "telemetry",
        "replay",
        "--feeds",
        "solar",
        "--hours",
        str(hours),
        "--meters",
        str(meters),
        "--batch",
        str(batch),
        "--speedup",
        str(speedup),
        "--seed",
        str(seed),
        "--start",
        start.isoformat(),
    ]
    out = subprocess.run(
        cmd, cwd=ROOT, env={**env, "COLUMNS": "300"}, capture_output=True, text=True, check=True
    )
    found = re.search(r"carrying\s+(\d+)\s+readings", out.stdout)
    started = re.search(r"publishing started at\s+([0-9.]+).*took\s+([0-9.]+)\s+s", out.stdout)
    if found is None or started is None:
        raise RuntimeError(f"unexpected replay output: {out.stdout[-500:]}")
    # Time from the first publish (the replay's start-up and plan building are not the pipeline).
    return int(found.group(1)), float(started.group(1)), float(started.group(2))


def alert_counts(db: str) -> dict[str, int]:
    with psycopg.connect(libpq_url(db)) as conn:
        rows = conn.execute("SELECT rule, count(*) FROM stream_alerts GROUP BY rule").fetchall()
    return {rule: int(n) for rule, n in rows}


def late_alerts(db: str) -> int:
    """Readings the job alerted as late (should be 0: every phase is ahead of the watermark)."""
    with psycopg.connect(libpq_url(db)) as conn:
        row = conn.execute("SELECT count(*) FROM stream_alerts WHERE rule = 'late'").fetchone()
    return int(row[0]) if row else 0


def latencies(r: redis.Redis, since: float) -> np.ndarray:
    """Per-batch sent_at quantiles -> latency samples (update time - publish time)."""
    samples: list[float] = []
    for raw in r.lrange(LATENCY_KEY, 0, -1):
        entry = json.loads(raw)
        if entry["updated_at"] < since or not entry["sent_at_q"]:
            continue
        weight = max(1, int(entry["rows"]) // len(entry["sent_at_q"]))
        samples.extend([entry["updated_at"] - q for q in entry["sent_at_q"]] * weight)
    return np.asarray(samples)


def wait_for(db: str, job: str, target: int, timeout: float) -> float:
    deadline = time.time() + timeout
    while committed_rows(db, job) < target:
        if time.time() > deadline:
            raise TimeoutError(
                f"job committed {committed_rows(db, job)} of {target} readings (a broker drops "
                "QoS 1 messages beyond its per-client queue when the gateway falls behind a "
                "burst: see max_queued_* in streaming/mosquitto.conf)"
            )
        time.sleep(0.05)
    return time.time()


def wait_for_redis(db: str, job: str, r: redis.Redis) -> None:
    """Redis is written just after the Postgres commit; wait for the last batch's entry."""
    with psycopg.connect(libpq_url(db)) as conn:
        row = conn.execute(
            "SELECT max(batch_id) FROM stream_batches WHERE job = %s", (job,)
        ).fetchone()
    last = int(row[0]) if row and row[0] is not None else -1
    deadline = time.time() + 60
    while time.time() < deadline:
        tail = r.lrange(LATENCY_KEY, -1, -1)
        if tail and json.loads(tail[0])["batch_id"] >= last:
            return
        time.sleep(0.02)
    raise TimeoutError("Redis feature update never arrived")


def _iso(t: float) -> str:
    """Wall clock as the ISO stamp StreamingQueryProgress.timestamp uses (they sort as text)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=6000.0, help="data hours (phase 1)")
    ap.add_argument("--meters", type=int, default=40)
    ap.add_argument(
        "--warm-hours", type=float, default=500.0, help="data hours replayed before timing"
    )
    ap.add_argument("--batch", type=int, default=500, help="readings per MQTT message")
    ap.add_argument("--paced-rate", type=float, default=5000.0, help="readings/s in phase 2")
    ap.add_argument("--paced-hours", type=float, default=1000.0)
    ap.add_argument(
        "--paced-batch",
        type=int,
        default=50,
        help="readings per message in phase 2 (a steady stream rather than a few large waves)",
    )
    ap.add_argument("--trigger", type=float, default=0.2, help="the job's trigger, seconds")
    ap.add_argument(
        "--max-delay",
        type=float,
        default=0.1,
        help="the gateway lands its buffer once the oldest message is this old, seconds",
    )
    ap.add_argument(
        "--reduce-on",
        choices=REDUCE_ON,
        default="auto",
        help="where the job reduces each micro-batch (see `gridcast stream run --help`)",
    )
    ap.add_argument(
        "--watermark",
        type=float,
        default=None,
        help="watermark delay in data seconds (default: the data span of one message, so that "
        "the replay's message order never makes a reading late)",
    )
    ap.add_argument(
        "--shape",
        choices=("batch", "fleet", "both"),
        default="both",
        help="batch: 40 meters, 500 readings a message; fleet: 10,000 meters, one reading a "
        "message (results of a shape not run are kept from the previous file)",
    )
    ap.add_argument("--fleet-meters", type=int, default=10_000)
    ap.add_argument("--fleet-steps", type=int, default=20, help="15-min steps in the burst")
    ap.add_argument("--fleet-paced-rate", type=float, default=5000.0, help="messages/s")
    ap.add_argument("--fleet-paced-s", type=float, default=20.0, help="seconds of paced load")
    ap.add_argument(
        "--source",
        choices=SOURCES,
        default=JobConfig.source,
        help="the job's source (see `gridcast stream run --help`)",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/streaming.json")
    ap.add_argument("--no-write", action="store_true", help="print only (a comparison run)")
    ap.add_argument("--verbose", action="store_true", help="log the job's per-batch timings")
    args = ap.parse_args()
    if args.verbose:
        logging.basicConfig(format="%(asctime)s %(message)s")
        logging.getLogger("streaming.writer").setLevel(logging.DEBUG)

    results: dict[str, object] = {}
    if args.shape in ("fleet", "both"):
        results.update(run_fleet(args))
    if args.shape in ("batch", "both"):
        results.update(run_batch(args))
    print(json.dumps(results, indent=2))
    if args.no_write:
        return
    # Read-modify-write at the end: the file also holds the figures of the shape not run this
    # time and other benchmarks' keys (benchmarks/streaming_drift.py's drift_*), some of them
    # written while this one ran.
    merged: dict[str, object] = json.loads(args.out.read_text()) if args.out.exists() else {}
    merged.update(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(merged, indent=2) + "\n")


def run_batch(args: argparse.Namespace) -> dict[str, object]:
    """Today's shape: 40 meters, 500 readings per message (burst), 50 (paced)."""
    settings = get_settings()
    server = database_url(settings)
    name, db = scratch_database(server, "bench_streaming")
    rurl = redis_url(settings)
    r = redis.Redis.from_url(rurl)
    r.delete(LATENCY_KEY)
    work = settings.state_dir / "bench-streaming" / uuid.uuid4().hex[:8]
    job = "bench-streaming"
    gateway = None
    query = None
    work.mkdir(parents=True, exist_ok=True)
    broker, port = start_mosquitto(work)
    try:
        upgrade(db)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GRIDCAST_MQTT_HOST": "127.0.0.1",
            "GRIDCAST_MQTT_PORT": str(port),
        }
        gateway = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gridcast.cli",
                "telemetry",
                "gateway",
                "--landing-dir",
                str(work / "landing"),
                "--dead-letter-dir",
                str(work / "dead"),
                "--max-delay",
                str(args.max_delay),
                "--client-id",
                f"bench-gw-{uuid.uuid4().hex[:6]}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert gateway.stdout is not None
        for line in gateway.stdout:  # wait until it subscribed
            if "gateway landing" in line:
                break
        spark = spark_session(settings.spark_master, app_name="bench-streaming")
        spark.sparkContext.setLogLevel("ERROR")
        cfg = JobConfig(
            work / "landing",
            work / "checkpoint",
            db,
            redis_url=rurl,
            job=job,
            trigger_s=args.trigger,
            reduce_on=args.reduce_on,
            source=args.source,
            # One message carries `batch` consecutive 15-minute readings of one meter, so meters
            # are up to that much data time apart within a feed; a tighter watermark would turn
            # the replay's message order into late readings.
            watermark_s=args.watermark if args.watermark is not None else args.batch * 900.0,
        )
        query = start(spark, cfg)

        # Each phase replays the data hours after the previous one, so its readings are ahead of
        # the watermark (the same hours again would all be late: alerts, no feature updates).
        warm_hours = args.warm_hours
        start1 = DATA_START + timedelta(hours=warm_hours)
        start2 = start1 + timedelta(hours=args.hours)
        load_before = os.getloadavg()[0]

        # Warm-up: a replay of the same shape, so the JVM has compiled the scan and the Python
        # workers are up before timing (a sustained rate, not the first seconds of a JVM).
        warm, _, _ = replay(
            warm_hours, args.meters, args.batch, 0.0, seed=1, start=DATA_START, env=env
        )
        wait_for(db, job, warm, 600)

        sent, t0, publish_s = replay(
            args.hours, args.meters, args.batch, 0.0, seed=2, start=start1, env=env
        )
        t1 = wait_for(db, job, warm + sent, 600)
        wait_for_redis(db, job, r)
        throughput = sent / (t1 - t0)
        if args.verbose:
            landed = sorted(
                (int(f.name.split("-")[1]) / 1e9 - t0, f.stat().st_size)
                for f in work.rglob("part-*.parquet")  # landed or already archived
            )
            phase = [(at, size) for at, size in landed if at >= 0]
            print(
                f"phase 1: published in {publish_s:.2f} s; {len(phase)} files landed from "
                f"+{phase[0][0]:.2f} s to +{phase[-1][0]:.2f} s after the first publish, "
                f"{sum(x for _, x in phase) / 1e6:.1f} MB; last commit at +{t1 - t0:.2f} s"
            )
        burst_lat = latencies(r, t0) * 1000
        print(f"phase 1: {sent} readings in {t1 - t0:.1f} s -> {throughput:,.0f} readings/s")
        if args.verbose:
            print(f"alerts after phase 1: {alert_counts(db)}")

        speedup = args.paced_rate * 900.0 / args.meters  # solar data step is 15 minutes
        t2 = time.time()
        paced, _, _ = replay(
            args.paced_hours, args.meters, args.paced_batch, speedup, seed=3, start=start2, env=env
        )
        wait_for(db, job, warm + sent + paced, 300)
        wait_for_redis(db, job, r)
        lat = latencies(r, t2) * 1000
        if args.verbose:
            spans: dict[str, list[float]] = {}
            for progress in query.recentProgress:
                if progress.numInputRows and progress.timestamp >= _iso(t2):
                    for name, ms in progress.durationMs.items():
                        spans.setdefault(name, []).append(ms)
            print(
                "phase 2 Spark trigger ms (mean): "
                + ", ".join(f"{k} {np.mean(v):.0f}" for k, v in sorted(spans.items()))
            )
        result = {
            "readings_per_s": round(throughput, 1),
            "readings_total": sent,
            "publish_s": round(publish_s, 2),
            "wall_s": round(t1 - t0, 2),
            "latency_p50_ms": round(float(np.percentile(lat, 50)), 1),
            "latency_p95_ms": round(float(np.percentile(lat, 95)), 1),
            "paced_rate_readings_per_s": args.paced_rate,
            "burst_latency_p50_ms": round(float(np.percentile(burst_lat, 50)), 1),
            "burst_latency_p95_ms": round(float(np.percentile(burst_lat, 95)), 1),
            "readings_per_message": args.batch,
            "paced_readings_per_message": args.paced_batch,
            "paced_readings_total": paced,
            "meters": args.meters,
            "watermark_s": cfg.watermark_s,
            "late_alerts": late_alerts(db),
            "cpu_cores": os.cpu_count() or 0,
            "load_avg_1m_before": round(load_before, 2),
            "load_avg_1m_after": round(os.getloadavg()[0], 2),
        }
        print(f"micro-batches reduced on: {args.reduce_on}")
        print(
            f"phase 2 at {args.paced_rate:,.0f} readings/s: latency p50 "
            f"{result['latency_p50_ms']} ms, p95 {result['latency_p95_ms']} ms"
        )
        return result
    finally:
        if query is not None:
            query.stop()
        if gateway is not None:
            gateway.terminate()
            gateway.wait(30)
        broker.terminate()
        broker.wait(30)
        drop_database(server, name)
        shutil.rmtree(work, ignore_errors=True)  # landed files, checkpoint, broker config


def fleet_publish(
    port: int,
    meters: int,
    start: float,
    steps: int,
    rate: float,
    seed: int,
    done: Any,
) -> None:
    """The fleet as a load generator (its own process): every 15-minute step, one single-reading
    QoS 1 message from each meter of the real PV series spread across `meters` (shares as in
    streaming.replay.meter_frame), `sent_at` stamped when its chunk is written. MQTT 3.1.1 over a
    raw socket, PUBACKs counted by a reader thread: paho's Python publisher tops out at a few
    thousand messages/s here, below what the gateway is measured at. `rate` > 0 paces the
    messages; 0 = as fast as the broker acks. Puts (messages, first publish, last publish, CPU
    seconds the process spent from the first publish to the last ack)."""
    import socket
    import threading

    from streaming.replay import meter_frame
    from streaming.schema import encode, topic_for
    from streaming.sources import load_series

    series = load_series("solar", start=datetime.fromtimestamp(start, UTC), rows=steps)
    frame = meter_frame(series, "solar", meters, seed)  # ordered by meter, then time
    names = frame["meter"].to_numpy().reshape(meters, -1)[:, 0].tolist()
    ts = frame["ts"].to_numpy().reshape(meters, -1)
    values = frame["value"].to_numpy().reshape(meters, -1)
    topics = [topic_for("solar", m).encode() for m in names]
    sock = socket.create_connection(("127.0.0.1", port))
    client_id = f"fleet-{uuid.uuid4().hex[:8]}".encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id
    sock.sendall(b"\x10" + varint(len(body)) + body)
    assert sock.recv(4)[:2] == b"\x20\x02", "no CONNACK"
    acked = [0]

    def read_acks() -> None:
        pending = b""
        while True:
            data = sock.recv(1 << 16)
            if not data:
                return
            pending += data
            whole = len(pending) // 4 * 4  # PUBACKs are 4 bytes: 0x40 0x02 id id
            acked[0] += whole // 4
            pending = pending[whole:]

    reader = threading.Thread(target=read_acks, daemon=True)
    reader.start()
    total = meters * ts.shape[1]
    chunk = 500
    order = [(m, k) for k in range(ts.shape[1]) for m in range(meters)]
    first = time.time()
    cpu0 = time.process_time()
    mid = 0
    for lo in range(0, total, chunk):
        if rate > 0:
            delay = first + lo / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        while lo - acked[0] > 30_000:  # flow control: packet ids must not wrap onto unacked ones
            time.sleep(0.001)
        now = time.time()
        out = []
        for m, k in order[lo : lo + chunk]:
            mid = mid % 65535 + 1
            payload = encode("solar", names[m], [(float(ts[m, k]), float(values[m, k]))], now)
            topic = topics[m]
            var = len(topic).to_bytes(2, "big") + topic + mid.to_bytes(2, "big") + payload
            out.append(b"\x32" + varint(len(var)) + var)
        sock.sendall(b"".join(out))
    last = time.time()
    while acked[0] < total:
        time.sleep(0.01)
    cpu = time.process_time() - cpu0
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    done.put((total, first, last, cpu))


def run_fleet(args: argparse.Namespace) -> dict[str, object]:
    """10,000 meters, one reading per message: burst throughput, then paced latency."""
    import multiprocessing

    settings = get_settings()
    server = database_url(settings)
    name, db = scratch_database(server, "bench_streaming")
    rurl = redis_url(settings)
    r = redis.Redis.from_url(rurl)
    r.delete(LATENCY_KEY)
    work = settings.state_dir / "bench-streaming" / uuid.uuid4().hex[:8]
    job = "bench-fleet"
    gateway = None
    query = None
    work.mkdir(parents=True, exist_ok=True)
    broker, port = start_mosquitto(work)
    ctx = multiprocessing.get_context("spawn")
    meters = args.fleet_meters
    step = 900.0

    def publish(
        start: float, steps: int, rate: float, seed: int
    ) -> tuple[int, float, float, float]:
        done = ctx.Queue()
        proc = ctx.Process(
            target=fleet_publish, args=(port, meters, start, steps, rate, seed, done)
        )
        proc.start()
        out = done.get(timeout=900)
        proc.join(60)
        return out  # type: ignore[no-any-return]

    try:
        upgrade(db)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GRIDCAST_MQTT_HOST": "127.0.0.1",
            "GRIDCAST_MQTT_PORT": str(port),
        }
        gateway = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gridcast.cli",
                "telemetry",
                "gateway",
                "--landing-dir",
                str(work / "landing"),
                "--dead-letter-dir",
                str(work / "dead"),
                "--max-delay",
                str(args.max_delay),
                "--client-id",
                f"bench-fleet-gw-{uuid.uuid4().hex[:6]}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert gateway.stdout is not None
        for line in gateway.stdout:
            if "gateway landing" in line:
                break
        spark = spark_session(settings.spark_master, app_name="bench-streaming")
        spark.sparkContext.setLogLevel("ERROR")
        cfg = JobConfig(
            work / "landing",
            work / "checkpoint",
            db,
            redis_url=rurl,
            job=job,
            trigger_s=args.trigger,
            reduce_on=args.reduce_on,
            source=args.source,
            watermark_s=2 * step,  # a step's messages all land before the next step's
        )
        query = start(spark, cfg)
        load_before = os.getloadavg()[0]
        t_start = DATA_START.timestamp()
        warm_steps = 2
        warm, _, _, _ = publish(t_start, warm_steps, 0.0, seed=1)
        wait_for(db, job, warm, 900)

        # CPU seconds per stage over the burst (load-independent, unlike the rates): the
        # broker, the gateway, the driver (Python + JVM + Python workers), Postgres (every
        # backend on the machine: other clients' too) and the load generator itself.
        stages = {
            "broker": lambda: cpu_s([broker.pid]),
            "gateway": lambda: cpu_s([gateway.pid]),
            "driver": lambda: cpu_s(family(os.getpid(), exclude={gateway.pid, broker.pid})),
            "postgres": lambda: cpu_s(named("postgres")),
        }
        cpu0 = {k: f() for k, f in stages.items()}
        sent, t0, t_pub, pub_cpu = publish(
            t_start + warm_steps * step, args.fleet_steps, 0.0, seed=2
        )
        t1 = wait_for(db, job, warm + sent, 900)
        wait_for_redis(db, job, r)
        cpu_us = {k: 1e6 * (f() - cpu0[k]) / sent for k, f in stages.items()}
        cpu_us["publisher"] = 1e6 * pub_cpu / sent
        throughput = sent / (t1 - t0)
        print(
            f"fleet burst: {sent} single-reading messages from {meters} meters in "
            f"{t1 - t0:.1f} s -> {throughput:,.0f} messages/s (published in {t_pub - t0:.1f} s)"
        )
        print(
            "CPU per message (us): "
            + ", ".join(f"{k} {v:.1f}" for k, v in cpu_us.items())
            + f"; total {sum(cpu_us.values()):.1f} = a ceiling of "
            f"{(os.cpu_count() or 1) * 1e6 / sum(cpu_us.values()):,.0f} messages/s on "
            f"{os.cpu_count()} idle cores"
        )
        paced_steps = max(1, int(args.fleet_paced_rate * args.fleet_paced_s / meters))
        t2 = time.time()
        paced, _, _, _ = publish(
            t_start + (warm_steps + args.fleet_steps) * step,
            paced_steps,
            args.fleet_paced_rate,
            seed=3,
        )
        wait_for(db, job, warm + sent + paced, 600)
        wait_for_redis(db, job, r)
        lat = latencies(r, t2) * 1000
        driver = family(os.getpid(), exclude={gateway.pid, broker.pid})
        result = {
            "fleet_meters": meters,
            "fleet_messages_per_s": round(throughput, 1),
            "fleet_messages_total": sent,
            "fleet_paced_messages_per_s": args.fleet_paced_rate,
            "fleet_paced_messages_total": paced,
            "fleet_latency_p50_ms": round(float(np.percentile(lat, 50)), 1),
            "fleet_latency_p95_ms": round(float(np.percentile(lat, 95)), 1),
            "fleet_rss_mb_gateway": peak_rss_mb([gateway.pid]),
            "fleet_rss_mb_driver": peak_rss_mb(driver),
            "fleet_late_alerts": late_alerts(db),
            "fleet_trigger_s": args.trigger,
            "fleet_gateway_max_delay_s": args.max_delay,
            **{f"fleet_cpu_us_per_msg_{k}": round(v, 1) for k, v in cpu_us.items()},
            "fleet_load_avg_1m_before": round(load_before, 2),
            "fleet_load_avg_1m_after": round(os.getloadavg()[0], 2),
        }
        print(
            f"fleet paced at {args.fleet_paced_rate:,.0f} messages/s: latency p50 "
            f"{result['fleet_latency_p50_ms']} ms, p95 {result['fleet_latency_p95_ms']} ms; "
            f"peak RSS gateway {result['fleet_rss_mb_gateway']} MiB, "
            f"driver (Python + JVM) {result['fleet_rss_mb_driver']} MiB"
        )
        return result
    finally:
        if query is not None:
            query.stop()
        if gateway is not None:
            gateway.terminate()
            gateway.wait(30)
        broker.terminate()
        broker.wait(30)
        drop_database(server, name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
