"""Protocol v2 governance: proposals and governance_votes (GridGovernor events), versioned like
the other entity tables. See indexer/models/governance.py.

Revision ID: 0301_protocol_governance
Revises: 0300_protocol_feed_params_from
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0301_protocol_governance"
down_revision = "0300_protocol_feed_params_from"
branch_labels = None
depends_on = None

U256 = sa.Numeric(precision=78, scale=0)


def _versioned(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        *columns,
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_block_to", name, ["block_to"], unique=False)
    op.create_index(
        f"uq_{name}_current",
        name,
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )


def upgrade() -> None:
    text_array = postgresql.ARRAY(sa.Text())
    _versioned(
        "proposals",
        sa.Column("proposer", sa.String(length=42), nullable=False, index=True),
        sa.Column("targets", text_array, nullable=False),
        sa.Column("values", text_array, nullable=False),
        sa.Column("calldatas", text_array, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("vote_start", sa.BigInteger(), nullable=False),
        sa.Column("vote_end", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("for_votes", U256, nullable=False),
        sa.Column("against_votes", U256, nullable=False),
        sa.Column("abstain_votes", U256, nullable=False),
        sa.Column("eta", sa.BigInteger(), nullable=True),
        sa.Column("created_block", sa.BigInteger(), nullable=False),
        sa.Column("created_tx", sa.String(length=66), nullable=False),
        sa.Column("executed_block", sa.BigInteger(), nullable=True),
        sa.Column("executed_tx", sa.String(length=66), nullable=True),
    )
    _versioned(
        "governance_votes",
        sa.Column("proposal_id", sa.String(length=80), nullable=False, index=True),
        sa.Column("voter", sa.String(length=42), nullable=False, index=True),
        sa.Column("support", sa.Integer(), nullable=False),
        sa.Column("weight", U256, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("governance_votes")
    op.drop_table("proposals")
