"""The job's landed source (streaming.landed_source): offsets are each gateway's newest landed
sequence number, so Spark's offset log is all its state. Two gateways' files interleave; a
restart replays a batch planned before a kill over the same files; a file a kill left landed
after its batch committed is never read again, and the next commit archives it."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from indexer.db.engine import upgrade
from streaming.config import JobConfig
from streaming.errors import NonRetryableError
from streaming.job import run_until_idle
from streaming.landed_source import parse_name
from streaming.landing import LandingSequence, gateway_name, land_table
from streaming.schema import SCHEMA_VERSION
from streaming.testing import batches, landed_batches, landed_offsets, stored_readings

JOB = "test-landed-source"
T0 = 1_306_918_800.0  # 2011-06-01 09:00 UTC
READINGS = pa.list_(pa.struct([("ts", pa.float64()), ("value", pa.float64())]))


def land(
    landing: Path, gateway: str, i: int, sequence: LandingSequence | None = None
) -> tuple[str, tuple[str, float, float]]:
    """File `i` of `gateway`: one reading of meter m<i % 3>, data time i minutes after T0."""
    now = time.time()
    reading = (f"m{i % 3}", T0 + 60.0 * i, float(i + 1))
    table = pa.table(
        {
            "received_at": pa.array([now], pa.float64()),
            "v": pa.array([SCHEMA_VERSION], pa.int64()),
            "feed": pa.array(["solar"]),
            "meter": pa.array([reading[0]]),
            "sent_at": pa.array([now], pa.float64()),
            "readings": pa.array([[{"ts": reading[1], "value": reading[2]}]], READINGS),
        }
    )
    return land_table(landing, table, gateway, sequence).name, reading


def test_names_and_sequences() -> None:
    assert gateway_name("gw-1/eu west") == "gw-1_eu_west"
    assert gateway_name("--") == "gateway"
    assert parse_name("part-gw-1-00000000000000000042.parquet") == ("gw-1", 42)
    assert parse_name("part-01796071877196240714-1a2b3c4d.parquet") is None  # old names
    assert parse_name(".part-gw-00000000000000000042.parquet.tmp") is None


def test_two_gateways_kill_replay_and_leftover_archive(
    spark: Any, fresh_database: Any, redis_url: str, tmp_path: Path
) -> None:
    db = fresh_database("landed_source")
    upgrade(db)
    landing, checkpoint = tmp_path / "landing", tmp_path / "checkpoint"
    sent: dict[str, tuple[str, float, float]] = {}
    # Two gateways, their files interleaved in time.
    for i in range(6):
        name, reading = land(landing, "gw-a" if i % 2 == 0 else "gw-b", i)
        sent[name] = reading
    cfg = JobConfig(
        landing,
        checkpoint,
        db,
        redis_url=redis_url,
        job=JOB,
        max_files_per_trigger=2,
        store_readings=True,
        trigger_s=0.1,
    )
    run_until_idle(spark, cfg)
    assert batches(db, JOB) == 3
    offsets = landed_offsets(checkpoint)
    # Oldest first across gateways, two files a batch: each batch one file of each gateway.
    by_batch = landed_batches(checkpoint, set(sent))
    assert {b: sorted(parse_name(n)[0] for n in names) for b, names in by_batch.items()} == {  # type: ignore[index]
        b: ["gw-a", "gw-b"] for b in range(3)
    }
    # Every batch but the last archived (Spark commits a batch as it plans the next one).
    left = {p.name for p in landing.glob("part-*.parquet")}
    archived = {p.name for p in cfg.archive_path().glob("part-*.parquet")}
    assert left == by_batch[2]
    assert archived == by_batch[0] | by_batch[1]

    # A kill left one archived file behind (as if it struck inside commit()): it is not read
    # again, and the next commit archives it.
    leftover = sorted(by_batch[0])[0]
    (cfg.archive_path() / leftover).rename(landing / leftover)
    # A kill after Spark logged batch 3's offsets (two new files) and before it ran the batch:
    # the restarted query replays batch 3 over exactly those offsets, the third new file goes
    # to batch 4 even though the limit would have let it join.
    new = [land(landing, "gw-a", 6), land(landing, "gw-b", 7), land(landing, "gw-a", 8)]
    sent.update(new)
    planned = {**offsets[2]}
    for name, _ in new[:2]:
        gateway, seq = parse_name(name)  # type: ignore[misc]
        planned[gateway] = seq
    header = (checkpoint / "offsets" / "2").read_text().splitlines()[:-1]
    (checkpoint / "offsets" / "3").write_text("\n".join([*header, _json(planned)]))

    run_until_idle(spark, cfg)
    assert batches(db, JOB) == 5
    by_batch = landed_batches(checkpoint, set(sent))
    assert by_batch[3] == {new[0][0], new[1][0]}
    assert by_batch[4] == {new[2][0]}
    readings, batch_of, counted = stored_readings(db)
    assert readings == Counter(sent.values())  # nothing lost, nothing read twice
    assert counted == len(sent)
    assert batch_of[new[2][1][1]] == 4
    left = {p.name for p in landing.glob("part-*.parquet")}
    archived = {p.name for p in cfg.archive_path().glob("part-*.parquet")}
    assert left == {new[2][0]}
    assert archived == set(sent) - left


def _json(offset: dict[str, int]) -> str:
    import json

    return json.dumps(offset)


def test_restarted_gateway_lands_above_its_reservation_whatever_the_clock(tmp_path: Path) -> None:
    """A gateway whose clock stepped back across a restart must still land above every sequence
    it may have used (the source would never read a file below its offset): it starts above the
    reservation a previous run left, and reserves ahead with one write an hour, not one a file."""
    landing = tmp_path / "landing"
    landing.mkdir()
    first = LandingSequence(landing, "gw")
    issued = [first.next() for _ in range(100)]
    assert issued == sorted(set(issued))
    reservation = landing / ".sequence-gw"
    reserved = int(reservation.read_text())
    assert reserved > issued[-1]
    stamp = reservation.stat().st_mtime_ns
    assert [first.next() for _ in range(10)][-1] < reserved
    assert reservation.stat().st_mtime_ns == stamp  # no write while inside the reservation
    # A previous run whose clock was ten hours ahead of this one's left its reservation there.
    ahead = time.time_ns() + 10 * 3600 * 10**9
    reservation.write_text(str(ahead))
    restarted = LandingSequence(landing, "gw")
    name, _ = land(landing, "gw", 0, restarted)
    parsed = parse_name(name)
    assert parsed is not None and parsed[1] > ahead
    reservation.write_text("12ab")
    with pytest.raises(NonRetryableError, match="not a sequence number"):
        LandingSequence(landing, "gw")
