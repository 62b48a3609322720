"""The per-(feed, meter) reduction of a micro-batch, pure numpy/Arrow (no Spark, no database).

``meter_reducer`` is the function Spark runs on each (feed, meter) group, on the executors
(``applyInArrow``, output packed as one Arrow blob per group by ``packed_output``) or on the
driver (``reduce_on_driver`` over a collected batch): lateness against the per-feed watermark in
force, de-duplication (within the batch and against the meter's accepted timestamps still inside
the watermark), stuck runs continued from per-meter state, negative generation, per-(window,
meter) sums and counts for both window kinds, the meter's new rule state and a few sent_at
samples for latency. ``summarize`` turns the reduced rows into the batch's ``BatchResult``: new
watermarks, per-meter state, alerts, window partials and latency quantiles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streaming.config import JobConfig

ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)  # window alignment origin (midnight UTC)

QUANTILES = [q / 100 for q in (*range(5, 100, 5), 99)]
SENT_SAMPLES = 32  # sent_at points per meter and batch, at most (latency quantiles)
# One schema for everything the per-meter reduction emits; `kind` says what a row is:
#   partial  tag=window kind, t=window start, v=sum, x=max value, y=ts of max, n=count
#   alert    tag=rule, t=event ts, v=value, detail=JSON
#   meter    t=first / v=last accepted ts (NaN if none), x=newest ts seen, n=rows, m=accepted,
#            y/z/r = last ts / value / run of the meter's stuck state after the batch
#   keep     t=accepted ts that may still be inside the watermark (de-dup set)
#   sent     t=sent_at sample, x=weight (readings it stands for)
#   reading  t=ts, v=value (only with store_readings)
OUT_SCHEMA = (
    "kind STRING, feed STRING, meter STRING, tag STRING, t DOUBLE, v DOUBLE, x DOUBLE,"
    " y DOUBLE, z DOUBLE, n LONG, m LONG, r LONG, detail STRING"
)
PACKED_SCHEMA = "payload BINARY"  # one Arrow IPC stream (OUT_SCHEMA rows) per meter group
OUT_COLUMNS = ("kind", "feed", "meter", "tag", "t", "v", "x", "y", "z", "n", "m", "r", "detail")
MeterState = tuple[float | None, float | None, int, list[float]]  # last ts, value, run, recent


def meter_reducer(
    cfg: JobConfig, before: dict[str, float], state: dict[tuple[str, str], MeterState]
) -> Any:
    """The per-(feed, meter) function Spark runs on each group of the batch (Arrow in, Arrow
    out). `before` (watermarks in force) and `state` (per-meter rule state) travel in its
    closure: both are per feed or per meter, never per reading."""
    windows = (("5m", float(cfg.window_s)), ("epoch", float(cfg.epoch_s)))
    origin = ORIGIN.timestamp()
    stuck_run, watermark_s, keep_readings = cfg.stuck_run, cfg.watermark_s, cfg.store_readings

    def reduce_meter(key: tuple[Any, ...], table: Any) -> Any:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        schema = _out_arrow_schema()
        feed, meter = str(key[0].as_py()), str(key[1].as_py())
        # One row per message: flatten the readings in Arrow (no per-reading rows in the JVM).
        readings = table.column("readings")
        counts = pc.fill_null(pc.list_value_length(readings), 0).to_numpy()
        flat = pc.list_flatten(readings)
        ts = pc.struct_field(flat, "ts").to_numpy().astype(float)
        value = pc.struct_field(flat, "value").to_numpy().astype(float)
        sent = np.repeat(table.column("sent_at").to_numpy().astype(float), counts)
        ok = ~(np.isnan(ts) | np.isnan(value))
        ts, value, sent = ts[ok], value[ok], sent[ok]
        batches: list[Any] = []

        def add(kind: str, size: int, **cols: Any) -> None:
            consts = {"kind": kind, "feed": feed, "meter": meter}
            arrays = []
            for f in schema:
                col = consts.get(f.name, cols.get(f.name))
                if col is None:
                    arrays.append(pa.nulls(size, f.type))
                elif isinstance(col, str):
                    arrays.append(pa.repeat(pa.scalar(col, f.type), size))
                else:
                    arrays.append(pa.array(col, f.type))
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))

        if not len(ts):
            return schema.empty_table()
        wm = before.get(feed, -1e18)
        late = ts < wm
        if late.any():
            lt, first = np.unique(ts[late], return_index=True)
            details = [json.dumps({"watermark": wm, "behind_s": wm - t}) for t in lt.tolist()]
            add("alert", len(lt), tag="late", t=lt, v=value[late][first], detail=details)
        # Accepted: inside the watermark, once per timestamp, not one the meter already had.
        acc_ts, first = np.unique(ts[~late], return_index=True)
        acc_val = value[~late][first]
        last_ts, last_value, run0, recent = state.get((feed, meter), (None, None, 0, []))
        if recent and len(acc_ts):
            new = ~np.isin(acc_ts, np.asarray(recent, dtype=float))
            acc_ts, acc_val = acc_ts[new], acc_val[new]
        k = len(acc_ts)
        if k:
            # Stuck runs continue from the meter's state over readings newer than its last one;
            # an out-of-order reading cannot extend or break a run that already moved past it.
            fresh = acc_ts > last_ts if last_ts is not None else np.ones(k, dtype=bool)
            f_ts, f_val = acc_ts[fresh], acc_val[fresh]
            if len(f_ts):
                prev = np.empty(len(f_val))
                prev[0] = np.nan if last_value is None else last_value
                prev[1:] = f_val[:-1]
                brk = np.isnan(prev) | (f_val != prev)
                idx = np.arange(len(f_val))
                start = np.maximum.accumulate(np.where(brk, idx, 0))
                runs = idx - start + 1 + np.where(np.cumsum(brk) == 0, run0, 0)
                hit = (runs >= stuck_run) & (f_val != 0)
                if hit.any():
                    add(
                        "alert",
                        int(hit.sum()),
                        tag="stuck",
                        t=f_ts[hit],
                        v=f_val[hit],
                        detail=[json.dumps({"run": int(x)}) for x in runs[hit]],
                    )
                last_ts, last_value, run0 = float(f_ts[-1]), float(f_val[-1]), int(runs[-1])
            if feed == "solar":
                neg = acc_val < 0
                if neg.any():
                    c = int(neg.sum())
                    add(
                        "alert",
                        c,
                        tag="negative_generation",
                        t=acc_ts[neg],
                        v=acc_val[neg],
                        detail="{}",
                    )
            for kind, width in windows:
                ws = origin + np.floor((acc_ts - origin) / width) * width  # sorted with acc_ts
                order = np.lexsort((-acc_val, ws))  # per window: largest value first
                starts, counts = np.unique(ws, return_index=True, return_counts=True)[1:]
                top = order[starts]
                add(
                    "partial",
                    len(starts),
                    tag=kind,
                    t=ws[starts],
                    v=np.add.reduceat(acc_val, starts),
                    x=acc_val[top],
                    y=acc_ts[top],
                    n=counts,
                )
            keep = acc_ts >= ts.max() - watermark_s  # the driver cuts at the feed's watermark
            add("keep", int(keep.sum()), t=acc_ts[keep])
            if keep_readings:
                add("reading", k, t=acc_ts, v=acc_val)
        add(
            "meter",
            1,
            t=[acc_ts[0] if k else np.nan],
            v=[acc_ts[-1] if k else np.nan],
            x=[ts.max()],
            n=[len(ts)],
            m=[k],
            y=[last_ts],
            z=[last_value],
            r=[run0],
        )
        points, weights = np.unique(sent, return_counts=True)
        if len(points) > SENT_SAMPLES:
            points = np.quantile(sent, np.linspace(0, 1, SENT_SAMPLES))
            weights = np.full(SENT_SAMPLES, len(sent) / SENT_SAMPLES)
        add("sent", len(points), t=points, x=weights.astype(float))
        return pa.Table.from_batches(batches, schema=schema)

    return reduce_meter


def reduce_on_driver(table: Any, reducer: Any) -> Any:
    """Run `reducer` over each (feed, meter) group of a collected batch, as applyInArrow would
    on the executors (a stable sort keeps each group's messages in file order)."""
    import pyarrow as pa

    if table.num_rows == 0:
        return _out_arrow_schema().empty_table()
    table = table.sort_by([("feed", "ascending"), ("meter", "ascending")])
    feeds, meters = table.column("feed").to_pylist(), table.column("meter").to_pylist()
    keys = list(zip(feeds, meters, strict=True))
    outs = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            feed, meter = keys[start]
            outs.append(reducer((pa.scalar(feed), pa.scalar(meter)), table.slice(start, i - start)))
            start = i
    return pa.concat_tables(outs)


def packed_output(reducer: Any) -> Any:
    """`reducer` with its output packed into one Arrow IPC blob per group: the JVM then moves a
    row per meter instead of a row per window partial (it never reads them)."""

    def run(key: tuple[Any, ...], table: Any) -> Any:
        import pyarrow as pa

        out = reducer(key, table)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, out.schema) as writer:
            writer.write_table(out)
        return pa.table({"payload": pa.array([sink.getvalue().to_pybytes()], pa.binary())})

    return run


def unpack_output(packed: Any) -> Any:
    import pyarrow as pa

    tables = [pa.ipc.open_stream(blob).read_all() for blob in packed.column("payload").to_pylist()]
    return pa.concat_tables(tables) if tables else _out_arrow_schema().empty_table()


def _out_arrow_schema() -> Any:
    import pyarrow as pa

    types = {"n": pa.int64(), "m": pa.int64(), "r": pa.int64()}
    strings = ("kind", "feed", "meter", "tag", "detail")
    return pa.schema(
        [(c, pa.string() if c in strings else types.get(c, pa.float64())) for c in OUT_COLUMNS]
    )


@dataclass
class BatchResult:
    """What one micro-batch reduced to on the driver: per feed, per meter and per window."""

    rows: int
    quantiles: list[float]
    watermarks: dict[str, list[float]]  # feed -> [before, after]
    meters: list[tuple[str, str, float, float]]  # feed, meter, first ts, last ts
    state: list[tuple[str, str, float | None, float | None, int, list[float]]]
    alerts: list[tuple[str, str, str, float, float, str]]  # feed, rule, meter, ts, value, detail
    partials: Any  # pyarrow.Table: feed, window_kind, ws, meter, total, n, max_value, max_ts
    readings: Any = None  # pyarrow.Table of accepted readings (store_readings only)


def summarize(
    out: Any, before: dict[str, float], state: dict[tuple[str, str], MeterState], cfg: JobConfig
) -> BatchResult | None:
    """The reduced rows of a whole batch (`meter_reducer`'s output over every group) -> the
    batch's result: per-feed watermarks advanced from `before`, each meter's new state, alerts,
    window partials and sent_at quantiles. None when the batch held no readings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if out.num_rows == 0:
        return None
    kind = out.column("kind")

    def rows_of(name: str) -> Any:
        return out.filter(pc.equal(kind, name))

    meters_t = rows_of("meter")
    rows = int(pc.sum(meters_t.column("n")).as_py() or 0)
    if not rows:
        return None
    newest: dict[str, float] = {}
    for f, x in zip(
        meters_t.column("feed").to_pylist(), meters_t.column("x").to_pylist(), strict=True
    ):
        newest[f] = max(newest.get(f, -1e18), x)
    watermarks: dict[str, list[float]] = {f: [w, w] for f, w in before.items()}
    for f, x in newest.items():
        b = before.get(f, -1e18)
        watermarks[f] = [b, max(b, x - cfg.watermark_s)]
    keep: dict[tuple[str, str], list[float]] = {}
    keep_t = rows_of("keep")
    for f, m, t in zip(
        *(keep_t.column(c).to_pylist() for c in ("feed", "meter", "t")), strict=True
    ):
        if t >= watermarks[f][1]:
            keep.setdefault((f, m), []).append(t)
    meters: list[tuple[str, str, float, float]] = []
    new_state: list[tuple[str, str, float | None, float | None, int, list[float]]] = []
    cols = ("feed", "meter", "t", "v", "m", "y", "z", "r")
    for f, m, lo, hi, k, lt, lv, run in zip(
        *(meters_t.column(c).to_pylist() for c in cols), strict=True
    ):
        if not k:
            continue  # only late or repeated readings: nothing about the meter changed
        meters.append((f, m, lo, hi))
        after = watermarks[f][1]
        old = [t for t in state.get((f, m), (None, None, 0, []))[3] if t >= after]
        new_state.append((f, m, lt, lv, int(run), sorted(set(old) | set(keep.get((f, m), [])))))
    alerts_t = rows_of("alert")
    alerts = list(
        zip(
            *(alerts_t.column(c).to_pylist() for c in ("feed", "tag", "meter", "t", "v", "detail")),
            strict=True,
        )
    )
    sent_t = rows_of("sent")
    quantiles = _weighted_quantiles(
        sent_t.column("t").to_numpy(), sent_t.column("x").to_numpy(), QUANTILES
    )
    part = rows_of("partial")
    partials = pa.table(
        {
            "feed": part.column("feed"),
            "window_kind": part.column("tag"),
            "ws": part.column("t"),
            "meter": part.column("meter"),
            "total": part.column("v"),
            "n": part.column("n"),
            "max_value": part.column("x"),
            "max_ts": part.column("y"),
        }
    )
    readings = None
    if cfg.store_readings:
        rd = rows_of("reading")
        readings = pa.table(
            {
                "feed": rd.column("feed"),
                "meter": rd.column("meter"),
                "ts": _timestamps(rd.column("t")),
                "value": rd.column("v"),
            }
        )
    return BatchResult(rows, quantiles, watermarks, meters, new_state, alerts, partials, readings)


def _weighted_quantiles(points: Any, weights: Any, qs: list[float]) -> list[float]:
    """Quantiles of `points` where each stands for `weights` readings (the batch's sent_at)."""
    import numpy as np

    if not len(points):
        return []
    order = np.argsort(points)
    cum = np.cumsum(np.asarray(weights, dtype=float)[order])
    at = np.searchsorted(cum, np.asarray(qs) * cum[-1], side="left")
    return [float(x) for x in np.asarray(points, dtype=float)[order][np.minimum(at, len(cum) - 1)]]


def _timestamps(seconds: Any) -> Any:
    """Unix seconds (double) -> Arrow timestamps in microseconds, as Postgres rounds them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    micros = pc.round(pc.multiply(seconds, 1_000_000.0))
    return pc.cast(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def reduce_batch(
    table: Any, cfg: JobConfig, before: dict[str, float], state: dict[tuple[str, str], MeterState]
) -> Any:
    """The same rows as `reduce_on_driver(table, meter_reducer(cfg, before, state))`, computed
    for every (feed, meter) at once: one sort of the batch's readings by (meter, ts) and
    segment-wise numpy instead of a Python call per meter. A fleet batch holds one or two
    readings from each of thousands of meters, where the per-meter calls cost more than the
    arithmetic (10,000 meters: seconds a batch)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = _out_arrow_schema()
    if table.num_rows == 0:
        return schema.empty_table()
    # Group codes in (feed, meter) order, as reduce_on_driver visits the groups.
    keys = pa.table({"feed": table.column("feed"), "meter": table.column("meter")})
    uniq = keys.group_by(["feed", "meter"], use_threads=False).aggregate([])
    uniq = uniq.sort_by([("feed", "ascending"), ("meter", "ascending")])
    g_feed, g_meter = uniq.column("feed").to_pylist(), uniq.column("meter").to_pylist()
    code = {k: i for i, k in enumerate(zip(g_feed, g_meter, strict=True))}
    msg_g = np.fromiter(
        (
            code[k]
            for k in zip(
                table.column("feed").to_pylist(), table.column("meter").to_pylist(), strict=True
            )
        ),
        dtype=np.int64,
        count=table.num_rows,
    )
    readings = table.column("readings")
    counts = pc.fill_null(pc.list_value_length(readings), 0).to_numpy()
    flat = pc.list_flatten(readings)
    ts = pc.struct_field(flat, "ts").to_numpy().astype(float)
    value = pc.struct_field(flat, "value").to_numpy().astype(float)
    sent = np.repeat(table.column("sent_at").to_numpy().astype(float), counts)
    g = np.repeat(msg_g, counts)
    ok = ~(np.isnan(ts) | np.isnan(value))
    ts, value, sent, g = ts[ok], value[ok], sent[ok], g[ok]
    if not len(ts):
        return schema.empty_table()
    ng = len(g_feed)
    gfeed = np.asarray(g_feed, dtype=object)
    wm = np.array([before.get(f, -1e18) for f in g_feed])
    batches: list[Any] = []

    def add(kind: str, grp: Any, **cols: Any) -> None:
        size = len(grp)
        if not size:
            return
        arrays = []
        for f in schema:
            if f.name == "kind":
                arrays.append(pa.repeat(pa.scalar(kind, f.type), size))
            elif f.name == "feed":
                arrays.append(pa.array(gfeed[grp], f.type))
            elif f.name == "meter":
                arrays.append(pc.take(uniq.column("meter"), pa.array(grp)).combine_chunks())
            elif f.name in cols:
                col = cols[f.name]
                if isinstance(col, str):
                    arrays.append(pa.repeat(pa.scalar(col, f.type), size))
                else:
                    arrays.append(pa.array(col, f.type))
            else:
                arrays.append(pa.nulls(size, f.type))
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))

    # Stable order by (meter, ts): within a meter, the file order of equal timestamps is kept.
    order = np.lexsort((ts, g))
    ts, value, sent, g = ts[order], value[order], sent[order], g[order]
    late = ts < wm[g]
    first_of = np.ones(len(ts), dtype=bool)  # first reading of its (meter, ts)
    first_of[1:] = (g[1:] != g[:-1]) | (ts[1:] != ts[:-1])
    lt = late & first_of
    if lt.any():
        w = wm[g[lt]]
        details = [
            json.dumps({"watermark": a, "behind_s": a - b})
            for a, b in zip(w.tolist(), ts[lt].tolist(), strict=True)
        ]
        add("alert", g[lt], tag="late", t=ts[lt], v=value[lt], detail=details)
    acc = ~late & first_of
    a_ts, a_val, a_g = ts[acc], value[acc], g[acc]
    # Not one the meter already accepted (its recent set in state).
    # (Looked up per meter of the batch: the state holds the whole fleet.)
    recent = {(x, t) for k, x in code.items() if (s := state.get(k)) and s[3] for t in s[3]}
    if recent and len(a_ts):
        new = np.fromiter(
            ((x, t) not in recent for x, t in zip(a_g.tolist(), a_ts.tolist(), strict=True)),
            dtype=bool,
            count=len(a_ts),
        )
        a_ts, a_val, a_g = a_ts[new], a_val[new], a_g[new]
    k_per = np.bincount(a_g, minlength=ng)
    st = [state.get((f, m), (None, None, 0, [])) for f, m in zip(g_feed, g_meter, strict=True)]
    last_ts = np.array([np.nan if s[0] is None else s[0] for s in st], dtype=float)
    last_val = np.array([np.nan if s[1] is None else s[1] for s in st], dtype=float)
    had_last = np.array([s[0] is not None for s in st])
    had_val = np.array([s[1] is not None for s in st])
    run0 = np.array([int(s[2]) for s in st], dtype=np.int64)
    out_last_ts, out_last_val, out_run = last_ts.copy(), last_val.copy(), run0.copy()
    out_has_ts, out_has_val = had_last.copy(), had_val.copy()
    if len(a_ts):
        fresh = ~had_last[a_g] | (a_ts > np.where(had_last, last_ts, -np.inf)[a_g])
        f_ts, f_val, f_g = a_ts[fresh], a_val[fresh], a_g[fresh]
        nf = len(f_ts)
        if nf:
            head = np.ones(nf, dtype=bool)
            head[1:] = f_g[1:] != f_g[:-1]
            prev = np.empty(nf)
            prev[1:] = f_val[:-1]
            prev[head] = np.where(had_val[f_g[head]], last_val[f_g[head]], np.nan)
            brk = np.isnan(prev) | (f_val != prev)
            idx = np.arange(nf)
            gfirst = np.maximum.accumulate(np.where(head, idx, 0))
            start = np.maximum.accumulate(np.where(brk, idx, gfirst))
            cs = np.cumsum(brk)
            before_group = (cs - brk)[gfirst]
            runs = idx - start + 1 + np.where(cs - before_group == 0, run0[f_g], 0)
            hit = (runs >= cfg.stuck_run) & (f_val != 0)
            if hit.any():
                add(
                    "alert",
                    f_g[hit],
                    tag="stuck",
                    t=f_ts[hit],
                    v=f_val[hit],
                    detail=[json.dumps({"run": int(x)}) for x in runs[hit]],
                )
            tail = np.ones(nf, dtype=bool)
            tail[:-1] = f_g[1:] != f_g[:-1]
            out_last_ts[f_g[tail]] = f_ts[tail]
            out_last_val[f_g[tail]] = f_val[tail]
            out_run[f_g[tail]] = runs[tail]
            out_has_ts[f_g[tail]] = True
            out_has_val[f_g[tail]] = True
        neg = (gfeed[a_g] == "solar") & (a_val < 0)
        if neg.any():
            add(
                "alert",
                a_g[neg],
                tag="negative_generation",
                t=a_ts[neg],
                v=a_val[neg],
                detail="{}",
            )
        origin = ORIGIN.timestamp()
        for kind, width in (("5m", float(cfg.window_s)), ("epoch", float(cfg.epoch_s))):
            ws = origin + np.floor((a_ts - origin) / width) * width
            top_order = np.lexsort((-a_val, ws, a_g))
            newrun = np.ones(len(ws), dtype=bool)
            newrun[1:] = (a_g[1:] != a_g[:-1]) | (ws[1:] != ws[:-1])
            starts = np.flatnonzero(newrun)
            n = np.diff(np.append(starts, len(ws)))
            top = top_order[starts]
            add(
                "partial",
                a_g[starts],
                tag=kind,
                t=ws[starts],
                v=np.add.reduceat(a_val, starts),
                x=a_val[top],
                y=a_ts[top],
                n=n,
            )
    ts_max = np.full(ng, -np.inf)
    np.maximum.at(ts_max, g, ts)
    if len(a_ts):
        keep = a_ts >= ts_max[a_g] - cfg.watermark_s
        add("keep", a_g[keep], t=a_ts[keep])
        if cfg.store_readings:
            add("reading", a_g, t=a_ts, v=a_val)
    present = np.flatnonzero(np.bincount(g, minlength=ng) > 0)
    a_first = np.full(ng, np.nan)
    a_last = np.full(ng, np.nan)
    if len(a_ts):
        head = np.ones(len(a_ts), dtype=bool)
        head[1:] = a_g[1:] != a_g[:-1]
        tail = np.ones(len(a_ts), dtype=bool)
        tail[:-1] = a_g[1:] != a_g[:-1]
        a_first[a_g[head]] = a_ts[head]
        a_last[a_g[tail]] = a_ts[tail]
    add(
        "meter",
        present,
        t=a_first[present],
        v=a_last[present],
        x=ts_max[present],
        n=np.bincount(g, minlength=ng)[present],
        m=k_per[present],
        y=pa.array(out_last_ts[present], pa.float64(), mask=~out_has_ts[present]),
        z=pa.array(out_last_val[present], pa.float64(), mask=~out_has_val[present]),
        r=out_run[present],
    )
    # sent_at samples per meter: distinct points with their counts, or 32 quantiles.
    so = np.lexsort((sent, g))
    s_sent, s_g = sent[so], g[so]
    newpt = np.ones(len(so), dtype=bool)
    newpt[1:] = (s_g[1:] != s_g[:-1]) | (s_sent[1:] != s_sent[:-1])
    pts = np.flatnonzero(newpt)
    pt_count = np.diff(np.append(pts, len(so)))
    per_g = np.bincount(s_g[pts], minlength=ng)
    small = per_g[s_g[pts]] <= SENT_SAMPLES
    add("sent", s_g[pts][small], t=s_sent[pts][small], x=pt_count[small].astype(float))
    for grp in np.flatnonzero(per_g > SENT_SAMPLES).tolist():
        mine = s_sent[s_g == grp]
        points = np.quantile(mine, np.linspace(0, 1, SENT_SAMPLES))
        weights = np.full(SENT_SAMPLES, len(mine) / SENT_SAMPLES)
        add("sent", np.full(SENT_SAMPLES, grp), t=points, x=weights)
    return pa.Table.from_batches(batches, schema=schema)
