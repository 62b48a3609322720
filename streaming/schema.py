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
