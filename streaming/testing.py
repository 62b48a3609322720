"""Test and benchmark support: land a replay through a real gateway, run the job as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import psycopg

from gridcast.services import libpq_url
from gridcast.settings import PROJECT_ROOT
from streaming.gateway import Gateway
from streaming.mqtt import Publisher
from streaming.replay import ReplayPlan, publish_plan


def land(
    plan: ReplayPlan,
    landing: Path,
    dead: Path,
    max_readings: int,
    host: str | None = None,
    port: int | None = None,
) -> int:
    """Replay `plan` over MQTT (the settings' broker, or `host`:`port`) through a gateway landing
    a file every `max_readings` readings; returns the number of landed files."""
    gw = Gateway(landing, dead, max_readings=max_readings, max_delay_s=3600)
    gw.start(client_id=f"test-gw-{uuid.uuid4().hex[:8]}", auto_flush=False, host=host, port=port)
    try:
        with Publisher(host, port) as pub:
            publish_plan(plan, pub)
        while gw.received_messages < len(plan.all_messages()):
            time.sleep(0.02)
    finally:
        gw.stop()
    return len(list(landing.glob("part-*.parquet")))


def stream_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gridcast.cli", "stream", "run", *args]


def job_env(db: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "GRIDCAST_DATABASE_URL": db,
        "GRIDCAST_REDIS_URL": redis_url,
        "PYTHONPATH": str(PROJECT_ROOT),
    }


def spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # A new session so the Spark JVM that the driver starts dies with it on killpg.
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def batches(db: str, job: str) -> int:
    with psycopg.connect(libpq_url(db)) as conn:
        row = conn.execute("SELECT count(*) FROM stream_batches WHERE job = %s", (job,)).fetchone()
    return int(row[0]) if row else 0


def stored_readings(db: str) -> tuple[Counter[tuple[str, float, float]], dict[float, int], int]:
    """(readings stored as (meter, data time, value), batch of each reading by data time,
    readings the 5m windows counted): a window counting a reading twice shows in the last,
    which stream_readings alone would hide (ON CONFLICT)."""
    with psycopg.connect(libpq_url(db)) as conn:
        rows = conn.execute(
            "SELECT meter, extract(epoch FROM ts)::float8, value, batch_id FROM stream_readings"
        ).fetchall()
        [(counted,)] = conn.execute(
            "SELECT coalesce(sum(reading_count), 0) FROM stream_aggregates WHERE window_kind = '5m'"
        ).fetchall()
    return Counter((m, ts, v) for m, ts, v, _ in rows), {ts: b for _, ts, _, b in rows}, counted


def wait_until(what: str, done: Callable[[], bool], timeout: float = 300.0) -> None:
    """Poll `done` until it holds; the deadline only guards against a hung process, so it fails
    with `what` rather than hang the suite."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway_command(landing: Path, dead: Path, client_id: str, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gridcast.cli",
        "telemetry",
        "gateway",
        "--landing-dir",
        str(landing),
        "--dead-letter-dir",
        str(dead),
        "--client-id",
        client_id,
        *args,
    ]


def gateway_messages(metrics_port: int) -> int:
    """Messages a gateway process received so far (its Prometheus counter; 0 until it serves)."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("gridcast_gateway_received_messages "):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def landed_readings(*landing: Path) -> list[tuple[str, str, float, float]]:
    """Every reading in the landed (or archived) Parquet files under `landing`, one entry per
    landed copy: (feed, meter, ts, value)."""
    import pyarrow.parquet as pq

    out: list[tuple[str, str, float, float]] = []
    for directory in landing:
        for path in sorted(directory.rglob("part-*.parquet")):
            table = pq.read_table(path, columns=["feed", "meter", "readings"])
            for feed, meter, readings in zip(
                *(table.column(c).to_pylist() for c in ("feed", "meter", "readings")), strict=True
            ):
                out.extend((feed, meter, r["ts"], r["value"]) for r in readings)
    return out


def landed_offsets(checkpoint: Path) -> dict[int, dict[str, int]]:
    """The landed source's end offset of each query batch (`offsets/<batch>`: a version line, the
    batch metadata, then the offset: each gateway's newest sequence number read). Spark keeps
    the newest 20 batches' entries (spark.sql.streaming.minBatchesToRetain): a test that reads
    them all runs fewer batches than that."""
    out: dict[int, dict[str, int]] = {}
    for entry in (checkpoint / "offsets").glob("[0-9]*"):
        if entry.name.isdigit():
            out[int(entry.name)] = json.loads(entry.read_text().splitlines()[-1])
    return out


def landed_batches(checkpoint: Path, names: set[str]) -> dict[int, set[str]]:
    """Which query batch read each of the landed files `names`: the first batch whose end
    offset covers the file's gateway and sequence (files no batch covers are left out)."""
    from streaming.landed_source import parse_name

    offsets = landed_offsets(checkpoint)
    out: dict[int, set[str]] = {}
    for name in names:
        parsed = parse_name(name)
        assert parsed is not None, name
        gateway, seq = parsed
        covering = [b for b, end in offsets.items() if seq <= end.get(gateway, -1)]
        if covering:
            out.setdefault(min(covering), set()).add(name)
    return out


def query_offsets(checkpoint: Path) -> dict[int, int]:
    """The file source's log offset at the end of each query batch (`offsets/<batch>`: a
    version line, the batch metadata, then the source's offset as JSON)."""
    out: dict[int, int] = {}
    for entry in (checkpoint / "offsets").glob("[0-9]*"):
        if entry.name.isdigit():
            out[int(entry.name)] = int(json.loads(entry.read_text().splitlines()[-1])["logOffset"])
    return out


def source_log_files(checkpoint: Path) -> dict[int, set[str]]:
    """File names per batch id from the file source's own log (`sources/0/<batch>`: a version
    line, then one JSON entry per file). Only uncompacted entries (JobConfig compacts every 100)."""
    out: dict[int, set[str]] = {}
    for entry in (checkpoint / "sources" / "0").iterdir():
        if not entry.name.isdigit():
            continue
        for line in entry.read_text().splitlines()[1:]:
            item = json.loads(line)
            out.setdefault(int(item["batchId"]), set()).add(Path(unquote(item["path"])).name)
    return out
