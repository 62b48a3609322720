"""The telemetry wire schema, shared by the replay (producer), the gateway and the Spark job.

One MQTT message on ``gridcast/telemetry/<asset_class>/<meter>`` carries a batch of readings of one
meter::

    {"v": 1, "feed": "solar", "meter": "solar-007", "sent_at": 1700000000.123,
     "readings": [{"ts": 1293840000.0, "value": 4.21}, ...]}

``ts`` is data time in unix seconds, ``value`` is in the feed's unit (solar W, demand GW,
household kW). ``sent_at`` is the publisher's wall
clock and only serves latency measurement. A message is accepted or rejected as a whole.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from streaming.errors import InvalidTelemetry

SCHEMA_VERSION = 1
TOPIC_PREFIX = "gridcast/telemetry"
# feed -> asset class (the topic level); household meters are demand-side assets.
FEEDS: dict[str, str] = {"solar": "solar", "demand": "demand", "household": "demand"}
# Watts per unit of each feed's readings (solar W, demand GW, household kW): meter energy in Wh.
UNIT_W: dict[str, float] = {"solar": 1.0, "demand": 1e9, "household": 1e3}
MAX_READINGS_PER_MESSAGE = 10_000
# Data older than 2000-01-01 or beyond 2100 is certainly a unit error (ms instead of s).
TS_MIN, TS_MAX = 946_684_800.0, 4_102_444_800.0


def topic_for(feed: str, meter: str) -> str:
    return f"{TOPIC_PREFIX}/{FEEDS[feed]}/{meter}"


def encode(feed: str, meter: str, readings: list[tuple[float, float]], sent_at: float) -> bytes:
    body = {
        "v": SCHEMA_VERSION,
        "feed": feed,
        "meter": meter,
        "sent_at": sent_at,
        "readings": [{"ts": ts, "value": value} for ts, value in readings],
    }
    return orjson.dumps(body)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _reading_columns(readings: list[Any]) -> tuple[list[Any], list[Any]] | None:
    """(ts, value) columns if every reading is an object with finite numeric `ts` in range and
    `value`, else None (C-level loops: a message of 500 readings costs a fraction of a
    millisecond)."""
    try:
        ts = [r["ts"] for r in readings]
        values = [r["value"] for r in readings]
    except (TypeError, KeyError):
        return None
    try:
        plain = (
            set(map(type, ts)) | set(map(type, values)) <= {int, float}
            and all(map(math.isfinite, ts))
            and all(map(math.isfinite, values))
            and TS_MIN <= min(ts)
            and max(ts) < TS_MAX
        )
    except OverflowError:
        return None
    return (ts, values) if plain else None


def validate(topic: str, payload: bytes) -> dict[str, Any]:
    """Return the decoded message, or raise :class:`InvalidTelemetry` with the reason."""
    return parse(topic, payload)[0]


def parse(topic: str, payload: bytes) -> tuple[dict[str, Any], list[Any], list[Any]]:
    """The decoded message and its readings as (ts, value) columns, or raise
    :class:`InvalidTelemetry` with the reason."""
    try:
        msg = orjson.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidTelemetry("not_json", str(exc)[:200]) from None
    if not isinstance(msg, dict):
        raise InvalidTelemetry("not_object")
    if msg.get("v") != SCHEMA_VERSION:
        raise InvalidTelemetry("bad_version", repr(msg.get("v")))
    feed, meter = msg.get("feed"), msg.get("meter")
    if feed not in FEEDS:
        raise InvalidTelemetry("unknown_feed", repr(feed))
    if not isinstance(meter, str) or not meter or len(meter) > 64:
        raise InvalidTelemetry("bad_meter", repr(meter))
    expected_topic = topic_for(feed, meter)
    if topic != expected_topic:
        raise InvalidTelemetry("topic_mismatch", f"{topic} != {expected_topic}")
    if not _number(msg.get("sent_at")):
        raise InvalidTelemetry("bad_sent_at")
    readings = msg.get("readings")
    if not isinstance(readings, list) or not readings:
        raise InvalidTelemetry("no_readings")
    if len(readings) > MAX_READINGS_PER_MESSAGE:
        raise InvalidTelemetry("too_many_readings", str(len(readings)))
    columns = _reading_columns(readings)
    if columns is not None:
        return msg, *columns
    # Slow path: find the first bad reading and say why.
    for r in readings:
        if not isinstance(r, dict):
            raise InvalidTelemetry("bad_reading")
        ts, value = r.get("ts"), r.get("value")
        if not _number(ts) or not TS_MIN <= float(ts) < TS_MAX:  # type: ignore[arg-type]
            raise InvalidTelemetry("bad_ts", repr(ts))
        if not _number(value):
            raise InvalidTelemetry("bad_value", repr(value))
    return msg, [r["ts"] for r in readings], [r["value"] for r in readings]


SLOW_PATH_BELOW = 64  # a batch Arrow cannot type is split until this size, then parsed one by one


def parse_batch(
    topics: list[str], payloads: list[bytes]
) -> tuple[Any, list[tuple[int, InvalidTelemetry]]]:
    """Many messages at once: (the valid ones as an Arrow table, rejects as (index, reason)).

    The table has an ``index`` column (position in the input) and ``feed``, ``meter``,
    ``sent_at`` and ``readings`` (list<struct<ts, value>> of doubles). The same rules as
    :func:`parse`, applied to whole columns: Arrow's JSON reader decodes the batch into typed
    columns in C++ (a few microseconds a message), then vectorised checks. A message the
    vectorised checks refuse, or one in a slice Arrow cannot type (a string where a number
    belongs), goes through :func:`parse` itself, which accepts it or gives the reason."""
    import pyarrow as pa

    tables: list[Any] = []
    rejects: list[tuple[int, InvalidTelemetry]] = []
    _parse_slice(topics, payloads, 0, len(payloads), tables, rejects)
    if not tables:
        return _batch_schema().empty_table(), rejects
    table = pa.concat_tables(tables)
    if len(tables) > 1:
        table = table.sort_by("index")
    return table, rejects


def _batch_schema() -> Any:
    import pyarrow as pa

    reading = pa.struct([("ts", pa.float64()), ("value", pa.float64())])
    return pa.schema(
        [
            ("index", pa.int64()),
            ("feed", pa.string()),
            ("meter", pa.string()),
            ("sent_at", pa.float64()),
            ("readings", pa.list_(reading)),
        ]
    )


def _wire_schema() -> Any:
    import pyarrow as pa

    reading = pa.struct([("ts", pa.float64()), ("value", pa.float64())])
    return pa.schema(
        [
            ("v", pa.int64()),
            ("feed", pa.string()),
            ("meter", pa.string()),
            ("sent_at", pa.float64()),
            ("readings", pa.list_(reading)),
        ]
    )


def _slow(
    topics: list[str],
    payloads: list[bytes],
    indices: Any,
    tables: list[Any],
    rejects: list[tuple[int, InvalidTelemetry]],
) -> None:
    import pyarrow as pa

    rows: list[tuple[int, str, str, float, list[dict[str, float]]]] = []
    for i in indices:
        try:
            msg, ts, values = parse(topics[i], payloads[i])
        except InvalidTelemetry as exc:
            rejects.append((int(i), exc))
            continue
        readings = [{"ts": float(t), "value": float(v)} for t, v in zip(ts, values, strict=True)]
        rows.append((int(i), msg["feed"], msg["meter"], float(msg["sent_at"]), readings))
    if rows:
        schema = _batch_schema()
        cols = list(zip(*rows, strict=True))
        tables.append(
            pa.table([pa.array(c, f.type) for c, f in zip(cols, schema, strict=True)], schema)
        )


def _parse_slice(
    topics: list[str],
    payloads: list[bytes],
    lo: int,
    hi: int,
    tables: list[Any],
    rejects: list[tuple[int, InvalidTelemetry]],
) -> None:
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pajson

    if hi <= lo:
        return
    if hi - lo < SLOW_PATH_BELOW:
        _slow(topics, payloads, range(lo, hi), tables, rejects)
        return
    try:
        # One message per line, parsed by Arrow's JSON reader straight into typed columns (a
        # boolean or a string where a number belongs fails the slice, which is then split).
        blob = b"\n".join(payloads[lo:hi])
        if blob.count(b"\n") != hi - lo - 1:
            raise ValueError("a message spans lines")
        arr = pa.Table.from_batches(
            pajson.read_json(
                io.BytesIO(blob),
                read_options=pajson.ReadOptions(use_threads=False, block_size=len(blob) + 1),
                parse_options=pajson.ParseOptions(
                    explicit_schema=_wire_schema(), unexpected_field_behavior="ignore"
                ),
            ).to_batches()
        )
        if arr.num_rows != hi - lo:
            raise ValueError("not one object per message")
        readings = arr.column("readings").combine_chunks()
        flat = pc.list_flatten(readings)
        ts = pc.struct_field(flat, "ts")
        value = pc.struct_field(flat, "value")
        sent_at = arr.column("sent_at").combine_chunks()
        feed = arr.column("feed").combine_chunks()
        meter = arr.column("meter").combine_chunks()
        version = arr.column("v").combine_chunks()
    except (ValueError, TypeError, OverflowError, pa.ArrowException):
        mid = (lo + hi) // 2
        _parse_slice(topics, payloads, lo, mid, tables, rejects)
        _parse_slice(topics, payloads, mid, hi, tables, rejects)
        return
    n = hi - lo
    counts = pc.fill_null(pc.list_value_length(readings), 0).to_numpy(zero_copy_only=False)
    ok = pc.fill_null(pc.equal(version, SCHEMA_VERSION), False).to_numpy(zero_copy_only=False)
    ok &= pc.fill_null(pc.is_in(feed, pa.array(list(FEEDS))), False).to_numpy(zero_copy_only=False)
    meter_len = pc.fill_null(pc.utf8_length(meter), 0).to_numpy(zero_copy_only=False)
    ok &= (meter_len >= 1) & (meter_len <= 64)
    klass = pc.fill_null(
        pc.replace_substring_regex(pc.fill_null(feed, ""), "^household$", "demand"), ""
    )
    expected = pc.binary_join_element_wise(TOPIC_PREFIX, klass, pc.fill_null(meter, ""), "/")
    ok &= pc.fill_null(pc.equal(pa.array(topics[lo:hi], pa.string()), expected), False).to_numpy(
        zero_copy_only=False
    )
    sent = sent_at.to_numpy(zero_copy_only=False).astype(float)  # nulls -> NaN
    ok &= np.isfinite(sent)
    ok &= (counts >= 1) & (counts <= MAX_READINGS_PER_MESSAGE)
    t = ts.to_numpy(zero_copy_only=False).astype(float)
    v = value.to_numpy(zero_copy_only=False).astype(float)
    bad = ~(np.isfinite(t) & np.isfinite(v) & (t >= TS_MIN) & (t < TS_MAX))
    if bad.any():
        owner = np.repeat(np.arange(n), counts)
        ok[np.unique(owner[bad])] = False
    good = np.flatnonzero(ok)
    if len(good):
        keep = pa.array(good)
        offsets = np.zeros(len(good) + 1, dtype=np.int32)
        np.cumsum(counts[good], out=offsets[1:])
        take = pa.array(np.flatnonzero(np.repeat(ok, counts)))  # the kept messages' readings
        flat_ok = pa.StructArray.from_arrays(
            [pc.take(ts, take), pc.take(value, take)], names=["ts", "value"]
        )
        tables.append(
            pa.table(
                [
                    pa.array(good + lo, pa.int64()),
                    pc.take(feed, keep),
                    pc.take(meter, keep),
                    pc.take(sent_at, keep),
                    pa.ListArray.from_arrays(pa.array(offsets), flat_ok),
                ],
                schema=_batch_schema(),
            )
        )
    if len(good) < n:
        _slow(topics, payloads, np.flatnonzero(~ok) + lo, tables, rejects)
