"""Streaming partials: per-(feed, window, meter) sums the Spark job upserts, per-meter rule state,
and the unlogged staging table the partials of the batch in flight are COPYed into.

Revision ID: 0102_streaming_partials
Revises: 0100_streaming
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0102_streaming_partials"
down_revision = "0100_streaming"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stream_partials",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("window_kind", sa.String(8), primary_key=True),
        sa.Column("window_start", TZ, primary_key=True),
        sa.Column("meter", sa.String(64), primary_key=True),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stream_meter_state",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("meter", sa.String(64), primary_key=True),
        sa.Column("last_ts", sa.Float, nullable=True),
        sa.Column("last_value", sa.Float, nullable=True),
        sa.Column("run", sa.Integer, nullable=False),
        sa.Column("recent_ts", ARRAY(sa.Float), nullable=False),
    )
    op.create_table(
        "stream_partial_staging",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("batch_id", sa.BigInteger, primary_key=True),
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("window_kind", sa.String(8), primary_key=True),
        sa.Column("ws", sa.Float, primary_key=True),
        sa.Column("meter", sa.String(64), primary_key=True),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("max_value", sa.Float, nullable=False),
        sa.Column("max_ts", sa.Float, nullable=False),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    for table in ("stream_partial_staging", "stream_meter_state", "stream_partials"):
        op.drop_table(table)
