"""Indexer: the durable outbox (notifications by position) and durable consumers' cursors.
See indexer/models/outbox.py.

Revision ID: 0011_indexer_outbox
Revises: 0010_indexer
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011_indexer_outbox"
down_revision = "0010_indexer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indexer_outbox",
        sa.Column("position", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=80), nullable=False),
        sa.Column("payload", JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_indexer_outbox")),
    )
    op.create_index(
        op.f("ix_indexer_outbox_created_at"), "indexer_outbox", ["created_at"], unique=False
    )
    op.create_table(
        "outbox_cursors",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outbox_cursors")),
    )


def downgrade() -> None:
    op.drop_table("outbox_cursors")
    op.drop_index(op.f("ix_indexer_outbox_created_at"), table_name="indexer_outbox")
    op.drop_table("indexer_outbox")
