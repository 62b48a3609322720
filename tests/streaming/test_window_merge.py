"""The driver's window merge (streaming.windows.merge_windows) against pandas over the same
partials: stored meters the batch touches again are summed, every window's meters stay one
sorted array, and spikes are judged against the merged window's median."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from streaming.windows import PARTIAL_COLUMNS, merge_windows, partial_schema

WIDTHS = {"5m": 300.0, "epoch": 3600.0}


def _partials(rng: np.random.Generator, rows: int, batch: bool) -> pa.Table:
    frame = pd.DataFrame(
        {
            # Awkward names on purpose: quotes and backslashes must survive as array elements.
            "feed": rng.choice(["solar", "demand", 'odd"feed\\'], rows),
            "window_kind": rng.choice(["5m", "epoch"], rows),
            "ws": 1.0e9 + 300.0 * rng.integers(0, 30, rows),
            "meter": rng.choice([f"m{i}" for i in range(12)] + ['q"uote', "b\\s"], rows),
            "total": rng.random(rows) * 10,
            "n": rng.integers(1, 5, rows),
        }
    ).drop_duplicates(["feed", "window_kind", "ws", "meter"])
    if batch:
        frame["max_value"] = rng.random(len(frame)) * 60
        frame["max_ts"] = frame["ws"] + 1.0
        return pa.Table.from_pandas(frame, preserve_index=False)
    return pa.Table.from_pandas(frame, preserve_index=False).cast(partial_schema())


def _array(literal: str) -> list[str]:
    body = literal[1:-1]
    out, cur, quoted, i = [], "", False, 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            cur += body[i + 1]
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    return [*out, cur]


def test_merge_equals_pandas_with_stored_overlap_and_spikes() -> None:
    rng = np.random.default_rng(11)
    batch, stored = _partials(rng, 3000, True), _partials(rng, 2000, False)
    got = merge_windows(batch, stored, WIDTHS, spike_ratio=4.0, spike_floor=0.1)

    both = pd.concat([batch.select(PARTIAL_COLUMNS).to_pandas(), stored.to_pandas()])
    keys = ["feed", "window_kind", "ws"]
    per_meter = both.groupby([*keys, "meter"], sort=True)[["total", "n"]].sum().reset_index()
    per_meter["mean"] = per_meter["total"] / per_meter["n"]
    expected = (
        per_meter.groupby(keys, sort=True)
        .agg(
            value=("mean", "sum"),
            total=("total", "sum"),
            readings=("n", "sum"),
            meter_count=("meter", "count"),
            meters=("meter", list),
            totals=("total", list),
            counts=("n", list),
            median=("mean", "median"),
        )
        .reset_index()
    )
    table = got.table.to_pandas()
    assert len(table) == len(expected) and len(table) > 100
    assert table["feed"].tolist() == expected["feed"].tolist()
    assert table["window_kind"].tolist() == expected["window_kind"].tolist()
    assert table["ws"].tolist() == expected["ws"].tolist()
    assert (table["we"] - table["ws"]).tolist() == [WIDTHS[k] for k in expected["window_kind"]]
    assert table["meter_count"].tolist() == expected["meter_count"].tolist()
    assert table["readings"].tolist() == expected["readings"].tolist()
    assert table["value"].to_numpy() == pytest.approx(expected["value"].to_numpy(), rel=1e-12)
    mean = (expected["total"] / expected["readings"]).to_numpy()
    assert table["mean"].to_numpy() == pytest.approx(mean, rel=1e-12)
    assert [_array(m) for m in table["meters"]] == expected["meters"].tolist()
    for literal, totals in zip(table["totals"], expected["totals"], strict=True):
        assert [float(x) for x in _array(literal)] == pytest.approx(totals, rel=1e-15)
    assert [[int(x) for x in _array(c)] for c in table["counts"]] == expected["counts"].tolist()

    stats = expected.set_index(keys)
    want = set()
    for row in batch.to_pylist():
        if row["window_kind"] != "5m":
            continue
        window = stats.loc[(row["feed"], row["window_kind"], row["ws"])]
        floor = max(window["median"], 0.1)
        if window["meter_count"] >= 3 and row["max_value"] > 4.0 * floor:
            want.add((row["feed"], row["meter"], row["max_ts"], row["max_value"]))
    assert want, "the data should hold spikes"
    assert {(f, m, ts, v) for f, _rule, m, ts, v, _d in got.spikes} == want
    assert {rule for _f, rule, *_ in got.spikes} == {"spike"}


def test_merge_of_nothing_is_empty() -> None:
    empty = _partials(np.random.default_rng(1), 10, True).slice(0, 0)
    got = merge_windows(empty, partial_schema().empty_table(), WIDTHS, 4.0, 0.1)
    assert len(got) == 0 and got.spikes == []
