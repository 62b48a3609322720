"""Spark's file source (the job's `--source files` option) across a restart, at larger
compaction intervals than Spark's default.

A kill -9 can fall after the file source logged a batch's files (checkpoint `sources/0/<n>`) and
before the query logged that batch's offsets (`offsets/<b>`). The restarted query then plans one
batch over two source-log entries: the restart test once read that as a lost batch (6 query
batches for 7 files) and blamed the larger compactInterval it was tried with. Here the kill is
placed in that window by writing the source's entry exactly as FileStreamSource.fetchMaxOffset
does, so the case runs every time instead of once in a while.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pytest

from indexer.db.engine import upgrade
from streaming.config import JobConfig
from streaming.job import run_until_idle
from streaming.landing import land_table
from streaming.schema import SCHEMA_VERSION
from streaming.testing import batches, query_offsets, stored_readings, wait_until

JOB = "test-source-log"
T0 = 1_306_918_800.0  # 2011-06-01 09:00 UTC, where the replays start
METERS = 4
T_LANDED = time.time() - 3600  # the files' modification times, one second apart

Reading = tuple[str, float, float]  # meter, ts, value


def land(landing: Path, i: int) -> tuple[str, list[Reading]]:
    """File `i`: one reading per meter, data time i minutes after T0 (no reading is late), landed
    i seconds after T_LANDED."""
    readings = [(f"m{m}", T0 + 60.0 * i, 100.0 * i + m + 1) for m in range(METERS)]
    now = time.time()
    table = pa.table(
        {
            "received_at": pa.array([now] * METERS, pa.float64()),
            "v": pa.array([SCHEMA_VERSION] * METERS, pa.int64()),
            "feed": pa.array(["solar"] * METERS),
            "meter": pa.array([m for m, _, _ in readings]),
            "sent_at": pa.array([now] * METERS, pa.float64()),
            "readings": pa.array(
                [[{"ts": ts, "value": v}] for _, ts, v in readings],
                pa.list_(pa.struct([("ts", pa.float64()), ("value", pa.float64())])),
            ),
        }
    )
    path = land_table(landing, table)
    # Spark's file source reads files oldest first by modification time, and files written within
    # one tick of the filesystem's clock share one (then directory order decides: it read minute
    # 2 before minute 1 now and then). Each file gets its own second, as a gateway's files have.
    mtime_ns = int(T_LANDED + i) * 10**9
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path.name, readings


def log_entries(source_log: Path) -> list[dict[str, Any]]:
    """Every entry of the file source's log: the newest `<n>.compact` and the files after it."""
    ids = sorted(int(p.name.split(".")[0]) for p in source_log.iterdir() if p.name[0].isdigit())
    compacts = [i for i in ids if (source_log / f"{i}.compact").exists()]
    start = compacts[-1] if compacts else 0
    out: list[dict[str, Any]] = []
    for i in ids:
        if i < start:
            continue
        path = source_log / (f"{i}.compact" if i in compacts else str(i))
        out.extend(json.loads(line) for line in path.read_text().splitlines()[1:])
    return out


def log_file_in_kill_window(checkpoint: Path, name: str, landing: Path, interval: int) -> int:
    """Log landed file `name` at the source's next offset, as fetchMaxOffset does just before the
    query writes `offsets/<b>`; the kill falls in between (no offsets entry). Returns the offset."""
    source_log = checkpoint / "sources" / "0"
    entries = log_entries(source_log)
    offset = max(e["batchId"] for e in entries) + 1
    # The same URL form Spark wrote for the files beside it.
    prefix = entries[0]["path"].rsplit("/", 1)[0]
    mtime_ms = int(os.stat(landing / name).st_mtime * 1000)
    entry = {"path": f"{prefix}/{name}", "timestamp": mtime_ms, "batchId": offset}
    # CompactibleFileStreamLog.add: a compaction batch is written as `<n>.compact` holding every
    # entry so far; any other batch as `<n>` holding its own.
    compaction = (offset + 1) % interval == 0
    body = (entries if compaction else []) + [entry]
    target = source_log / (f"{offset}.compact" if compaction else str(offset))
    target.write_text("v1\n" + "\n".join(json.dumps(e, separators=(",", ":")) for e in body))
    return offset


@pytest.mark.parametrize(
    ("first", "second"),
    [(1000, 1000), (2, 100)],
    ids=["larger-interval", "compacted-at-2-restarted-at-100"],
)
def test_restart_in_the_kill_window_reads_every_file_once(
    spark: Any, fresh_database: Any, redis_url: str, tmp_path: Path, first: int, second: int
) -> None:
    db = fresh_database("source_log")
    upgrade(db)
    landing, checkpoint = tmp_path / "landing", tmp_path / "checkpoint"
    sent: dict[str, list[Reading]] = dict(land(landing, i) for i in range(3))
    cfg = JobConfig(
        landing,
        checkpoint,
        db,
        redis_url=redis_url,
        job=JOB,
        max_files_per_trigger=1,
        store_readings=True,
        source="files",
        source_log_compact_interval=first,
    )
    run_until_idle(spark, cfg)
    assert batches(db, JOB) == 3
    if first == 2:  # the setting reached the source: batch 1 was compacted
        assert (checkpoint / "sources" / "0" / "1.compact").exists()

    orphaned, readings = land(landing, 3)
    sent[orphaned] = readings
    orphan = log_file_in_kill_window(checkpoint, orphaned, landing, first)
    newest, readings = land(landing, 4)
    sent[newest] = readings
    run_until_idle(spark, replace(cfg, source_log_compact_interval=second))

    # Nothing lost: every reading of every landed file stored; nothing doubled: each window
    # counted every reading once (stream_readings alone would hide a double: ON CONFLICT).
    expected = Counter((m, ts, v) for rs in sent.values() for m, ts, v in rs)
    got, batch_of, counted = stored_readings(db)
    assert got == expected
    assert counted == sum(expected.values())
    # The restarted query planned one batch over the orphaned entry and the next file: four
    # query batches for five files, each committed once.
    offsets = query_offsets(checkpoint)
    assert offsets == {0: 0, 1: 1, 2: 2, 3: orphan + 1}
    assert batches(db, JOB) == 4
    minute_batch = {round((ts - T0) / 60): b for ts, b in batch_of.items()}
    assert minute_batch == {0: 0, 1: 1, 2: 2, 3: 3, 4: 3}
    assert {e["batchId"] for e in log_entries(checkpoint / "sources" / "0")} == set(range(5))
    logged = {Path(unquote(e["path"])).name for e in log_entries(checkpoint / "sources" / "0")}
    assert logged == set(sent)
    # Every file archived or still landed, never both. Spark archives a batch's files when it
    # plans the next batch, and only those logged at exactly the offset that batch ended on: the
    # newest file waits for the next batch, the orphaned one stays landed (already read, and
    # never read again: the source's log marks it seen). Spark's cleaner moves them on its own
    # thread (fileSource.cleaner.numThreads), so a move may still be pending when the query has
    # stopped: what is guaranteed is checked on every look, the end state is waited for.
    archive = cfg.archive_path()

    def cleaned() -> bool:
        left = {p.name for p in landing.glob("part-*.parquet")}
        archived = {p.name for p in archive.rglob("part-*.parquet")}
        assert not left & archived
        assert left | archived == set(sent)
        assert {orphaned, newest} <= left
        return left == {orphaned, newest}

    wait_until("Spark's cleaner never archived the committed files", cleaned, timeout=60)
    assert {p.name for p in landing.glob("part-*.parquet")} == {orphaned, newest}
