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


def _pg_array(offsets: Any, values: Any) -> Any:
    """Per-window Postgres array literals ('{a,b}') from flat values and list offsets, built in
    Arrow (no Python object per element); floats print in shortest round-trip form."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(values.type):
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


def _ranks(column: Any) -> tuple[Any, Any]:
    """(sorted distinct values, each row's rank among them) for a string column."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column.combine_chunks())
    dictionary = encoded.dictionary
    order = pc.array_sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return pc.take(dictionary, pa.array(order)), rank[codes]


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
    if both.num_rows == 0:
        return WindowUpdate(_table(widths, None), [])
    # Sort (window, meter) by integer ranks in numpy: the same order as sorting the strings,
    # at a fraction of the cost of Arrow's multi-column group_by and sort on strings.
    feeds, feed_rank = _ranks(both.column("feed"))
    kinds, kind_rank = _ranks(both.column("window_kind"))
    meters, meter_rank = _ranks(both.column("meter"))
    ws_all = both.column("ws").to_numpy()
    window_kind = feed_rank * len(kinds) + kind_rank
    order = np.lexsort((meter_rank, ws_all, window_kind))
    f, k, w, m = feed_rank[order], kind_rank[order], ws_all[order], meter_rank[order]
    new_window = np.empty(len(order), dtype=bool)
    new_window[0] = True
    new_window[1:] = (f[1:] != f[:-1]) | (k[1:] != k[:-1]) | (w[1:] != w[:-1])
    new_pair = new_window.copy()
    new_pair[1:] |= m[1:] != m[:-1]
    pair_starts = np.flatnonzero(new_pair)
    # A stored meter that the batch also touched is one (window, meter): add them up.
    total = np.add.reduceat(both.column("total").to_numpy()[order], pair_starts)
    n = np.add.reduceat(both.column("n").to_numpy()[order], pair_starts)
    pair_of_row = np.empty(len(order), dtype=np.int64)
    pair_of_row[order] = np.cumsum(new_pair) - 1
    first = new_window[pair_starts]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(pair_starts)))
    window_of_pair = np.cumsum(first) - 1
    per_meter = total / n
    value = np.add.reduceat(per_meter, starts)
    sums = np.add.reduceat(total, starts)
    readings = np.add.reduceat(n, starts)
    # Median of the per-meter means (percentile_cont(0.5): the middle two averaged).
    ranked = per_meter[np.lexsort((per_meter, window_of_pair))]
    median = (ranked[starts + (counts - 1) // 2] + ranked[starts + counts // 2]) / 2.0
    heads = pair_starts[starts]  # sorted row of each window's first pair
    offsets = pa.array(np.append(starts, len(pair_starts)).astype(np.int32))
    kind_of_window = kinds.take(pa.array(k[heads])).to_pylist()
    ws = w[heads]
    table = _table(
        widths,
        {
            "feed": feeds.take(pa.array(f[heads])),
            "window_kind": kind_of_window,
            "ws": ws,
            "we": ws + np.array([widths[x] for x in kind_of_window], dtype=float),
            "meters": _pg_array(offsets, _quoted(meters).take(pa.array(m[pair_starts]))),
            "totals": _pg_array(offsets, pa.array(total)),
            "counts": _pg_array(offsets, pa.array(n)),
            "value": value,
            "mean": sums / readings,
            "readings": readings,
            "meter_count": counts,
        },
    )
    spikes: list[tuple[str, str, str, float, float, str]] = []
    nb = batch.num_rows
    if nb:
        # The batch's rows are the first nb of `both`: each one's window via its pair.
        win = window_of_pair[pair_of_row[:nb]]
        five = pc.equal(batch.column("window_kind"), "5m").to_numpy(zero_copy_only=False)
        med = median[win]
        hit = five & (counts[win] >= min_meters)
        hit &= batch.column("max_value").to_numpy() > spike_ratio * np.maximum(med, spike_floor)
        for i in np.flatnonzero(hit).tolist():
            spikes.append(
                (
                    batch.column("feed")[i].as_py(),
                    "spike",
                    batch.column("meter")[i].as_py(),
                    batch.column("max_ts")[i].as_py(),
                    batch.column("max_value")[i].as_py(),
                    json.dumps({"window_median": float(med[i])}),
                )
            )
    return WindowUpdate(table, spikes)


def _quoted(values: Any) -> Any:
    """Strings as double-quoted Postgres array elements."""
    import pyarrow.compute as pc

    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise('"', escaped, '"', "")


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
