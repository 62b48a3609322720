"""ML model registry: model_artifacts.

Revision ID: ml_0001
Revises: 0001_base
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "ml_0001"
down_revision = "0001_base"
branch_labels = ("ml",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_artifacts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("model_hash", sa.String(66), nullable=False),
        sa.Column("feed", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("metadata", JSONB(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_artifacts"),
        sa.UniqueConstraint("model_hash", name="uq_model_artifacts_model_hash"),
        sa.CheckConstraint("model_hash ~ '^0x[0-9a-f]{64}$'", name="ck_model_artifacts_hash_hex"),
    )
    op.create_index("ix_model_artifacts_feed", "model_artifacts", ["feed"])


def downgrade() -> None:
    op.drop_index("ix_model_artifacts_feed", table_name="model_artifacts")
    op.drop_table("model_artifacts")
