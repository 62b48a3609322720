"""API: off-chain forecast records, SIWE nonces, sessions.

Revision ID: 0200_api_records
Revises: 0001_base
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0200_api_records"
down_revision = "0001_base"
branch_labels = ("api",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_forecast_records",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("feed_id", sa.String(66), nullable=False),
        sa.Column("operator", sa.String(42), nullable=False),
        sa.Column("first_epoch", sa.BigInteger(), nullable=False),
        sa.Column("epochs", sa.Integer(), nullable=False),
        sa.Column("values", JSONB(), nullable=False),
        sa.Column("lowers", JSONB(), nullable=False),
        sa.Column("uppers", JSONB(), nullable=False),
        sa.Column("quantiles", JSONB(), nullable=False, server_default="{}"),
        sa.Column("model_hash", sa.String(66), nullable=False),
        sa.Column("model_id", sa.Text(), nullable=True),
        sa.Column("feature_snapshot_id", sa.Text(), nullable=True),
        sa.Column("salt", sa.String(66), nullable=False),
        sa.Column("root", sa.String(66), nullable=False),
        sa.Column("commitments", JSONB(), nullable=False),
        sa.Column("uploaded_by", sa.String(42), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("reveal_verified", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_index("ix_api_forecast_records_feed_id", "api_forecast_records", ["feed_id"])
    op.create_index("ix_api_forecast_records_operator", "api_forecast_records", ["operator"])
    op.create_index("ix_api_forecast_records_root", "api_forecast_records", ["root"])
    op.create_table(
        "api_siwe_nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "api_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_index("ix_api_sessions_address", "api_sessions", ["address"])


def downgrade() -> None:
    op.drop_table("api_sessions")
    op.drop_table("api_siwe_nonces")
    op.drop_table("api_forecast_records")
