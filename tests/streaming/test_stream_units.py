"""Fast checks of the pieces that need no services: schema, clock mapping, nowcast, replay plan."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gridcast.clock import ClockError, DataClock
from streaming.errors import InvalidTelemetry
from streaming.nowcast import holt_winters
from streaming.replay import FaultRates, build_plan, meter_frame
from streaming.schema import encode, parse, topic_for, validate


def test_schema_accepts_an_encoded_batch() -> None:
    payload = encode("solar", "solar-001", [(1306944000.0, 1.5), (1306944900.0, 1.7)], 1.0)
    msg = validate(topic_for("solar", "solar-001"), payload)
    assert [r["value"] for r in msg["readings"]] == [1.5, 1.7]
    # The gateway lands the columns parse() returns.
    _, ts, values = parse(topic_for("solar", "solar-001"), payload)
    assert (ts, values) == ([1306944000.0, 1306944900.0], [1.5, 1.7])


@pytest.mark.parametrize(
    ("topic", "body", "reason"),
    [
        ("gridcast/telemetry/solar/m", b"{nope", "not_json"),
        ("gridcast/telemetry/solar/m", b"[1]", "not_object"),
        ("gridcast/telemetry/wind/m", {"feed": "wind"}, "unknown_feed"),
        ("gridcast/telemetry/demand/m", {}, "topic_mismatch"),
        ("gridcast/telemetry/solar/m", {"readings": []}, "no_readings"),
        ("gridcast/telemetry/solar/m", {"readings": [{"ts": 1.0e12, "value": 1}]}, "bad_ts"),
        ("gridcast/telemetry/solar/m", {"readings": [{"ts": 1.3e9, "value": "x"}]}, "bad_value"),
        ("gridcast/telemetry/solar/m", {"v": 2}, "bad_version"),
    ],
)
def test_schema_rejects_bad_messages_with_a_reason(
    topic: str, body: bytes | dict[str, object], reason: str
) -> None:
    if isinstance(body, dict):
        base: dict[str, object] = {
            "v": 1,
            "feed": "solar",
            "meter": "m",
            "sent_at": 1.0,
            "readings": [{"ts": 1.3e9, "value": 1.0}],
        }
        body = json.dumps({**base, **body}).encode()
    with pytest.raises(InvalidTelemetry) as err:
        validate(topic, body)
    assert err.value.reason == reason


def test_clock_maps_chain_time_to_data_time_and_back() -> None:
    clock = DataClock(
        genesis=1_000,
        epoch_length=60,
        data_start=datetime(2011, 6, 1, tzinfo=UTC),
        data_step=timedelta(hours=1),
    )
    assert clock.speedup == 60.0
    assert clock.data_time(1_000 + 90) == datetime(2011, 6, 1, 1, 30, tzinfo=UTC)
    assert clock.chain_time(datetime(2011, 6, 1, 2, tzinfo=UTC)) == 1_120
    assert clock.epoch_of(1_000 + 179) == 2
    assert clock.epoch_data_window(2) == (
        datetime(2011, 6, 1, 2, tzinfo=UTC),
        datetime(2011, 6, 1, 3, tzinfo=UTC),
    )
    with pytest.raises(ClockError):
        DataClock(0, 0, datetime(2011, 1, 1, tzinfo=UTC), timedelta(hours=1))


def test_nowcast_follows_trend_and_daily_season() -> None:
    assert holt_winters([5.0] * 10).value == pytest.approx(5.0)
    assert holt_winters([float(i) for i in range(20)]).value == pytest.approx(20.0, rel=0.05)
    days = [10 + 5 * math.sin(2 * math.pi * h / 24) for h in range(24 * 5)]
    forecast = holt_winters(days, season=24, alpha=0.3)
    assert forecast.method.startswith("holt_winters_additive(alpha=0.3")
    assert forecast.value == pytest.approx(days[0], abs=0.2)  # next hour is hour 0 of a day


def test_meters_sum_to_about_the_real_total() -> None:
    import pandas as pd

    series = pd.Series(
        [100.0, 200.0], index=pd.date_range("2014-01-01", periods=2, freq="h", tz="UTC")
    )
    frame = meter_frame(series, "demand", 20, seed=1)
    totals = frame.groupby("ts")["value"].sum().to_numpy()
    assert totals == pytest.approx([100.0, 200.0], rel=0.05)
    assert frame["meter"].nunique() == 20


def test_plan_is_deterministic_for_a_seed_and_keeps_late_messages_apart() -> None:
    kw = {"meters": 5, "faults": FaultRates.every_kind(0.05), "seed": 9}
    a = build_plan(["demand"], timedelta(hours=6), **kw)  # type: ignore[arg-type]
    b = build_plan(["demand"], timedelta(hours=6), **kw)  # type: ignore[arg-type]
    assert [(m.meter, m.readings, m.fault) for m in a.main] == [
        (m.meter, m.readings, m.fault) for m in b.main
    ]
    assert all(m.fault == "late" for m in a.late)


@pytest.mark.parametrize(
    "bad",
    [
        {"reduce_on": "gpu"},
        {"clean_source": "shred"},
        {"epoch_s": 100},
        {"watermark_s": -1.0},
        {"source_log_compact_interval": 0},
        {"source": "kafka"},
    ],
)
def test_job_config_refuses_bad_settings(bad: dict[str, object], tmp_path: Path) -> None:
    from streaming.config import JobConfig
    from streaming.errors import NonRetryableError

    with pytest.raises(NonRetryableError):
        JobConfig(tmp_path / "landing", tmp_path / "cp", "postgresql://x/y", **bad)  # type: ignore[arg-type]
