"""Second wave: metered delivery roots (MeteredDelivery), assets (AssetRegistry) and the energy
exchange (EnergyExchange: markets, books, orders, clearings, trades, deliveries, imbalances,
accounts), versioned like the other entity tables. See indexer/models/exchange.py.

Revision ID: 0400_exchange
Revises: 0301_protocol_governance
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0400_exchange"
down_revision = "0301_protocol_governance"
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
    "delivery_roots",
    "assets",
    "exchange_markets",
    "exchange_books",
    "exchange_orders",
    "exchange_clearings",
    "exchange_trades",
    "exchange_deliveries",
    "exchange_imbalances",
    "exchange_accounts",
)


def upgrade() -> None:
    text_array = postgresql.ARRAY(sa.Text())
    _versioned(
        "delivery_roots",
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("total_wh", U256, nullable=False),
        sa.Column("truth_value", sa.BigInteger(), nullable=False),
        sa.Column("truth_submitted_at", sa.BigInteger(), nullable=False),
        sa.Column("final_after", sa.BigInteger(), nullable=False),
        sa.Column("reporter", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
    )
    _versioned(
        "assets",
        sa.Column("owner", sa.String(length=42), nullable=False, index=True),
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("renewable", sa.Boolean(), nullable=False),
        sa.Column("capacity_w", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("meter_ids", text_array, nullable=False),
        sa.Column("registrar", sa.String(length=42), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("registered_tx", sa.String(length=66), nullable=False),
    )
    _versioned(
        "exchange_markets",
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("renewable_only", sa.Boolean(), nullable=False),
        sa.Column("base_price", U256, nullable=True),
        sa.Column("slope", sa.Numeric(precision=40, scale=0), nullable=True),
        sa.Column("reference_value", sa.BigInteger(), nullable=True),
        sa.Column("band_bps", sa.Integer(), nullable=True),
        sa.Column("gate_lead", sa.BigInteger(), nullable=True),
        sa.Column("settle_window", sa.BigInteger(), nullable=True),
        sa.Column("penalty_per_wh", U256, nullable=True),
        sa.Column("genesis", sa.BigInteger(), nullable=True),
        sa.Column("epoch_length", sa.BigInteger(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
    )
    _versioned(
        "exchange_books",
        sa.Column("market_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("renewable_only", sa.Boolean(), nullable=False),
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("consensus_value", sa.BigInteger(), nullable=False),
        sa.Column("band_low", U256, nullable=False),
        sa.Column("band_high", U256, nullable=False),
        sa.Column("penalty_per_wh", U256, nullable=False),
        sa.Column("gate_at", sa.BigInteger(), nullable=False),
        sa.Column("settle_after", sa.BigInteger(), nullable=False),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("open_buys", sa.Integer(), nullable=False),
        sa.Column("open_sells", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("buy_volume_wh", U256, nullable=False),
        sa.Column("sell_volume_wh", U256, nullable=False),
        sa.Column("price", U256, nullable=True),
        sa.Column("volume_wh", U256, nullable=True),
        sa.Column("settled_orders", sa.Integer(), nullable=False),
        sa.Column("paid", U256, nullable=False),
        sa.Column("penalties", U256, nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("opened_block", sa.BigInteger(), nullable=False),
        sa.Column("cleared_block", sa.BigInteger(), nullable=True),
    )
    _versioned(
        "exchange_orders",
        sa.Column("market_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("book_id", sa.String(length=120), nullable=False, index=True),
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("index", sa.BigInteger(), nullable=False),
        sa.Column("trader", sa.String(length=42), nullable=False, index=True),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("asset_id", sa.BigInteger(), nullable=False),
        sa.Column("volume_wh", U256, nullable=False),
        sa.Column("limit_price", U256, nullable=False),
        sa.Column("locked", U256, nullable=False),
        sa.Column("renewable_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("refund", U256, nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=True),
        sa.Column("filled_wh", U256, nullable=True),
        sa.Column("delivered_wh", U256, nullable=True),
        sa.Column("amount", U256, nullable=True),
        sa.Column("adjustment", U256, nullable=True),
        sa.Column("credited", U256, nullable=True),
        sa.Column("certificates_wh", U256, nullable=True),
        sa.Column("placed_block", sa.BigInteger(), nullable=False),
        sa.Column("placed_tx", sa.String(length=66), nullable=False),
        sa.Column("closed_block", sa.BigInteger(), nullable=True),
        sa.Column("closed_tx", sa.String(length=66), nullable=True),
    )
    _versioned(
        "exchange_clearings",
        sa.Column("market_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("price", U256, nullable=False),
        sa.Column("volume_wh", U256, nullable=False),
        sa.Column("low", U256, nullable=False),
        sa.Column("high", U256, nullable=False),
        sa.Column("buy_num", U256, nullable=False),
        sa.Column("buy_den", U256, nullable=False),
        sa.Column("sell_num", U256, nullable=False),
        sa.Column("sell_den", U256, nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("filled_sells", sa.Integer(), nullable=False),
        sa.Column("clearer", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
    )
    _versioned(
        "exchange_trades",
        sa.Column("market_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("book_id", sa.String(length=120), nullable=False, index=True),
        sa.Column("order_id", sa.String(length=120), nullable=False, index=True),
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("trader", sa.String(length=42), nullable=False, index=True),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("price", U256, nullable=True),
        sa.Column("filled_wh", U256, nullable=False),
        sa.Column("delivered_wh", U256, nullable=False),
        sa.Column("amount", U256, nullable=False),
        sa.Column("adjustment", U256, nullable=False),
        sa.Column("credited", U256, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
    )
    _versioned(
        "exchange_deliveries",
        sa.Column("market_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("book_id", sa.String(length=120), nullable=False, index=True),
        sa.Column("order_id", sa.String(length=120), nullable=False, index=True),
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("seller", sa.String(length=42), nullable=False, index=True),
        sa.Column("asset_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("sold_wh", U256, nullable=False),
        sa.Column("delivered_wh", U256, nullable=False),
        sa.Column("shortfall_wh", U256, nullable=False),
        sa.Column("payment", U256, nullable=False),
        sa.Column("penalty", U256, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
    )
    _versioned(
        "exchange_imbalances",
        sa.Column("market_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("book_id", sa.String(length=120), nullable=False, index=True),
        sa.Column("order_id", sa.String(length=120), nullable=False, index=True),
        sa.Column("feed_id", sa.String(length=66), nullable=False, index=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("seller", sa.String(length=42), nullable=False, index=True),
        sa.Column("asset_id", sa.BigInteger(), nullable=False),
        sa.Column("shortfall_wh", U256, nullable=False),
        sa.Column("penalty", U256, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
    )
    _versioned(
        "exchange_accounts",
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("sold_wh", U256, nullable=False),
        sa.Column("delivered_wh", U256, nullable=False),
        sa.Column("bought_wh", U256, nullable=False),
        sa.Column("proceeds", U256, nullable=False),
        sa.Column("spent", U256, nullable=False),
        sa.Column("penalties_paid", U256, nullable=False),
        sa.Column("compensation", U256, nullable=False),
        sa.Column("credited", U256, nullable=False),
        sa.Column("withdrawn", U256, nullable=False),
        sa.Column("balance", U256, nullable=False),
    )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
