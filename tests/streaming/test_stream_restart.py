"""Kill -9 the Spark job mid-stream and restart it from its checkpoint: no window counts twice."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pandas as pd
import psycopg
import pytest

from gridcast.demo.broker import start_mosquitto
from gridcast.services import libpq_url
from indexer.db.engine import upgrade
from streaming.reference import accepted, window_aggregates
from streaming.replay import FaultRates, build_plan
from streaming.testing import batches, job_env, kill_group, land, spawn, stream_command

JOB = "test-restart"


def test_killed_job_restarts_from_checkpoint_without_double_counting(
    fresh_database: Any, redis_url: str, tmp_path: Path
) -> None:
    db = fresh_database("stream_restart")
    upgrade(db)
    plan = build_plan(
        ["solar", "household"],
        timedelta(hours=1),
        meters=8,
        batch=1,
        faults=FaultRates(duplicate=0.05, out_of_order=0.05, gap=0.02),
        seed=11,
    )
    # A private broker: anything else publishing telemetry on the machine's broker (another test
    # run, a demo) would land in this gateway's files (seen: a 'demand' window in this job).
    broker, port = start_mosquitto(tmp_path)
    try:
        files = land(plan, tmp_path / "landing", tmp_path / "dead", 16, host="127.0.0.1", port=port)
    finally:
        broker.terminate()
        broker.wait()
    assert files >= 5
    landed = {f.name for f in (tmp_path / "landing").glob("part-*.parquet")}
    args = [
        "--landing-dir",
        str(tmp_path / "landing"),
        "--checkpoint-dir",
        str(tmp_path / "checkpoint"),
        "--job",
        JOB,
        "--max-files-per-trigger",
        "1",
        "--trigger",
        "0.1",
        "--store-readings",
    ]
    env = job_env(db, redis_url)
    proc = spawn(stream_command(*args), env, tmp_path / "first.log")
    try:
        # Poll the job's own batch log; the deadline only guards against a hung job.
        deadline = time.monotonic() + 600
        while batches(db, JOB) < 2:
            assert proc.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "job made no progress"
            time.sleep(0.05)
    finally:
        kill_group(proc)
    killed_at = batches(db, JOB)
    assert killed_at < files, "job finished before it could be killed mid-stream"

    second = spawn(stream_command(*args, "--until-idle"), env, tmp_path / "second.log")
    assert second.wait(timeout=300) == 0, (tmp_path / "second.log").read_text()[-3000:]
    assert batches(db, JOB) == files  # one batch per file, each applied once

    expected = window_aggregates(accepted(plan.sent_readings()), 300)
    with psycopg.connect(libpq_url(db)) as conn:
        rows = conn.execute(
            "SELECT feed, extract(epoch FROM window_start)::float8, value, reading_count"
            " FROM stream_aggregates WHERE window_kind = '5m'"
        ).fetchall()
        [(stored,)] = conn.execute("SELECT count(*) FROM stream_readings").fetchall()
    got = pd.DataFrame(rows, columns=["feed", "ws", "value_job", "n_job"])
    merged = expected.merge(got, on=["feed", "ws"], how="outer")
    assert not merged.isna().any().any()
    assert (merged["n_job"] == merged["reading_count"]).all()
    assert merged["value_job"].to_numpy() == pytest.approx(merged["value"].to_numpy(), rel=1e-9)
    assert stored == len(accepted(plan.sent_readings()))
    # Archiving, asserted as far as Spark guarantees it. Guaranteed: every landed file is either
    # archived or still landed, never both, never lost. Spark archives the files of batch b-1 when
    # it writes the offsets of batch b (FileStreamSource.commit), on a cleaner thread: the last
    # batch's files are never archived, and archives pending at the kill -9 are simply lost (5 of 7
    # archived was seen). What the restarted run must have archived: every batch it constructs
    # commits its predecessor, and its graceful stop waits for the cleaner, so the files of
    # source-log batches killed_at .. files-2 are archived (one earlier batch may be re-run
    # instead of constructed, which commits nothing).
    left = {f.name for f in (tmp_path / "landing").glob("part-*.parquet")}
    archived = {f.name for f in (tmp_path / "landing-archive").rglob("part-*.parquet")}
    assert not left & archived
    assert left | archived == landed
    by_batch = source_log_files(tmp_path / "checkpoint")
    assert sorted(by_batch) == list(range(files))  # one file per batch, as maxFilesPerTrigger says
    must_archive = {name for b in range(killed_at, files - 1) for name in by_batch[b]}
    assert must_archive <= archived, sorted(must_archive - archived)


def source_log_files(checkpoint: Path) -> dict[int, set[str]]:
    """File names per batch id from the file source's own log (`sources/0/<batch>`: a version
    line, then one JSON entry per file). Uncompacted at this size (compactInterval is 10)."""
    out: dict[int, set[str]] = {}
    for entry in (checkpoint / "sources" / "0").iterdir():
        if not entry.name.isdigit():
            continue
        for line in entry.read_text().splitlines()[1:]:
            item = json.loads(line)
            out.setdefault(int(item["batchId"]), set()).add(Path(unquote(item["path"])).name)
    return out
