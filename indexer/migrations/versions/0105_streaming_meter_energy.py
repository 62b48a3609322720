"""Per-meter energy of every closed (feed, epoch): what the metered-delivery Merkle root is built
from. One row per (feed, epoch start, meter), written by the stream job in the same transaction
that turns the closed epoch into its epoch actual, so a replayed or restarted batch never writes
it twice.

Revision ID: 0105_streaming_meter_energy
Revises: 0104_stream_alerts_by_time
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0105_streaming_meter_energy"
down_revision = "0104_stream_alerts_by_time"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "epoch_meter_energy",
        sa.Column("feed", sa.String(32), primary_key=True),
        sa.Column("epoch_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("meter", sa.String(64), primary_key=True),
        sa.Column("readings", sa.BigInteger, nullable=False),
        sa.Column("mean_w", sa.Float, nullable=False),
        sa.Column("energy_wh", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("epoch_meter_energy")
