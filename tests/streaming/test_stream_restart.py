"""Kill -9 the Spark job mid-stream and restart it from its checkpoint: no window counts twice."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest

from gridcast.services import libpq_url
from indexer.db.engine import upgrade
from streaming.reference import accepted, window_aggregates
from streaming.replay import FaultRates, build_plan
from streaming.testing import (
    batches,
    job_env,
    kill_group,
    land,
    query_offsets,
    source_log_files,
    spawn,
    stream_command,
)

JOB = "test-restart"


def test_killed_job_restarts_from_checkpoint_without_double_counting(
    broker_port: int, fresh_database: Any, redis_url: str, tmp_path: Path
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
    files = land(
        plan, tmp_path / "landing", tmp_path / "dead", 16, host="127.0.0.1", port=broker_port
    )
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
    # The newest batch the killed run planned (it may not have committed it).
    planned_at_kill = max(query_offsets(tmp_path / "checkpoint"), default=-1)

    second = spawn(stream_command(*args, "--until-idle"), env, tmp_path / "second.log")
    assert second.wait(timeout=300) == 0, (tmp_path / "second.log").read_text()[-3000:]
    # Every batch the query ran is recorded once. Usually one file a batch, but not always: when
    # the kill falls between the file source logging a file and the query logging its offsets,
    # the restarted query's next batch takes that file and the next one (offsets 1 -> 3 seen).
    offsets = query_offsets(tmp_path / "checkpoint")
    by_batch = source_log_files(tmp_path / "checkpoint")
    assert set().union(*by_batch.values()) == landed
    assert offsets[max(offsets)] == max(by_batch)  # the query read up to the newest file
    assert batches(db, JOB) == len(offsets) == max(offsets) + 1

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
    # archived or still landed, never both, never lost. Spark archives when it plans query batch n:
    # FileStreamSource.commit(offset of batch n-1) moves the files the source logged at exactly
    # that offset, on a cleaner thread. So the last batch's files are never archived, files the
    # source logged at an offset no batch ended on are never archived, and archives pending at
    # the kill -9 are lost (5 of 7 archived was seen). What the restarted run must have archived:
    # it plans batches planned_at_kill+1 .. last, and its graceful stop waits for the cleaner.
    left = {f.name for f in (tmp_path / "landing").glob("part-*.parquet")}
    archived = {f.name for f in (tmp_path / "landing-archive").rglob("part-*.parquet")}
    assert not left & archived
    assert left | archived == landed
    must_archive = {
        name
        for n in range(planned_at_kill, max(offsets))
        for name in by_batch.get(offsets[n], set())
    }
    assert must_archive <= archived, sorted(must_archive - archived)
