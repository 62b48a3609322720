"""Two epochs of real telemetry with every fault kind, through real Mosquitto, the gateway, Spark
local mode, Postgres and Redis; checked against pandas over the same accepted readings."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
import redis

from gridcast.services import libpq_url
from indexer.db.engine import upgrade
from streaming.config import JobConfig
from streaming.gateway import Gateway, read_dead_letters
from streaming.job import run_until_idle
from streaming.mqtt import Publisher
from streaming.reference import ORIGIN_S, accepted, window_aggregates
from streaming.replay import FaultRates, ReplayPlan, build_plan, publish_plan
from streaming.sinks import FEATURE_KEY, NOWCAST_KEY

FEEDS = ["solar", "demand", "household"]


@dataclass
class PipelineRun:
    plan: ReplayPlan
    db: str
    redis_url: str
    dead_letter_dir: Path
    cfg: JobConfig


def _wait_for(gw: Gateway, count: int) -> None:
    # Delivery over the real broker is asynchronous; QoS 1 guarantees the count is reached.
    while gw.received_messages < count:
        time.sleep(0.02)


def replay_through_gateway(plan: ReplayPlan, landing: Path, dead: Path) -> None:
    """Main phase lands as one file and the late phase as a second, so the late readings meet a
    watermark that the main phase already advanced."""
    gw = Gateway(landing, dead, max_readings=10**9, max_delay_s=3600)
    gw.start(client_id=f"test-gw-{uuid.uuid4().hex[:8]}", auto_flush=False)
    try:
        with Publisher() as pub:
            publish_plan(plan, pub, phase="main")
            _wait_for(gw, len(plan.main))
            gw.flush()
            if plan.late:
                publish_plan(plan, pub, phase="late")
                _wait_for(gw, len(plan.main) + len(plan.late))
                gw.flush()
    finally:
        gw.stop()


@pytest.fixture(scope="module")
def pipeline(
    spark: Any,
    mqtt_broker: tuple[str, int],
    fresh_database: Any,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> PipelineRun:
    db = fresh_database("stream_pipeline")
    upgrade(db)
    tmp = tmp_path_factory.mktemp("pipeline")
    plan = build_plan(
        FEEDS, timedelta(hours=2), meters=10, batch=1, faults=FaultRates.every_kind(0.04), seed=3
    )
    replay_through_gateway(plan, tmp / "landing", tmp / "dead")
    r = redis.Redis.from_url(redis_url)
    r.delete(
        *(FEATURE_KEY.format(feed=f) for f in FEEDS), *(NOWCAST_KEY.format(feed=f) for f in FEEDS)
    )
    cfg = JobConfig(
        tmp / "landing",
        tmp / "checkpoint",
        db,
        redis_url=redis_url,
        job="test-pipeline",
        max_files_per_trigger=1,
        store_readings=True,  # the audit copy lets the tests check which readings were kept
        clean_source="off",  # later tests read the landed files again
    )
    run_until_idle(spark, cfg)
    return PipelineRun(plan, db, redis_url, tmp / "dead", cfg)


def query(db: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_url(db)) as conn:
        return conn.execute(sql, args).fetchall()


def test_plan_injects_every_fault_kind(pipeline: PipelineRun) -> None:
    kinds = {m.fault for m in pipeline.plan.all_messages() + pipeline.plan.gaps}
    if query(pipeline.db, "SELECT 1 FROM stream_alerts WHERE rule = 'stuck'"):
        kinds.add("stuck")  # stuck runs are injected into the series, not into messages
    assert {
        "gap",
        "duplicate",
        "late",
        "out_of_order",
        "spike",
        "malformed",
        "negative",
        "stuck",
    } <= kinds


@pytest.mark.parametrize(("kind", "width_s"), [("5m", 300), ("epoch", 3600)])
def test_window_aggregates_equal_pandas_over_accepted_readings(
    pipeline: PipelineRun, kind: str, width_s: int
) -> None:
    expected = window_aggregates(accepted(pipeline.plan.sent_readings()), width_s)
    rows = query(
        pipeline.db,
        "SELECT feed, extract(epoch FROM window_start)::float8, value, mean,"
        " reading_count, meter_count FROM stream_aggregates WHERE window_kind = %s",
        kind,
    )
    got = pd.DataFrame(
        rows, columns=["feed", "ws", "value", "mean", "reading_count", "meter_count"]
    )
    merged = expected.merge(
        got, on=["feed", "ws"], how="outer", suffixes=("_pd", "_job"), indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    for col in ("value", "mean"):
        assert merged[f"{col}_job"].to_numpy() == pytest.approx(
            merged[f"{col}_pd"].to_numpy(), rel=1e-9, abs=1e-9
        )
    for col in ("reading_count", "meter_count"):
        assert (merged[f"{col}_job"] == merged[f"{col}_pd"]).all()


def test_late_readings_beyond_watermark_are_excluded_and_alerted(pipeline: PipelineRun) -> None:
    sent = pipeline.plan.sent_readings()
    late = sent[sent["phase"] == "late"]
    assert len(late) > 0
    alerted = {
        (f, m, float(ts))
        for f, m, ts in query(
            pipeline.db,
            "SELECT feed, meter, extract(epoch FROM event_ts)::float8 FROM stream_alerts"
            " WHERE rule = 'late'",
        )
    }
    assert alerted == {(r.feed, r.meter, float(r.ts)) for r in late.itertuples()}
    main_keys = set(map(tuple, sent[sent["phase"] == "main"][["feed", "meter", "ts"]].to_numpy()))
    stored = {
        (f, m, float(ts))
        for f, m, ts in query(
            pipeline.db, "SELECT feed, meter, extract(epoch FROM ts)::float8 FROM stream_readings"
        )
    }
    assert stored == main_keys


def test_malformed_messages_land_in_dead_letter_store_with_reason(pipeline: PipelineRun) -> None:
    malformed = [m for m in pipeline.plan.main if m.fault == "malformed"]
    dead = read_dead_letters(pipeline.dead_letter_dir)
    assert len(dead) == len(malformed) > 0
    assert sorted(base64.b64decode(str(d["payload_b64"])) for d in dead) == sorted(
        m.raw for m in malformed if m.raw is not None
    )
    assert {d["reason"] for d in dead} <= {
        "not_json",
        "no_readings",
        "bad_value",
        "unknown_feed",
        "bad_version",
        "topic_mismatch",
    }


def test_duplicates_are_counted_once(pipeline: PipelineRun) -> None:
    dup = next(m for m in pipeline.plan.main if m.fault == "duplicate")
    ts, _ = dup.readings[0]
    [(n,)] = query(
        pipeline.db,
        "SELECT count(*) FROM stream_readings WHERE feed = %s AND"
        " meter = %s AND ts = to_timestamp(%s)",
        dup.feed,
        dup.meter,
        ts,
    )
    assert n == 1


def test_quality_rules_raise_alerts_for_injected_faults(pipeline: PipelineRun) -> None:
    alerts = {
        (rule, meter, float(ts))
        for rule, meter, ts in query(
            pipeline.db,
            "SELECT rule, meter, extract(epoch FROM event_ts)::float8 FROM stream_alerts",
        )
    }
    for m in pipeline.plan.main:
        if m.fault == "negative":
            assert ("negative_generation", m.meter, m.readings[0][0]) in alerts
        if m.fault == "spike" and m.feed != "household":  # one meter has no peers to compare
            assert any(
                a[0] == "spike" and a[1] == m.meter and a[2] in {r[0] for r in m.readings}
                for a in alerts
            ), m
    assert any(a[0] == "stuck" for a in alerts)
    # A dropped message leaves its meter missing from a closed 5-minute window.
    assert any(a[0] == "missing_meter" for a in alerts)


def test_missing_meter_alerts_name_exactly_the_absent_meters(pipeline: PipelineRun) -> None:
    """Every closed window's roll call: the feed's meters with no accepted reading in it."""
    readings = accepted(pipeline.plan.sent_readings())
    fleet = readings.groupby("feed")["meter"].agg(set).to_dict()
    expected: set[tuple[str, str, float]] = set()
    closed = query(
        pipeline.db,
        "SELECT feed, window_kind, extract(epoch FROM window_start)::float8 FROM stream_aggregates"
        " WHERE closed",
    )
    for width, kind in ((300, "5m"), (3600, "epoch")):
        at = readings.assign(ws=ORIGIN_S + ((readings["ts"] - ORIGIN_S) // width) * width)
        present = at.groupby(["feed", "ws"])["meter"].agg(set).to_dict()
        for feed, k, ws in closed:
            if k == kind:
                expected |= {(feed, m, ws) for m in fleet[feed] - present.get((feed, ws), set())}
    got = set(
        query(
            pipeline.db,
            "SELECT feed, meter, extract(epoch FROM event_ts)::float8 FROM stream_alerts"
            " WHERE rule = 'missing_meter'",
        )
    )
    assert expected and got == expected


def test_closed_epochs_become_epoch_actuals_with_evidence(pipeline: PipelineRun) -> None:
    rows = query(
        pipeline.db,
        "SELECT feed, value, meter_count, coverage, evidence,"
        " evidence_hash, submitted_at FROM epoch_actuals ORDER BY feed",
    )
    assert sorted(r[0] for r in rows) == sorted(FEEDS)  # the first epoch of each feed closed
    expected = window_aggregates(accepted(pipeline.plan.sent_readings()), 3600)
    for feed, value, meters, coverage, evidence, digest, submitted in rows:
        first = expected[expected["feed"] == feed].sort_values("ws").iloc[0]
        assert value == pytest.approx(first["value"], rel=1e-9)
        assert meters == first["meter_count"] and 0 < coverage <= 1
        assert evidence["readings"] == first["reading_count"]
        assert digest.startswith("0x") and len(digest) == 66 and submitted is None


def test_redis_holds_latest_features_and_nowcasts(pipeline: PipelineRun) -> None:
    r = redis.Redis.from_url(pipeline.redis_url, decode_responses=True)
    for feed in FEEDS:
        feat = r.hgetall(FEATURE_KEY.format(feed=feed))
        [(ws, value)] = query(
            pipeline.db,
            "SELECT extract(epoch FROM window_start)::float8, value"
            " FROM stream_aggregates WHERE feed = %s AND window_kind = '5m'"
            " ORDER BY window_start DESC LIMIT 1",
            feed,
        )
        assert json.loads(feat["window_start"]) == ws
        assert json.loads(feat["value"]) == pytest.approx(value)
        nowcast = r.hgetall(NOWCAST_KEY.format(feed=feed))
        assert json.loads(nowcast["value"]) == pytest.approx(
            query(pipeline.db, "SELECT value FROM stream_nowcasts WHERE feed = %s", feed)[0][0]
        )


def test_rerunning_from_scratch_over_same_files_changes_nothing(
    pipeline: PipelineRun, spark: Any, tmp_path: Path
) -> None:
    before = query(
        pipeline.db,
        "SELECT feed, window_kind, window_start, value, reading_count"
        " FROM stream_aggregates ORDER BY 1, 2, 3",
    )
    alerts = query(pipeline.db, "SELECT count(*) FROM stream_alerts")
    cfg = JobConfig(
        pipeline.cfg.landing_dir,
        tmp_path / "fresh-checkpoint",
        pipeline.db,
        job=pipeline.cfg.job,
        max_files_per_trigger=1,
        clean_source="off",
    )
    run_until_idle(spark, cfg)
    after = query(
        pipeline.db,
        "SELECT feed, window_kind, window_start, value, reading_count"
        " FROM stream_aggregates ORDER BY 1, 2, 3",
    )
    assert after == before
    assert query(pipeline.db, "SELECT count(*) FROM stream_alerts") == alerts


def test_ramp_rate_is_change_per_hour_against_previous_window(pipeline: PipelineRun) -> None:
    rows = query(
        pipeline.db,
        "SELECT feed, window_kind, extract(epoch FROM window_start)::float8,"
        " value, ramp_rate FROM stream_aggregates ORDER BY 1, 2, 3",
    )
    frame = pd.DataFrame(rows, columns=["feed", "kind", "ws", "value", "ramp"])
    for _, group in frame.groupby(["feed", "kind"]):
        expected = group["value"].diff() / (group["ws"].diff() / 3600.0)
        assert group["ramp"].iloc[0] is None or pd.isna(group["ramp"].iloc[0])
        assert group["ramp"].iloc[1:].to_numpy(dtype=float) == pytest.approx(
            expected.iloc[1:].to_numpy(dtype=float), rel=1e-9
        )


def test_driver_and_executor_reductions_agree(pipeline: PipelineRun, spark: Any) -> None:
    """Small batches reduce on the driver, large ones on the executors: the same landed files,
    watermark and meter state give the same partials, alerts, state and counts either way."""
    from streaming.config import RAW_SCHEMA
    from streaming.reduction import MeterState
    from streaming.writer import BatchWriter

    df = (
        spark.read.schema(RAW_SCHEMA)
        .parquet(str(pipeline.cfg.landing_dir))
        .select("feed", "meter", "sent_at", "readings")
    )
    sent = pipeline.plan.sent_readings()
    solar = sorted(sent.loc[sent["feed"] == "solar", "ts"])
    # A watermark inside the data (some readings late) and state for one meter (its stuck run
    # and de-duplication set continue from it).
    before = {"solar": solar[len(solar) // 3]}
    meter = next(m for m in pipeline.plan.main if m.feed == "demand" and m.raw is None)
    first = meter.readings[0][0]
    state: dict[tuple[str, str], MeterState] = {
        ("demand", meter.meter): (first - 1.0, 1.0, 2, [first])
    }

    def reduced(where: str) -> Any:
        cfg = JobConfig(
            pipeline.cfg.landing_dir, pipeline.cfg.checkpoint_dir, pipeline.db, reduce_on=where
        )
        writer = BatchWriter(cfg)
        result = writer.reduce(df, before, state)
        assert writer.reduced_on == where
        return result

    on_driver, on_executors = reduced("driver"), reduced("executors")
    assert on_driver.rows == on_executors.rows > 0
    assert on_driver.watermarks == on_executors.watermarks
    assert sorted(on_driver.meters) == sorted(on_executors.meters)
    assert sorted(on_driver.state) == sorted(on_executors.state)
    assert sorted(on_driver.alerts) == sorted(on_executors.alerts)
    assert any(a[1] == "late" for a in on_driver.alerts)
    keys = [(c, "ascending") for c in ("feed", "window_kind", "ws", "meter")]
    assert on_driver.partials.sort_by(keys).equals(on_executors.partials.sort_by(keys))
    assert on_driver.quantiles == on_executors.quantiles
