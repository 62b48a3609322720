"""Renewable energy certificates (EnergyCertificates): certificates, certified epochs, balances,
retirements, carbon wallets and emission factors, versioned like the other entity tables. See
indexer/models/certificates.py.

Revision ID: 0500_certificates
Revises: 0400_exchange
"""

import sqlalchemy as sa
from alembic import op

revision = "0500_certificates"
down_revision = "0400_exchange"
branch_labels = None
depends_on = None

U256 = sa.Numeric(precision=78, scale=0)


def _versioned(name: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
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


TABLES = (
    "certificates",
    "certified_epochs",
    "certificate_balances",
    "retirements",
    "carbon_wallets",
    "emission_factors",
)


def upgrade() -> None:
    _versioned(
        "certificates",
        sa.Column("asset_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("day", sa.BigInteger(), nullable=False),
        sa.Column("feed_id", sa.String(length=66), nullable=True),
        sa.Column("minted", U256, nullable=False),
        sa.Column("retired", U256, nullable=False),
        sa.Column("supply", U256, nullable=False),
        sa.Column("first_block", sa.BigInteger(), nullable=False),
    )
    _versioned(
        "certified_epochs",
        sa.Column("asset_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("certificate_id", sa.String(length=80), nullable=False, index=True),
        sa.Column("owner", sa.String(length=42), nullable=False, index=True),
        sa.Column("energy_wh", U256, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
    )
    _versioned(
        "certificate_balances",
        sa.Column("certificate_id", sa.String(length=80), nullable=False, index=True),
        sa.Column("owner", sa.String(length=42), nullable=False, index=True),
        sa.Column("asset_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("day", sa.BigInteger(), nullable=False),
        sa.Column("balance", U256, nullable=False),
    )
    _versioned(
        "retirements",
        sa.Column("account", sa.String(length=42), nullable=False, index=True),
        sa.Column("certificate_id", sa.String(length=80), nullable=False, index=True),
        sa.Column("asset_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("day", sa.BigInteger(), nullable=False),
        sa.Column("energy_wh", U256, nullable=False),
        sa.Column("co2e_grams", U256, nullable=False),
        sa.Column("grams_per_kwh", sa.Integer(), nullable=False),
        sa.Column("beneficiary", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
    )
    _versioned(
        "carbon_wallets",
        sa.Column("retired_wh", U256, nullable=False),
        sa.Column("co2e_grams", U256, nullable=False, index=True),
        sa.Column("retirement_count", sa.Integer(), nullable=False),
    )
    _versioned(
        "emission_factors",
        sa.Column("grams_per_kwh", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
