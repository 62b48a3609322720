"""Streaming sinks: accepted readings, window aggregates, quality alerts, closed epoch actuals
(the truth-submission hook), nowcasts and the job's per-batch progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from indexer.db.base import Base


class StreamReading(Base):
    """Every accepted reading once: the key removes MQTT redeliveries and replayed batches."""

    __tablename__ = "stream_readings"
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    meter: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    batch_id: Mapped[int] = mapped_column(BigInteger)


class StreamAggregate(Base):
    """Per-feed event-time window aggregate; `window_kind` is "5m" or "epoch"."""

    __tablename__ = "stream_aggregates"
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    window_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[float] = mapped_column(Float)  # sum over meters of each meter's mean
    mean: Mapped[float] = mapped_column(Float)  # mean of all readings
    reading_count: Mapped[int] = mapped_column(Integer)
    meter_count: Mapped[int] = mapped_column(Integer)
    coverage: Mapped[float] = mapped_column(Float)  # meter_count / known meters of the feed
    ramp_rate: Mapped[float | None] = mapped_column(Float, nullable=True)  # value change per hour
    closed: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StreamAlert(Base):
    """A data-quality violation; keyed so a replayed batch re-raises nothing."""

    __tablename__ = "stream_alerts"
    # Epoch actuals count the alerts inside each closed epoch by feed and time.
    __table_args__ = (Index("ix_stream_alerts_feed_event_ts", "feed", "event_ts"),)
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    meter: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    batch_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EpochActual(Base):
    """A closed per-epoch window (its end passed the watermark): the measured truth candidate.
    The truth reporter submits rows with `submitted_at` NULL and fills the submission columns."""

    __tablename__ = "epoch_actuals"
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    epoch_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    epoch_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[float] = mapped_column(Float)
    meter_count: Mapped[int] = mapped_column(Integer)
    reading_count: Mapped[int] = mapped_column(Integer)
    coverage: Mapped[float] = mapped_column(Float)
    quality_flags: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    evidence_hash: Mapped[str] = mapped_column(String(66))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    submission_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)


class StreamNowcast(Base):
    """Holt-Winters nowcast of the next epoch of a feed, for an operator bot to submit."""

    __tablename__ = "stream_nowcasts"
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    target_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(Text)
    based_on_epochs: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StreamMeter(Base):
    """Meters ever seen per feed: the denominator of coverage and the roll call for gaps."""

    __tablename__ = "stream_meters"
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    meter: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StreamBatch(Base):
    """One committed micro-batch; a replayed batch reuses its recorded watermark."""

    __tablename__ = "stream_batches"
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # {feed: [watermark before, watermark after]} in data-time unix seconds
    watermarks: Mapped[dict[str, list[float]]] = mapped_column(JSONB)
    rows: Mapped[int] = mapped_column(BigInteger)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StreamWindowMeters(Base):
    """One window's per-meter sums and counts as parallel arrays sorted by meter; replaced by the
    merged arrays whenever a committed batch touches the window."""

    __tablename__ = "stream_window_meters"
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    window_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    meters: Mapped[list[str]] = mapped_column(ARRAY(Text))
    totals: Mapped[list[float]] = mapped_column(ARRAY(Float))
    counts: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))


class StreamMeterState(Base):
    """Per-meter rule state: the stuck run so far and the accepted timestamps still inside the
    watermark (a redelivery of one of them is dropped, not counted twice)."""

    __tablename__ = "stream_meter_state"
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    meter: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    run: Mapped[int] = mapped_column(Integer)
    recent_ts: Mapped[list[float]] = mapped_column(ARRAY(Float))
