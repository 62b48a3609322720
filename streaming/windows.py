"""Window state merged on the driver: one stored row per (feed, window kind, window start) holds
the per-meter sums and counts as parallel arrays sorted by meter (``stream_window_meters``).

A micro-batch's per-(window, meter) partials (from the Spark reduction) are added to the stored
arrays of the windows it touched, and each touched window's aggregate (sum over meters of each
meter's mean, mean of all readings, reading and meter counts) and the 5-minute spike check
(a meter's largest reading in the batch far above the median of the window's per-meter means)
are computed here in numpy, so Postgres writes one row per window instead of one per meter."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

KEYS = ["feed", "window_kind", "ws"]
PARTIAL_COLUMNS = ["feed", "window_kind", "ws", "meter", "total", "n"]


def partial_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("feed", pa.string()),
            ("window_kind", pa.string()),
            ("ws", pa.float64()),
            ("meter", pa.string()),
            ("total", pa.float64()),
            ("n", pa.int64()),
        ]
    )


@dataclass
class WindowUpdate:
    """Every touched window after the merge: `table` has the columns of the job's temp table
    batch_windows (arrays as Postgres array literals, ready for COPY), `spikes` alert rows."""

    table: Any  # pyarrow.Table
    spikes: list[tuple[str, str, str, float, float, str]]  # (feed, rule, meter, ts, value, detail)

    def __len__(self) -> int:
        return int(self.table.num_rows)


def _pg_array(offsets: Any, values: Any, quote: bool = False) -> Any:
    """Per-window Postgres array literals ('{a,b}') from flat values and list offsets, built in
    Arrow (no Python object per element); floats print in shortest round-trip form."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if quote:
        escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
        values = pc.binary_join_element_wise('"', escaped, '"', "")
    else:
        values = values.cast(pa.string())
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, values), ",")
    return pc.binary_join_element_wise("{", joined, "}", "")


def stored_table(rows: list[tuple[Any, ...]]) -> Any:
    """Stored window rows (feed, kind, start seconds, meters, totals, counts) -> one Arrow row
    per (window, meter)."""
    import pyarrow as pa

    cols: dict[str, list[Any]] = {c: [] for c in PARTIAL_COLUMNS}
    for feed, kind, ws, meters, totals, counts in rows:
        k = len(meters)
        cols["feed"].extend([feed] * k)
        cols["window_kind"].extend([kind] * k)
        cols["ws"].extend([float(ws)] * k)
        cols["meter"].extend(meters)
        cols["total"].extend(totals)
        cols["n"].extend(counts)
    return pa.Table.from_pydict(cols, schema=partial_schema())


def merge_windows(
    batch: Any,
    stored: Any,
    widths: dict[str, float],
    spike_ratio: float,
    spike_floor: float,
    min_meters: int = 3,
) -> WindowUpdate:
    """`batch`: the batch's partials (PARTIAL_COLUMNS + max_value, max_ts), at most one row per
    (window, meter); `stored`: the stored partials of the same windows (PARTIAL_COLUMNS);
    `widths`: window kind -> width in seconds."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    both = pa.concat_tables([batch.select(PARTIAL_COLUMNS).cast(partial_schema()), stored])
    merged = (
        both.group_by([*KEYS, "meter"], use_threads=False)
        .aggregate([("total", "sum"), ("n", "sum")])
        .sort_by([(c, "ascending") for c in [*KEYS, "meter"]])
    )
    if merged.num_rows == 0:
        return WindowUpdate(_table(widths, None), [])
    windows = merged.group_by(KEYS, use_threads=False).aggregate([("meter", "count")])
    # The merge is sorted by window, so each window's meters are one contiguous run.
    counts = windows.column("meter_count").to_numpy().astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    total = merged.column("total_sum").to_numpy()
    n = merged.column("n_sum").to_numpy()
    per_meter = total / n
    wid = np.repeat(np.arange(len(counts)), counts)
    value = np.add.reduceat(per_meter, starts)
    sums = np.add.reduceat(total, starts)
    readings = np.add.reduceat(n, starts)
    # Median of the per-meter means (percentile_cont(0.5): the middle two averaged).
    ranked = per_meter[np.lexsort((per_meter, wid))]
    median = (ranked[starts + (counts - 1) // 2] + ranked[starts + counts // 2]) / 2.0
    offsets = pa.array(np.concatenate([starts, [len(merged)]]).astype(np.int32))
    kinds = windows.column("window_kind")
    ws = windows.column("ws").to_numpy()
    table = _table(
        widths,
        {
            "feed": windows.column("feed"),
            "window_kind": kinds,
            "ws": ws,
            "we": ws + np.array([widths[k] for k in kinds.to_pylist()], dtype=float),
            "meters": _pg_array(offsets, merged.column("meter").combine_chunks(), quote=True),
            "totals": _pg_array(offsets, merged.column("total_sum").combine_chunks()),
            "counts": _pg_array(offsets, merged.column("n_sum").combine_chunks()),
            "value": value,
            "mean": sums / readings,
            "readings": readings,
            "meter_count": counts,
        },
    )
    spikes: list[tuple[str, str, str, float, float, str]] = []
    five = batch.filter(pc.equal(batch.column("window_kind"), "5m"))
    if five.num_rows:
        stats = windows.select(KEYS).append_column("median", pa.array(median))
        stats = stats.append_column("meters", pa.array(counts))
        joined = five.join(stats, keys=KEYS, join_type="inner")
        med = joined.column("median").to_numpy()
        hit = (joined.column("meters").to_numpy() >= min_meters) & (
            joined.column("max_value").to_numpy() > spike_ratio * np.maximum(med, spike_floor)
        )
        if hit.any():
            rows = joined.filter(pa.array(hit))
            for feed, meter, ts, v, m in zip(
                *(rows.column(c).to_pylist() for c in ("feed", "meter", "max_ts", "max_value")),
                med[hit].tolist(),
                strict=True,
            ):
                spikes.append((feed, "spike", meter, ts, v, json.dumps({"window_median": m})))
    return WindowUpdate(table, spikes)


def _table(widths: dict[str, float], columns: dict[str, Any] | None) -> Any:
    import pyarrow as pa

    schema = pa.schema(
        [
            ("feed", pa.string()),
            ("window_kind", pa.string()),
            ("ws", pa.float64()),
            ("we", pa.float64()),
            ("meters", pa.string()),
            ("totals", pa.string()),
            ("counts", pa.string()),
            ("value", pa.float64()),
            ("mean", pa.float64()),
            ("readings", pa.int64()),
            ("meter_count", pa.int64()),
        ]
    )
    if columns is None:
        return schema.empty_table()
    return pa.table({f.name: pa.array(columns[f.name], f.type) for f in schema}, schema=schema)
