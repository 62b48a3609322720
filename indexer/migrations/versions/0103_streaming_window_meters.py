"""Streaming window state as one row per window: the per-meter sums and counts of a (feed,
window kind, window start) as parallel arrays sorted by meter, replacing one row per (window,
meter) (a 5-minute window of 15-minute data had a row per reading). The unlogged partial staging
table is gone: the job COPYs from the driver into session temp tables.

Revision ID: 0103_streaming_window_meters
Revises: 0102_streaming_partials
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0103_streaming_window_meters"
down_revision = "0102_streaming_partials"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stream_window_meters",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("window_kind", sa.String(8), primary_key=True),
        sa.Column("window_start", TZ, primary_key=True),
        sa.Column("meters", ARRAY(sa.Text), nullable=False),
        sa.Column("totals", ARRAY(sa.Float), nullable=False),
        sa.Column("counts", ARRAY(sa.BigInteger), nullable=False),
    )
    op.execute(
        "INSERT INTO stream_window_meters SELECT feed, window_kind, window_start,"
        " array_agg(meter ORDER BY meter), array_agg(total ORDER BY meter),"
        " array_agg(n ORDER BY meter) FROM stream_partials GROUP BY 1, 2, 3"
    )
    op.drop_table("stream_partials")
    op.drop_table("stream_partial_staging")


def downgrade() -> None:
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
    op.execute(
        "INSERT INTO stream_partials SELECT w.feed, w.window_kind, w.window_start, u.meter,"
        " u.total, u.n FROM stream_window_meters w,"
        " unnest(w.meters, w.totals, w.counts) AS u(meter, total, n)"
    )
    op.drop_table("stream_window_meters")
