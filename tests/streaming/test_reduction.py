"""The per-meter reduction (streaming.reduction) without Spark: messages built as the landed
Arrow layout, reduced as the driver does, checked against plain pandas over the same readings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from streaming.config import JobConfig
from streaming.reduction import (
    MeterState,
    meter_reducer,
    packed_output,
    reduce_on_driver,
    summarize,
    unpack_output,
)
from streaming.reference import window_aggregates

T0 = 1_300_000_000.0 - (1_300_000_000.0 % 3600)  # on an epoch boundary


def _messages(rows: list[tuple[str, str, float, list[tuple[float, float]]]]) -> pa.Table:
    """(feed, meter, sent_at, readings) per message -> the columns the job selects."""
    readings = pa.array(
        [[{"ts": t, "value": v} for t, v in r] for *_, r in rows],
        pa.list_(pa.struct([("ts", pa.float64()), ("value", pa.float64())])),
    )
    return pa.table(
        {
            "feed": [r[0] for r in rows],
            "meter": [r[1] for r in rows],
            "sent_at": [r[2] for r in rows],
            "readings": readings,
        }
    )


def _cfg(tmp_path: Path, **kw: Any) -> JobConfig:
    return JobConfig(tmp_path / "landing", tmp_path / "cp", "postgresql://unused/x", **kw)


def _random_batch(seed: int) -> tuple[pa.Table, pd.DataFrame]:
    """Messages of 1-3 readings from 30 meters of two feeds over two hours, with duplicates
    (the same reading sent twice) and out-of-order messages; and the readings as a frame."""
    rng = np.random.default_rng(seed)
    rows, flat = [], []
    for feed in ("solar", "demand"):
        for i in range(15):
            meter = f"{feed}-{i:03d}"
            ts = T0 + 60.0 * np.sort(rng.choice(120, size=40, replace=False))
            vals = np.round(rng.random(40) * 10 + 0.5, 3)
            k = 0
            while k < len(ts):
                n = int(rng.integers(1, 4))
                chunk = list(zip(ts[k : k + n].tolist(), vals[k : k + n].tolist(), strict=True))
                rows.append((feed, meter, 1.0 + k, chunk))
                if rng.random() < 0.1:
                    rows.append((feed, meter, 2.0 + k, chunk))  # duplicate delivery
                flat.extend((feed, meter, t, v) for t, v in chunk)
                k += n
    order = rng.permutation(len(rows))
    table = _messages([rows[i] for i in order])
    frame = pd.DataFrame(flat, columns=["feed", "meter", "ts", "value"])
    return table, frame


def test_driver_reduction_matches_pandas_windows_once_per_reading(tmp_path: Path) -> None:
    table, frame = _random_batch(seed=4)
    cfg = _cfg(tmp_path, watermark_s=10**7)
    res = summarize(reduce_on_driver(table, meter_reducer(cfg, {}, {})), {}, {}, cfg)
    assert res is not None
    assert res.rows == sum(len(r) for r in table.column("readings").to_pylist())
    partials = res.partials.to_pandas()
    for kind, width in (("5m", 300), ("epoch", 3600)):
        got = (
            partials[partials["window_kind"] == kind]
            .assign(mean=lambda d: d["total"] / d["n"])
            .groupby(["feed", "ws"])
            .agg(value=("mean", "sum"), reading_count=("n", "sum"), meter_count=("n", "size"))
            .reset_index()
            .sort_values(["feed", "ws"], ignore_index=True)
        )
        want = window_aggregates(frame, width).sort_values(["feed", "ws"], ignore_index=True)
        assert got["ws"].tolist() == want["ws"].tolist()
        assert got["reading_count"].tolist() == want["reading_count"].tolist()
        assert got["meter_count"].tolist() == want["meter_count"].tolist()
        assert got["value"].to_numpy() == pytest.approx(want["value"].to_numpy(), rel=1e-12)
    newest = frame.groupby("feed")["ts"].max()
    assert res.watermarks == {f: [-1e18, newest[f] - 10**7] for f in ("solar", "demand")}
    assert not res.alerts  # duplicates are dropped silently, nothing late


def test_packed_executor_output_equals_driver_output(tmp_path: Path) -> None:
    table, _ = _random_batch(seed=5)
    reducer = meter_reducer(_cfg(tmp_path), {}, {})
    direct = reduce_on_driver(table, reducer)
    frame = table.to_pandas()
    packed = []
    for (feed, meter), rows in frame.groupby(["feed", "meter"], sort=True):
        group = table.take(pa.array(rows.index.to_numpy()))  # the group's messages in file order
        packed.append(packed_output(reducer)((pa.scalar(feed), pa.scalar(meter)), group))
    assert unpack_output(pa.concat_tables(packed)).equals(direct)


def test_late_repeated_and_stuck_readings_against_state(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, watermark_s=600.0, stuck_run=3)
    before = {"demand": T0 + 1000.0}
    # The meter already accepted T0+1200 (still inside the watermark) and had a run of 2 at 5.0.
    state: dict[tuple[str, str], MeterState] = {
        ("demand", "d1"): (T0 + 1200.0, 5.0, 2, [T0 + 1200.0])
    }
    table = _messages(
        [
            ("demand", "d1", 9.0, [(T0 + 100.0, 1.0)]),  # behind the watermark: late
            ("demand", "d1", 9.0, [(T0 + 1200.0, 5.0)]),  # already accepted: repeated
            ("demand", "d1", 9.0, [(T0 + 1260.0, 5.0), (T0 + 1320.0, 7.0)]),  # run reaches 3
        ]
    )
    res = summarize(reduce_on_driver(table, meter_reducer(cfg, before, state)), before, state, cfg)
    assert res is not None
    assert res.rows == 4
    rules = sorted((a[1], a[3]) for a in res.alerts)
    assert rules == [("late", T0 + 100.0), ("stuck", T0 + 1260.0)]
    assert res.partials.to_pandas().groupby("window_kind")["n"].sum().to_dict() == {
        "5m": 2,
        "epoch": 2,
    }
    [(_, _, last_ts, last_value, run, recent)] = res.state
    assert (last_ts, last_value, run) == (T0 + 1320.0, 7.0, 1)
    # The new watermark is newest - 600 = T0 + 720: every accepted timestamp stays in the set.
    assert res.watermarks["demand"] == [T0 + 1000.0, T0 + 1000.0]
    assert recent == [T0 + 1200.0, T0 + 1260.0, T0 + 1320.0]


def test_a_batch_of_only_repeats_changes_no_meter(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    state: dict[tuple[str, str], MeterState] = {("solar", "s1"): (T0, 2.0, 1, [T0])}
    table = _messages([("solar", "s1", 1.0, [(T0, 2.0)])])
    res = summarize(reduce_on_driver(table, meter_reducer(cfg, {}, state)), {}, state, cfg)
    assert res is not None and res.rows == 1
    assert res.meters == [] and res.state == [] and res.partials.num_rows == 0


def _messy_batch(seed: int) -> tuple[pa.Table, dict[str, float], dict[tuple[str, str], MeterState]]:
    """Late, repeated, stuck, negative and NaN readings from many meters, with per-meter state
    (last reading, run, recent set) for some of them and many sent_at points for one."""
    rng = np.random.default_rng(seed)
    rows = []
    for feed in ("solar", "demand"):
        for i in range(25):
            meter = f"{feed}-{i:02d}"
            for j in range(int(rng.integers(1, 8))):
                n = int(rng.integers(1, 4))
                ts = T0 + 60.0 * rng.integers(0, 90, n)
                val = rng.choice([0.0, 2.0, 2.0, -1.0, float("nan"), 3.5], n)
                sent = float(rng.integers(0, 3)) if i else 100.0 + j  # meter 00: many points
                rows.append((feed, meter, sent, list(zip(ts.tolist(), val.tolist(), strict=True))))
    rows += [("solar", "solar-00", 200.0 + k, [(T0 + k, 1.0)]) for k in range(40)]
    table = _messages([rows[i] for i in rng.permutation(len(rows))])
    before = {"solar": T0 + 1200.0, "demand": T0 + 600.0}
    state: dict[tuple[str, str], MeterState] = {}
    for feed in ("solar", "demand"):
        for i in range(0, 25, 3):
            recent = sorted({T0 + 60.0 * x for x in rng.integers(0, 90, 3).tolist()})
            state[(feed, f"{feed}-{i:02d}")] = (T0 + 60.0 * (20 + i), 2.0, i % 5, recent)
    state[("demand", "demand-24")] = (None, None, 0, [])
    return table, before, state


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    def key(x: object) -> object:
        return "nan" if isinstance(x, float) and x != x else x

    return sorted((tuple(key(v) for v in row.values()) for row in table.to_pylist()), key=repr)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("store", [False, True])
def test_vectorised_batch_reduction_equals_per_meter_reduction(
    seed: int, store: bool, tmp_path: Path
) -> None:
    from streaming.reduction import reduce_batch

    cfg = _cfg(tmp_path, watermark_s=900.0, stuck_run=2, store_readings=store)
    table, before, state = _messy_batch(seed)
    per_meter = reduce_on_driver(table, meter_reducer(cfg, before, state))
    at_once = reduce_batch(table, cfg, before, state)
    kinds = set(per_meter.column("kind").to_pylist())
    assert {"alert", "partial", "meter", "keep", "sent"} <= kinds  # the batch exercises them all
    assert _rows(at_once) == _rows(per_meter)
