"""Alerts by (feed, event time): every commit counts the alerts inside each epoch that closed
(the epoch's quality flags), and with only the primary key (feed, rule, meter, event_ts) that
scanned all of a feed's alerts once per closed epoch, a cost that grew with the alert history.
The unlogged stream_staging table, unused since the window state moved to the driver, is dropped.

Revision ID: 0104_stream_alerts_by_time
Revises: 0103_streaming_window_meters
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0104_stream_alerts_by_time"
down_revision = "0103_streaming_window_meters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_stream_alerts_feed_event_ts", "stream_alerts", ["feed", "event_ts"])
    op.drop_table("stream_staging")


def downgrade() -> None:
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
    op.drop_index("ix_stream_alerts_feed_event_ts", table_name="stream_alerts")
