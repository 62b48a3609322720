"""Indexer tables: versioned chain entities (feeds, epochs, forecasts, consensus, truths, disputes,
settlements, operators, stakes, stake_events, rewards, slashes, operator_accuracy) and bookkeeping
(raw_logs, indexing_errors, indexed_blocks, indexer_checkpoint).
See indexer/models/indexer_entities.py.

Revision ID: 0010_indexer
Revises: 0001_base
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_indexer"
down_revision = "0001_base"
branch_labels = ("indexer",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consensus",
        sa.Column("feed_id", sa.String(length=66), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("lower", sa.BigInteger(), nullable=False),
        sa.Column("upper", sa.BigInteger(), nullable=False),
        sa.Column("forecasts", sa.Integer(), nullable=False),
        sa.Column("total_weight", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("finalized_block", sa.BigInteger(), nullable=False),
        sa.Column("finalized_tx", sa.String(length=66), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_consensus")),
    )
    op.create_index("ix_consensus_block_to", "consensus", ["block_to"], unique=False)
    op.create_index(op.f("ix_consensus_feed_id"), "consensus", ["feed_id"], unique=False)
    op.create_index(
        "uq_consensus_current",
        "consensus",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "disputes",
        sa.Column("feed_id", sa.String(length=66), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("disputer", sa.String(length=42), nullable=False),
        sa.Column("proposed_value", sa.BigInteger(), nullable=False),
        sa.Column("bond", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("upheld", sa.Boolean(), nullable=True),
        sa.Column("final_value", sa.BigInteger(), nullable=True),
        sa.Column("winner", sa.String(length=42), nullable=True),
        sa.Column("payout", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("disputed_block", sa.BigInteger(), nullable=False),
        sa.Column("resolved_block", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_disputes")),
    )
    op.create_index("ix_disputes_block_to", "disputes", ["block_to"], unique=False)
    op.create_index(op.f("ix_disputes_feed_id"), "disputes", ["feed_id"], unique=False)
    op.create_index(
        "uq_disputes_current",
        "disputes",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "epochs",
        sa.Column("feed_id", sa.String(length=66), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("commit_count", sa.Integer(), nullable=False),
        sa.Column("reveal_count", sa.Integer(), nullable=False),
        sa.Column("scored_count", sa.Integer(), nullable=False),
        sa.Column("total_committed_weight", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_epochs")),
    )
    op.create_index("ix_epochs_block_to", "epochs", ["block_to"], unique=False)
    op.create_index(op.f("ix_epochs_feed_id"), "epochs", ["feed_id"], unique=False)
    op.create_index(
        "uq_epochs_current",
        "epochs",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "feeds",
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("resolution_seconds", sa.BigInteger(), nullable=False),
        sa.Column("genesis", sa.BigInteger(), nullable=False),
        sa.Column("epoch_length", sa.BigInteger(), nullable=False),
        sa.Column("epochs_per_round", sa.Integer(), nullable=False),
        sa.Column("reveal_window", sa.BigInteger(), nullable=False),
        sa.Column("lead_time", sa.BigInteger(), nullable=False),
        sa.Column("truth_timeout", sa.BigInteger(), nullable=False),
        sa.Column("dispute_window", sa.BigInteger(), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("max_forecasts_per_epoch", sa.Integer(), nullable=False),
        sa.Column("slash_bps", sa.Integer(), nullable=False),
        sa.Column("non_reveal_slash_bps", sa.Integer(), nullable=False),
        sa.Column("min_stake", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("reward_per_epoch", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("dispute_bond", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("tolerance", sa.Numeric(precision=20, scale=0), nullable=False),
        sa.Column("slash_threshold", sa.Numeric(precision=20, scale=0), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("pool", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("registered_tx", sa.String(length=66), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_feeds")),
    )
    op.create_index("ix_feeds_block_to", "feeds", ["block_to"], unique=False)
    op.create_index(
        "uq_feeds_current",
        "feeds",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "forecasts",
        sa.Column("feed_id", sa.String(length=66), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("operator", sa.String(length=42), nullable=False),
        sa.Column("first_epoch", sa.BigInteger(), nullable=False),
        sa.Column("commitment", sa.String(length=66), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("weight", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("relayer", sa.String(length=42), nullable=False),
        sa.Column("committed_block", sa.BigInteger(), nullable=False),
        sa.Column("committed_tx", sa.String(length=66), nullable=False),
        sa.Column("revealed", sa.Boolean(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("lower", sa.BigInteger(), nullable=True),
        sa.Column("upper", sa.BigInteger(), nullable=True),
        sa.Column("model_hash", sa.String(length=66), nullable=True),
        sa.Column("salt", sa.String(length=66), nullable=True),
        sa.Column("revealer", sa.String(length=42), nullable=True),
        sa.Column("revealed_block", sa.BigInteger(), nullable=True),
        sa.Column("revealed_tx", sa.String(length=66), nullable=True),
        sa.Column("scored", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("abs_error", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("reward", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("slashed", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("in_interval", sa.Boolean(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_forecasts")),
    )
    op.create_index("ix_forecasts_block_to", "forecasts", ["block_to"], unique=False)
    op.create_index(op.f("ix_forecasts_feed_id"), "forecasts", ["feed_id"], unique=False)
    op.create_index(op.f("ix_forecasts_model_hash"), "forecasts", ["model_hash"], unique=False)
    op.create_index(op.f("ix_forecasts_operator"), "forecasts", ["operator"], unique=False)
    op.create_index(
        "uq_forecasts_current",
        "forecasts",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "indexed_blocks",
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("parent_hash", sa.String(length=66), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_indexed_blocks")),
    )
    op.create_table(
        "indexer_checkpoint",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("head_block", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_indexer_checkpoint")),
    )
    op.create_table(
        "indexing_errors",
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("address", sa.String(length=42), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("block_number", "log_index", name=op.f("pk_indexing_errors")),
    )
    op.create_table(
        "operator_accuracy",
        sa.Column("operator", sa.String(length=42), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("revealed_scored", sa.Integer(), nullable=False),
        sa.Column("sum_abs_error", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("mean_abs_error", sa.Float(), nullable=True),
        sa.Column("interval_hits", sa.Integer(), nullable=False),
        sa.Column("interval_hit_rate", sa.Float(), nullable=True),
        sa.Column("total_rewards", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("total_slashed", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_operator_accuracy")),
    )
    op.create_index(
        "ix_operator_accuracy_block_to", "operator_accuracy", ["block_to"], unique=False
    )
    op.create_index(
        "uq_operator_accuracy_current",
        "operator_accuracy",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "operators",
        sa.Column("signer", sa.String(length=42), nullable=True),
        sa.Column("reward_balance", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("total_rewards", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("total_withdrawn", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("total_slashed", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("forecasts_committed", sa.Integer(), nullable=False),
        sa.Column("forecasts_revealed", sa.Integer(), nullable=False),
        sa.Column("first_seen_block", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_operators")),
    )
    op.create_index("ix_operators_block_to", "operators", ["block_to"], unique=False)
    op.create_index(
        "uq_operators_current",
        "operators",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "raw_logs",
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("topics", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("contract", sa.String(length=40), nullable=True),
        sa.Column("event", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("block_number", "log_index", name=op.f("pk_raw_logs")),
    )
    op.create_index(op.f("ix_raw_logs_event"), "raw_logs", ["event"], unique=False)
    op.create_table(
        "rewards",
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("feed_id", sa.String(length=66), nullable=True),
        sa.Column("epoch", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_rewards")),
    )
    op.create_index(op.f("ix_rewards_account"), "rewards", ["account"], unique=False)
    op.create_index("ix_rewards_block_to", "rewards", ["block_to"], unique=False)
    op.create_index(
        "uq_rewards_current",
        "rewards",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "settlements",
        sa.Column("feed_id", sa.String(length=66), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("truth_value", sa.BigInteger(), nullable=True),
        sa.Column("reward", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("total_score", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("forecasts", sa.Integer(), nullable=False),
        sa.Column("pool_after", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("reporter", sa.String(length=42), nullable=True),
        sa.Column("bond_refund", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("rolled_over", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("settled_block", sa.BigInteger(), nullable=False),
        sa.Column("settled_tx", sa.String(length=66), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_settlements")),
    )
    op.create_index("ix_settlements_block_to", "settlements", ["block_to"], unique=False)
    op.create_index(op.f("ix_settlements_feed_id"), "settlements", ["feed_id"], unique=False)
    op.create_index(
        "uq_settlements_current",
        "settlements",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "slashes",
        sa.Column("operator", sa.String(length=42), nullable=False),
        sa.Column("epoch_key", sa.String(length=66), nullable=False),
        sa.Column("feed_id", sa.String(length=66), nullable=True),
        sa.Column("epoch", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("total_stake", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("total_unbonding", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("recipient", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_slashes")),
    )
    op.create_index("ix_slashes_block_to", "slashes", ["block_to"], unique=False)
    op.create_index(op.f("ix_slashes_operator"), "slashes", ["operator"], unique=False)
    op.create_index(
        "uq_slashes_current",
        "slashes",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "stake_events",
        sa.Column("operator", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("total_stake", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("total_unbonding", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("release_at", sa.BigInteger(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_stake_events")),
    )
    op.create_index("ix_stake_events_block_to", "stake_events", ["block_to"], unique=False)
    op.create_index(op.f("ix_stake_events_operator"), "stake_events", ["operator"], unique=False)
    op.create_index(
        "uq_stake_events_current",
        "stake_events",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "stakes",
        sa.Column("operator", sa.String(length=42), nullable=False),
        sa.Column("active", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("unbonding", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("release_at", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_stakes")),
    )
    op.create_index("ix_stakes_block_to", "stakes", ["block_to"], unique=False)
    op.create_index(
        "uq_stakes_current",
        "stakes",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.create_table(
        "truths",
        sa.Column("feed_id", sa.String(length=66), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("reporter", sa.String(length=42), nullable=False),
        sa.Column("bond", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_block", sa.BigInteger(), nullable=False),
        sa.Column("submitted_tx", sa.String(length=66), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("block_from", sa.BigInteger(), nullable=False),
        sa.Column("block_to", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "block_from", name=op.f("pk_truths")),
    )
    op.create_index("ix_forecasts_feed_epoch", "forecasts", ["feed_id", "epoch"])
    op.create_index("ix_truths_block_to", "truths", ["block_to"], unique=False)
    op.create_index(op.f("ix_truths_feed_id"), "truths", ["feed_id"], unique=False)
    op.create_index(
        "uq_truths_current",
        "truths",
        ["id"],
        unique=True,
        postgresql_where=sa.text("block_to IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_forecasts_feed_epoch", table_name="forecasts")
    op.drop_index(
        "uq_truths_current", table_name="truths", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index(op.f("ix_truths_feed_id"), table_name="truths")
    op.drop_index("ix_truths_block_to", table_name="truths")
    op.drop_table("truths")
    op.drop_index(
        "uq_stakes_current", table_name="stakes", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index("ix_stakes_block_to", table_name="stakes")
    op.drop_table("stakes")
    op.drop_index(
        "uq_stake_events_current",
        table_name="stake_events",
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.drop_index(op.f("ix_stake_events_operator"), table_name="stake_events")
    op.drop_index("ix_stake_events_block_to", table_name="stake_events")
    op.drop_table("stake_events")
    op.drop_index(
        "uq_slashes_current", table_name="slashes", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index(op.f("ix_slashes_operator"), table_name="slashes")
    op.drop_index("ix_slashes_block_to", table_name="slashes")
    op.drop_table("slashes")
    op.drop_index(
        "uq_settlements_current",
        table_name="settlements",
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.drop_index(op.f("ix_settlements_feed_id"), table_name="settlements")
    op.drop_index("ix_settlements_block_to", table_name="settlements")
    op.drop_table("settlements")
    op.drop_index(
        "uq_rewards_current", table_name="rewards", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index("ix_rewards_block_to", table_name="rewards")
    op.drop_index(op.f("ix_rewards_account"), table_name="rewards")
    op.drop_table("rewards")
    op.drop_index(op.f("ix_raw_logs_event"), table_name="raw_logs")
    op.drop_table("raw_logs")
    op.drop_index(
        "uq_operators_current", table_name="operators", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index("ix_operators_block_to", table_name="operators")
    op.drop_table("operators")
    op.drop_index(
        "uq_operator_accuracy_current",
        table_name="operator_accuracy",
        postgresql_where=sa.text("block_to IS NULL"),
    )
    op.drop_index("ix_operator_accuracy_block_to", table_name="operator_accuracy")
    op.drop_table("operator_accuracy")
    op.drop_table("indexing_errors")
    op.drop_table("indexer_checkpoint")
    op.drop_table("indexed_blocks")
    op.drop_index(
        "uq_forecasts_current", table_name="forecasts", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index(op.f("ix_forecasts_operator"), table_name="forecasts")
    op.drop_index(op.f("ix_forecasts_model_hash"), table_name="forecasts")
    op.drop_index(op.f("ix_forecasts_feed_id"), table_name="forecasts")
    op.drop_index("ix_forecasts_block_to", table_name="forecasts")
    op.drop_table("forecasts")
    op.drop_index(
        "uq_feeds_current", table_name="feeds", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index("ix_feeds_block_to", table_name="feeds")
    op.drop_table("feeds")
    op.drop_index(
        "uq_epochs_current", table_name="epochs", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index(op.f("ix_epochs_feed_id"), table_name="epochs")
    op.drop_index("ix_epochs_block_to", table_name="epochs")
    op.drop_table("epochs")
    op.drop_index(
        "uq_disputes_current", table_name="disputes", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index(op.f("ix_disputes_feed_id"), table_name="disputes")
    op.drop_index("ix_disputes_block_to", table_name="disputes")
    op.drop_table("disputes")
    op.drop_index(
        "uq_consensus_current", table_name="consensus", postgresql_where=sa.text("block_to IS NULL")
    )
    op.drop_index(op.f("ix_consensus_feed_id"), table_name="consensus")
    op.drop_index("ix_consensus_block_to", table_name="consensus")
    op.drop_table("consensus")
