"""Kill -9 the Spark job mid-stream and restart it from its checkpoint: every landed file is read
exactly once, no window counts twice."""

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
    landed_batches,
    landed_offsets,
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
    planned_at_kill = max(landed_offsets(tmp_path / "checkpoint"), default=-1)

    second = spawn(stream_command(*args, "--until-idle"), env, tmp_path / "second.log")
    assert second.wait(timeout=300) == 0, (tmp_path / "second.log").read_text()[-3000:]
    # Every batch the query ran is recorded once, and each read one file: the landed source's
    # offsets (each gateway's newest sequence number read) are all its state, so the restarted
    # query replays a batch the kill interrupted over the same file, never two files in one.
    offsets = landed_offsets(tmp_path / "checkpoint")
    by_batch = landed_batches(tmp_path / "checkpoint", landed)
    assert set().union(*by_batch.values()) == landed
    assert sorted(by_batch) == sorted(offsets) == list(range(files))
    assert all(len(names) == 1 for names in by_batch.values())
    assert batches(db, JOB) == files

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
    # Archiving: every landed file is archived or still landed, never both, never lost. The
    # source archives in commit(end), which Spark calls as it plans the batch after `end`'s,
    # and moves every landed file up to `end` (also those a kill left behind mid-archive). So
    # once the restarted run planned a batch, all files but the last batch's are archived.
    left = {f.name for f in (tmp_path / "landing").glob("part-*.parquet")}
    archived = {f.name for f in (tmp_path / "landing-archive").rglob("part-*.parquet")}
    assert not left & archived
    assert left | archived == landed
    if planned_at_kill < files - 1:  # the kill fell before the last batch was planned
        assert landed - by_batch[files - 1] <= archived
