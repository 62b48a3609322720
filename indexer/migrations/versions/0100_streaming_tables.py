"""Streaming sinks: readings, aggregates, alerts, epoch actuals, nowcasts, meters, batches.

Revision ID: 0100_streaming
Revises: 0001_base
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0100_streaming"
down_revision = "0001_base"
branch_labels = ("streaming",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stream_readings",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("meter", sa.String(64), primary_key=True),
        sa.Column("ts", TZ, primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("batch_id", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_stream_readings_feed_ts", "stream_readings", ["feed", "ts"])
    op.create_table(
        "stream_aggregates",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("window_kind", sa.String(8), primary_key=True),
        sa.Column("window_start", TZ, primary_key=True),
        sa.Column("window_end", TZ, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("mean", sa.Float, nullable=False),
        sa.Column("reading_count", sa.Integer, nullable=False),
        sa.Column("meter_count", sa.Integer, nullable=False),
        sa.Column("coverage", sa.Float, nullable=False),
        sa.Column("ramp_rate", sa.Float, nullable=True),
        sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "stream_alerts",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("rule", sa.String(32), primary_key=True),
        sa.Column("meter", sa.String(64), primary_key=True),
        sa.Column("event_ts", TZ, primary_key=True),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        sa.Column("batch_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "epoch_actuals",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("epoch_start", TZ, primary_key=True),
        sa.Column("epoch_end", TZ, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("meter_count", sa.Integer, nullable=False),
        sa.Column("reading_count", sa.Integer, nullable=False),
        sa.Column("coverage", sa.Float, nullable=False),
        sa.Column("quality_flags", JSONB, nullable=False, server_default="{}"),
        sa.Column("evidence", JSONB, nullable=False, server_default="{}"),
        sa.Column("evidence_hash", sa.String(66), nullable=False),
        sa.Column("closed_at", TZ, nullable=False),
        sa.Column("submitted_at", TZ, nullable=True),
        sa.Column("submission_tx", sa.String(66), nullable=True),
    )
    op.create_table(
        "stream_nowcasts",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("target_start", TZ, primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("based_on_epochs", sa.Integer, nullable=False),
        sa.Column("computed_at", TZ, nullable=False),
    )
    op.create_table(
        "stream_meters",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("meter", sa.String(64), primary_key=True),
        sa.Column("first_seen", TZ, nullable=False),
        sa.Column("last_seen", TZ, nullable=False),
    )
    op.create_table(
        "stream_batches",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("batch_id", sa.BigInteger, primary_key=True),
        sa.Column("watermarks", JSONB, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("processed_at", TZ, nullable=False),
    )
    op.create_table(
        "stream_staging",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("batch_id", sa.BigInteger, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("feed", sa.String(32), nullable=False),
        sa.Column("meter", sa.String(64), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("sent_at", sa.Float, nullable=False),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    for table in (
        "stream_staging",
        "stream_batches",
        "stream_meters",
        "stream_nowcasts",
        "epoch_actuals",
        "stream_alerts",
        "stream_aggregates",
        "stream_readings",
    ):
        op.drop_table(table)
