"""Per-meter epoch energy (the metered-delivery leaves) exactly once across a kill -9 of the
gateway (with messages received but not yet landed) and a kill -9 of the Spark job mid-stream."""

from __future__ import annotations

import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gridcast.services import libpq_url
from indexer.db.engine import upgrade
from streaming.actuals import meter_energy_leaves
from streaming.mqtt import Publisher
from streaming.reference import ORIGIN_S, accepted
from streaming.replay import FaultRates, ReplayPlan, build_plan
from streaming.schema import UNIT_W, encode
from streaming.testing import (
    batches,
    free_port,
    gateway_command,
    gateway_messages,
    job_env,
    kill_group,
    landed_batches,
    landed_offsets,
    landed_readings,
    spawn,
    stream_command,
    wait_until,
)

JOB = "test-energy"
MAX_READINGS = 10  # the gateway lands a file every 10 single-reading messages


def _publish(plan: ReplayPlan, start: int, stop: int, port: int) -> None:
    with Publisher("127.0.0.1", port) as pub:
        for m in plan.main[start:stop]:
            pub.publish(m.topic, encode(m.feed, m.meter, m.readings, time.time()))


def expected_energy(plan: ReplayPlan) -> dict[tuple[str, float, str], float]:
    """(feed, epoch start, meter) -> mean power (W) x 1 h, from the readings the job accepts."""
    df = accepted(plan.sent_readings())
    df = df.assign(ws=ORIGIN_S + ((df["ts"] - ORIGIN_S) // 3600) * 3600)
    mean = df.groupby(["feed", "ws", "meter"])["value"].mean()
    return {k: v * UNIT_W[k[0]] for k, v in mean.items()}


def test_meter_energy_once_across_gateway_and_job_kills(
    broker_port: int, fresh_database: Any, redis_url: str, tmp_path: Path
) -> None:
    db = fresh_database("stream_energy")
    upgrade(db)
    plan = build_plan(
        ["solar", "demand"],
        timedelta(hours=3),
        meters=4,
        batch=1,
        faults=FaultRates(duplicate=0.05, out_of_order=0.05),
        seed=21,
    )
    landing, dead = tmp_path / "landing", tmp_path / "dead"
    env = {**job_env(db, redis_url), "GRIDCAST_MQTT_PORT": str(broker_port)}
    client_id = f"test-energy-gw-{uuid.uuid4().hex[:8]}"
    port = free_port()
    gw_args = ("--max-readings", str(MAX_READINGS), "--max-delay", "3600")
    gw = spawn(
        gateway_command(landing, dead, client_id, *gw_args, "--metrics-port", str(port)),
        env,
        tmp_path / "gw1.log",
    )
    try:
        wait_until(
            "gateway never subscribed", lambda: "landing to" in (tmp_path / "gw1.log").read_text()
        )
        half = (len(plan.main) // 2 // MAX_READINGS) * MAX_READINGS + 7
        _publish(plan, 0, half, broker_port)
        wait_until("gateway did not receive the first half", lambda: gateway_messages(port) >= half)
        # 7 messages are received and buffered, not landed: kill -9 now must not lose them.
        assert len(list(landing.glob("part-*.parquet"))) == half // MAX_READINGS
    finally:
        kill_group(gw)
    _publish(
        plan, half, len(plan.main), broker_port
    )  # the broker queues them for the gateway's session
    gw = spawn(
        gateway_command(landing, dead, client_id, "--max-delay", "0.1"), env, tmp_path / "gw2.log"
    )
    try:
        sent = {(r.feed, r.meter, r.ts) for r in plan.sent_readings().itertuples()}
        wait_until(
            "readings lost between the gateway's kill and its restart",
            lambda: set(sent) <= {r[:3] for r in landed_readings(landing)},
        )
    finally:
        gw.send_signal(signal.SIGTERM)
        gw.wait(30)
    landed = {f.name for f in landing.glob("part-*.parquet")}
    files = len(landed)

    args = [
        "--landing-dir",
        str(landing),
        "--checkpoint-dir",
        str(tmp_path / "checkpoint"),
        "--job",
        JOB,
        "--max-files-per-trigger",
        "1",
        "--trigger",
        "0.1",
    ]
    job = spawn(stream_command(*args), env, tmp_path / "job1.log")
    try:
        # Generous: the JVM start alone takes minutes when the machine is at load 30.
        wait_until(
            "job made no progress",
            lambda: batches(db, JOB) >= 2 or job.poll() is not None,
            timeout=600,
        )
        assert job.poll() is None, (tmp_path / "job1.log").read_text()[-3000:]
    finally:
        kill_group(job)
    assert batches(db, JOB) < files, "job finished before it could be killed mid-stream"
    job = spawn(stream_command(*args, "--until-idle"), env, tmp_path / "job2.log")
    assert job.wait(timeout=600) == 0, (tmp_path / "job2.log").read_text()[-3000:]
    # Every landed file was read, one a batch (the landed source's offsets are all its state:
    # a batch the kill interrupted is replayed over the same file), each batch recorded once.
    # The two gateway runs' files are one sequence (same client id, the clock's ns).
    offsets = landed_offsets(tmp_path / "checkpoint")
    by_batch = landed_batches(tmp_path / "checkpoint", landed)
    assert set().union(*by_batch.values()) == landed
    assert sorted(by_batch) == sorted(offsets) == list(range(files))
    assert all(len(names) == 1 for names in by_batch.values())
    assert batches(db, JOB) == files

    expected = expected_energy(plan)
    with psycopg.connect(libpq_url(db)) as conn:
        closed = conn.execute(
            "SELECT feed, epoch_start, value FROM epoch_actuals ORDER BY feed, epoch_start"
        ).fetchall()
        stored = conn.execute(
            "SELECT feed, extract(epoch FROM epoch_start)::float8, meter, energy_wh"
            " FROM epoch_meter_energy"
        ).fetchall()
    # Both feeds closed epochs (3 data hours, a 600 s watermark); every closed one has energies.
    assert {f for f, _, _ in closed} == {"solar", "demand"}
    assert {(f, s) for f, s, _, _ in stored} == {(f, e.timestamp()) for f, e, _ in closed}
    assert len(stored) == len({(f, s, m) for f, s, m, _ in stored})  # one row per meter
    for feed, start, meter, wh in stored:
        assert wh == pytest.approx(max(0.0, expected[(feed, start, meter)]), abs=1.0)
    for feed, epoch_start, value in closed:
        leaves = meter_energy_leaves(db, feed, epoch_start, epoch=7)
        assert [leaf[0] for leaf in leaves] == sorted(leaf[0] for leaf in leaves)
        assert {leaf[1] for leaf in leaves} == {7}
        # The leaves add up to the epoch actual (sum of per-meter means) over one hour.
        assert sum(leaf[2] for leaf in leaves) == pytest.approx(
            value * UNIT_W[feed], abs=len(leaves)
        )
    assert meter_energy_leaves(db, "solar", datetime(2030, 1, 1, tzinfo=UTC)) == []
