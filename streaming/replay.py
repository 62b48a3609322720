"""Telemetry replay: real series split across meters, published over MQTT with injected faults.

The plan (every message, in order, with its fault label) is built first and is deterministic for a
seed, so a test can recompute the expected aggregates from exactly what was sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from streaming import schema
from streaming.errors import NonRetryableError
from streaming.mqtt import Publisher
from streaming.sources import load_series

FAULT_KINDS = (
    "gap",
    "duplicate",
    "late",
    "out_of_order",
    "spike",
    "stuck",
    "malformed",
    "negative",
)
MALFORMED_SAMPLES: tuple[tuple[str, bytes], ...] = (
    ("not_json", b"\x00\xffnot json"),
    ("no_readings", b'{"v":1,"feed":"solar","meter":"%s","sent_at":1.0,"readings":[]}'),
    (
        "bad_value",
        b'{"v":1,"feed":"solar","meter":"%s","sent_at":1.0,'
        b'"readings":[{"ts":1300000000,"value":"NaN"}]}',
    ),
    (
        "unknown_feed",
        b'{"v":1,"feed":"wind","meter":"%s","sent_at":1.0,'
        b'"readings":[{"ts":1300000000,"value":1.0}]}',
    ),
    (
        "bad_version",
        b'{"v":9,"feed":"solar","meter":"%s","sent_at":1.0,'
        b'"readings":[{"ts":1300000000,"value":1.0}]}',
    ),
)


@dataclass(frozen=True)
class FaultRates:
    """Probability per message (per meter-run for `stuck`) of each fault."""

    gap: float = 0.0
    duplicate: float = 0.0
    late: float = 0.0
    out_of_order: float = 0.0
    spike: float = 0.0
    stuck: float = 0.0
    malformed: float = 0.0
    negative: float = 0.0  # a solar reading below zero (a sign-flipped inverter value)

    @classmethod
    def every_kind(cls, rate: float = 0.05) -> FaultRates:
        return cls(*(rate for _ in FAULT_KINDS))


@dataclass
class PlannedMessage:
    feed: str
    meter: str
    readings: list[tuple[float, float]]
    fault: str = ""  # "" or one of FAULT_KINDS
    raw: bytes | None = None  # set for malformed messages: published verbatim
    topic: str = ""
    offset: float = 0.0  # data seconds since the feed's replay start (drives pacing and order)

    def __post_init__(self) -> None:
        self.topic = self.topic or schema.topic_for(self.feed, self.meter)


@dataclass
class ReplayPlan:
    main: list[PlannedMessage] = field(default_factory=list)
    late: list[PlannedMessage] = field(default_factory=list)  # published after `main`
    gaps: list[PlannedMessage] = field(default_factory=list)  # never published

    def all_messages(self) -> list[PlannedMessage]:
        return self.main + self.late

    def sent_readings(self) -> pd.DataFrame:
        """Every reading in a well-formed message, with the phase it was sent in."""
        rows = [
            (m.feed, m.meter, ts, v, m.fault, phase)
            for phase, msgs in (("main", self.main), ("late", self.late))
            for m in msgs
            if m.raw is None
            for ts, v in m.readings
        ]
        return pd.DataFrame(rows, columns=["feed", "meter", "ts", "value", "fault", "phase"])

    @property
    def reading_count(self) -> int:
        return sum(len(m.readings) for m in self.all_messages() if m.raw is None)


def meter_frame(series: pd.Series, feed: str, meters: int, seed: int) -> pd.DataFrame:
    """Split a feed total across `meters` with fixed per-meter shares and small per-reading noise;
    the shares average to one so the meters still sum to about the real total."""
    if meters <= 0:
        raise NonRetryableError("meters must be positive")
    rng = np.random.default_rng(seed)
    shares = rng.lognormal(0.0, 0.25, meters)
    shares = shares / shares.mean()
    ts = np.asarray(pd.DatetimeIndex(series.index).as_unit("s").asi8, dtype=float)
    base = series.to_numpy(dtype=float) / meters
    noise = 1.0 + rng.normal(0.0, 0.03, (meters, len(series)))
    values = np.round(np.clip(base[None, :] * shares[:, None] * noise, 0.0, None), 6)
    width = max(3, len(str(meters - 1)))
    return pd.DataFrame(
        {
            "meter": np.repeat([f"{feed}-{i:0{width}d}" for i in range(meters)], len(series)),
            "ts": np.tile(ts, meters),
            "value": values.reshape(-1),
        }
    )


# Each feed replays its own real period (the datasets cover different years); the replay aligns
# them by offset from these starts, and each feed keeps its true timestamps.
DEFAULT_STARTS: dict[str, datetime] = {
    "solar": datetime(2011, 6, 1, 9, tzinfo=UTC),  # 09:00 on the plant's local wall clock
    "demand": datetime(2014, 1, 6, tzinfo=UTC),
    "household": datetime(2006, 12, 17, tzinfo=UTC),
}


def build_plan(
    feeds: Sequence[str],
    duration: timedelta,
    starts: Mapping[str, datetime] | None = None,
    meters: int = 10,
    batch: int = 1,
    faults: FaultRates | None = None,
    seed: int = 7,
    load: Callable[..., pd.Series] = load_series,
) -> ReplayPlan:
    """Messages for `duration` of data from each feed's start: `meters` meters per feed (the
    household feed is one real meter), `batch` readings per message, faults drawn with `seed`."""
    faults = faults or FaultRates()
    rng = np.random.default_rng(seed)
    messages: list[PlannedMessage] = []
    for feed in feeds:
        if feed not in schema.FEEDS:
            raise NonRetryableError(f"unknown feed {feed!r}; known: {sorted(schema.FEEDS)}")
        start_ts = pd.Timestamp({**DEFAULT_STARTS, **(starts or {})}[feed])
        if start_ts.tz is None:
            start_ts = start_ts.tz_localize("UTC")
        start_ts = start_ts.tz_convert("UTC")
        end_ts = start_ts + duration
        rows = int(duration.total_seconds() // 60) + 10 if feed == "household" else 1_000_000
        series = load(feed, start=start_ts.to_pydatetime(), rows=rows)
        series = series[(series.index >= start_ts) & (series.index < end_ts)]
        if series.empty:
            raise NonRetryableError(f"no {feed} data between {start_ts} and {end_ts}")
        frame = (
            meter_frame(series, feed, 1, seed).assign(meter="household-001")
            if feed == "household"
            else meter_frame(series, feed, meters, seed)
        )
        for meter, group in frame.groupby("meter", sort=True):
            values = group["value"].to_numpy().copy()
            if faults.stuck and rng.random() < faults.stuck * 10 and len(values) > 6:
                at = int(rng.integers(0, len(values) - 6))
                # A stuck meter repeats a non-zero reading; pick one so the rule can see it.
                values[at : at + 6] = max(values[at], 0.5)
            readings = list(zip(group["ts"].tolist(), values.tolist(), strict=True))
            t0 = start_ts.timestamp()
            for i in range(0, len(readings), batch):
                chunk = readings[i : i + batch]
                messages.append(PlannedMessage(feed, str(meter), chunk, offset=chunk[0][0] - t0))
    messages.sort(key=lambda m: (m.offset, m.feed, m.meter))
    return _inject(messages, faults, rng, duration.total_seconds())


def _inject(
    messages: list[PlannedMessage], f: FaultRates, rng: np.random.Generator, span: float
) -> ReplayPlan:
    plan = ReplayPlan()
    # Late messages come from the first half only, so they are far behind any sane watermark.
    midpoint = span / 2
    held: list[PlannedMessage] = []
    i = 0
    while i < len(messages):
        m = messages[i]
        roll = rng.random()
        edges = np.cumsum(
            [f.gap, f.duplicate, f.late, f.out_of_order, f.spike, f.malformed, f.negative]
        )
        if roll < edges[0]:
            m.fault = "gap"
            plan.gaps.append(m)
        elif roll < edges[1]:
            plan.main.append(m)
            plan.main.append(
                PlannedMessage(m.feed, m.meter, list(m.readings), "duplicate", offset=m.offset)
            )
        elif roll < edges[2] and m.offset + (m.readings[-1][0] - m.readings[0][0]) < midpoint:
            m.fault = "late"
            held.append(m)
        elif roll < edges[3] and i + 1 < len(messages):
            nxt = messages[i + 1]
            nxt.fault = nxt.fault or "out_of_order"
            plan.main.extend([nxt, m])
            i += 1
        elif roll < edges[4]:
            j = int(rng.integers(0, len(m.readings)))
            ts, v = m.readings[j]
            m.readings[j] = (ts, round(max(v, 0.5) * 10.0, 6))
            m.fault = "spike"
            plan.main.append(m)
        elif roll < edges[5]:
            plan.main.append(m)
            reason, body = MALFORMED_SAMPLES[int(rng.integers(0, len(MALFORMED_SAMPLES)))]
            raw = body.replace(b"%s", m.meter.encode()) if b"%s" in body else body
            # Topic matches the claimed feed where there is one so the schema, not routing, rejects.
            plan.main.append(
                PlannedMessage(
                    m.feed, m.meter, [], "malformed", raw=raw, topic=m.topic, offset=m.offset
                )
            )
        elif roll < edges[6] and m.feed == "solar":
            ts, v = m.readings[0]
            m.readings[0] = (ts, -round(abs(v) + 0.1, 6))
            m.fault = "negative"
            plan.main.append(m)
        else:
            plan.main.append(m)
        i += 1
    plan.late = held
    return plan


def publish_plan(
    plan: ReplayPlan,
    publisher: Publisher,
    speedup: float = 0.0,
    phase: str = "all",
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Publish `plan` (phase "main", "late" or "all"); with `speedup` > 0 pace data time at that
    many data seconds per wall second. Returns the number of readings published."""
    msgs = {"main": plan.main, "late": plan.late, "all": plan.all_messages()}[phase]
    t_wall0 = time.monotonic()
    sent = 0
    for n, m in enumerate(msgs):
        if speedup > 0 and m.readings and m.fault != "late":
            due = m.offset / speedup
            delay = due - (time.monotonic() - t_wall0)
            if delay > 0:
                time.sleep(delay)
        payload = (
            m.raw if m.raw is not None else schema.encode(m.feed, m.meter, m.readings, time.time())
        )
        publisher.publish(m.topic, payload)
        sent += len(m.readings) if m.raw is None else 0
        if on_progress is not None and n % 100 == 0:
            on_progress(n)
    publisher.flush()
    return sent
