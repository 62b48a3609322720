"""Indexer tables: chain entities versioned by block range, plus raw logs, errors, block hashes
and the checkpoint.

Versioning. Every entity table has ``id`` (a stable entity id string), ``block_from`` (inclusive)
and ``block_to`` (exclusive, NULL = the current version); ``(id, block_from)`` is the primary key
and a partial unique index allows one current version per id. The state "as of block N" is the
version with ``block_from <= N AND (block_to IS NULL OR block_to > N)``
(:func:`indexer.models.versioning.as_of`). A reorg rollback to ancestor A deletes versions with
``block_from > A`` and reopens versions with ``block_to > A``; immutable event-history tables
(stake_events, rewards, slashes) use the same columns and simply never close a version.

Encodings: addresses and bytes32 are lowercase 0x-hex strings; uint256 amounts are NUMERIC(78,0);
int64 values and uint64 epochs are BIGINT; values are integers scaled by the feed's decimals.
Entity ids: feed = feedId; epoch-level rows = "<feedId>-<epoch>"; forecast =
"<feedId>-<epoch>-<operator>"; operator/stake/accuracy = operator address; history rows =
"<txHash>-<logIndex>".
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from indexer.db.base import Base

# The shared column types and version columns live in indexer.models.columns (re-exported here).
from indexer.models.columns import ADDR, B32, U256, Versioned  # noqa: E402, F401


class Feed(Versioned, Base):
    """A registered feed (FeedRegistered / FeedParamsUpdated / FeedPaused / FeedUnpaused);
    ``pool`` follows RewardsFunded, EpochSettled, EpochCancelled and ForecastScored (slashes)."""

    __tablename__ = "feeds"
    region: Mapped[str] = mapped_column(Text)
    metric: Mapped[str] = mapped_column(Text)
    resolution_seconds: Mapped[int] = mapped_column(BigInteger)
    genesis: Mapped[int] = mapped_column(BigInteger)
    epoch_length: Mapped[int] = mapped_column(BigInteger)
    epochs_per_round: Mapped[int] = mapped_column(Integer)
    reveal_window: Mapped[int] = mapped_column(BigInteger)
    lead_time: Mapped[int] = mapped_column(BigInteger)
    truth_timeout: Mapped[int] = mapped_column(BigInteger)
    dispute_window: Mapped[int] = mapped_column(BigInteger)
    decimals: Mapped[int] = mapped_column(Integer)
    max_forecasts_per_epoch: Mapped[int] = mapped_column(Integer)
    slash_bps: Mapped[int] = mapped_column(Integer)
    non_reveal_slash_bps: Mapped[int] = mapped_column(Integer)
    min_stake: Mapped[Decimal] = mapped_column(U256)
    reward_per_epoch: Mapped[Decimal] = mapped_column(U256)
    dispute_bond: Mapped[Decimal] = mapped_column(U256)
    tolerance: Mapped[int] = mapped_column(Numeric(20, 0))
    slash_threshold: Mapped[int] = mapped_column(Numeric(20, 0))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pool: Mapped[Decimal] = mapped_column(U256, default=0)
    # First epoch the parameters above apply to (FeedParamsScheduled; earlier epochs keep the
    # parameters they were committed under, see ForecastRegistry.feedParamsAt).
    params_from: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=0)
    registered_block: Mapped[int] = mapped_column(BigInteger)
    registered_tx: Mapped[str] = mapped_column(B32)


class Epoch(Versioned, Base):
    """One epoch of one feed. ``status``: open → finalized (consensus) → truth_submitted →
    disputed → settled | cancelled. Counts follow commits/reveals/scoring."""

    __tablename__ = "epochs"
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    commit_count: Mapped[int] = mapped_column(Integer, default=0)
    reveal_count: Mapped[int] = mapped_column(Integer, default=0)
    scored_count: Mapped[int] = mapped_column(Integer, default=0)
    total_committed_weight: Mapped[Decimal] = mapped_column(U256, default=0)


class Forecast(Versioned, Base):
    """One operator's forecast for one epoch, expanded from a batch: committed
    (ForecastsCommitted), opened (ForecastsRevealed) and scored (ForecastScored)."""

    __tablename__ = "forecasts"
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    operator: Mapped[str] = mapped_column(ADDR, index=True)
    first_epoch: Mapped[int] = mapped_column(BigInteger)  # the batch the forecast belongs to
    commitment: Mapped[str] = mapped_column(B32)
    root: Mapped[str] = mapped_column(B32)
    weight: Mapped[Decimal] = mapped_column(U256)
    relayer: Mapped[str] = mapped_column(ADDR)
    committed_block: Mapped[int] = mapped_column(BigInteger)
    committed_tx: Mapped[str] = mapped_column(B32)
    revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lower: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    upper: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    model_hash: Mapped[str | None] = mapped_column(B32, nullable=True, index=True)
    salt: Mapped[str | None] = mapped_column(B32, nullable=True)
    revealer: Mapped[str | None] = mapped_column(ADDR, nullable=True)
    revealed_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revealed_tx: Mapped[str | None] = mapped_column(B32, nullable=True)
    scored: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    abs_error: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    reward: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    slashed: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    in_interval: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class Consensus(Versioned, Base):
    """The stake-weighted median of an epoch (ConsensusFinalized); id "<feedId>-<epoch>"."""

    __tablename__ = "consensus"
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[int] = mapped_column(BigInteger)
    lower: Mapped[int] = mapped_column(BigInteger)
    upper: Mapped[int] = mapped_column(BigInteger)
    forecasts: Mapped[int] = mapped_column(Integer)
    total_weight: Mapped[Decimal] = mapped_column(U256)
    finalized_block: Mapped[int] = mapped_column(BigInteger)
    finalized_tx: Mapped[str] = mapped_column(B32)


class Truth(Versioned, Base):
    """The measured value of an epoch (TruthSubmitted; value corrected by an upheld dispute).
    ``status``: submitted | disputed | settled | cancelled."""

    __tablename__ = "truths"
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[int] = mapped_column(BigInteger)
    evidence_hash: Mapped[str] = mapped_column(B32)
    reporter: Mapped[str] = mapped_column(ADDR)
    bond: Mapped[Decimal] = mapped_column(U256)
    status: Mapped[str] = mapped_column(String(20))
    submitted_block: Mapped[int] = mapped_column(BigInteger)
    submitted_tx: Mapped[str] = mapped_column(B32)


class Dispute(Versioned, Base):
    """A dispute of an epoch's truth (TruthDisputed, then DisputeResolved)."""

    __tablename__ = "disputes"
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    disputer: Mapped[str] = mapped_column(ADDR)
    proposed_value: Mapped[int] = mapped_column(BigInteger)
    bond: Mapped[Decimal] = mapped_column(U256)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    upheld: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    final_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    winner: Mapped[str | None] = mapped_column(ADDR, nullable=True)
    payout: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    disputed_block: Mapped[int] = mapped_column(BigInteger)
    resolved_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Settlement(Versioned, Base):
    """The outcome of an epoch: EpochSettled (cancelled = false) or EpochCancelled (true)."""

    __tablename__ = "settlements"
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    truth_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reward: Mapped[Decimal] = mapped_column(U256, default=0)
    total_score: Mapped[Decimal] = mapped_column(U256, default=0)
    forecasts: Mapped[int] = mapped_column(Integer, default=0)
    pool_after: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    reporter: Mapped[str | None] = mapped_column(ADDR, nullable=True)
    bond_refund: Mapped[Decimal] = mapped_column(U256, default=0)
    rolled_over: Mapped[Decimal] = mapped_column(U256, default=0)
    settled_block: Mapped[int] = mapped_column(BigInteger)
    settled_tx: Mapped[str] = mapped_column(B32)


class Operator(Versioned, Base):
    """An account that staked or forecast: signer key, reward balance and lifetime totals."""

    __tablename__ = "operators"
    signer: Mapped[str | None] = mapped_column(ADDR, nullable=True)
    reward_balance: Mapped[Decimal] = mapped_column(U256, default=0)  # credited − withdrawn
    total_rewards: Mapped[Decimal] = mapped_column(U256, default=0)
    total_withdrawn: Mapped[Decimal] = mapped_column(U256, default=0)
    total_slashed: Mapped[Decimal] = mapped_column(U256, default=0)
    forecasts_committed: Mapped[int] = mapped_column(Integer, default=0)
    forecasts_revealed: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_block: Mapped[int] = mapped_column(BigInteger)


class Stake(Versioned, Base):
    """An operator's stake state: active stake, unbonding amount and its release time."""

    __tablename__ = "stakes"
    operator: Mapped[str] = mapped_column(ADDR)
    active: Mapped[Decimal] = mapped_column(U256, default=0)
    unbonding: Mapped[Decimal] = mapped_column(U256, default=0)
    release_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class StakeEvent(Versioned, Base):
    """Stake history, one row per Staked / UnstakeRequested / StakeWithdrawn / StakeSlashed
    (``kind``: staked | unstake_requested | withdrawn | slashed). Immutable."""

    __tablename__ = "stake_events"
    operator: Mapped[str] = mapped_column(ADDR, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[Decimal] = mapped_column(U256)
    total_stake: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    total_unbonding: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    release_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)
    log_index: Mapped[int] = mapped_column(Integer)


class Reward(Versioned, Base):
    """Reward movements, immutable. ``kind``: credit (ForecastScored with reward > 0),
    bond_refund (EpochSettled), dispute_payout (DisputeResolved), withdrawal (RewardsWithdrawn)."""

    __tablename__ = "rewards"
    account: Mapped[str] = mapped_column(ADDR, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    feed_id: Mapped[str | None] = mapped_column(B32, nullable=True)
    epoch: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    amount: Mapped[Decimal] = mapped_column(U256)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)
    log_index: Mapped[int] = mapped_column(Integer)


class Slash(Versioned, Base):
    """A StakeSlashed event; feed_id/epoch filled from the ForecastScored of the same claim."""

    __tablename__ = "slashes"
    operator: Mapped[str] = mapped_column(ADDR, index=True)
    epoch_key: Mapped[str] = mapped_column(B32)
    feed_id: Mapped[str | None] = mapped_column(B32, nullable=True)
    epoch: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    amount: Mapped[Decimal] = mapped_column(U256)
    total_stake: Mapped[Decimal] = mapped_column(U256)
    total_unbonding: Mapped[Decimal] = mapped_column(U256)
    recipient: Mapped[str] = mapped_column(ADDR)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)
    log_index: Mapped[int] = mapped_column(Integer)


class OperatorAccuracy(Versioned, Base):
    """Derived per-operator accuracy over scored revealed forecasts: mean absolute error,
    interval hit rate (truth within [lower, upper]), total rewards and slashes."""

    __tablename__ = "operator_accuracy"
    operator: Mapped[str] = mapped_column(ADDR)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    revealed_scored: Mapped[int] = mapped_column(Integer, default=0)
    sum_abs_error: Mapped[Decimal] = mapped_column(U256, default=0)
    mean_abs_error: Mapped[float | None] = mapped_column(Float, nullable=True)
    interval_hits: Mapped[int] = mapped_column(Integer, default=0)
    interval_hit_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    total_rewards: Mapped[Decimal] = mapped_column(U256, default=0)
    total_slashed: Mapped[Decimal] = mapped_column(U256, default=0)


# ---- bookkeeping (not versioned) ----


class RawLog(Base):
    """Every log of a Gridcast contract as fetched, decoded args in JSON (None if undecodable)."""

    __tablename__ = "raw_logs"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_hash: Mapped[str] = mapped_column(B32)
    tx_hash: Mapped[str] = mapped_column(B32)
    address: Mapped[str] = mapped_column(ADDR)
    topics: Mapped[list[str]] = mapped_column(ARRAY(Text))
    data: Mapped[str] = mapped_column(Text)
    contract: Mapped[str | None] = mapped_column(String(40), nullable=True)
    event: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)


class IndexingError(Base):
    """A log that could not be indexed (unknown contract/topic, undecodable payload)."""

    __tablename__ = "indexing_errors"
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str | None] = mapped_column(B32, nullable=True)
    address: Mapped[str | None] = mapped_column(ADDR, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IndexedBlock(Base):
    """Hashes of indexed blocks not yet final (pruned below head − finality_depth)."""

    __tablename__ = "indexed_blocks"
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(B32)
    parent_hash: Mapped[str] = mapped_column(B32)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class IndexerCheckpoint(Base):
    """The last fully indexed block, written in the same transaction as the rows it covers."""

    __tablename__ = "indexer_checkpoint"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(B32, nullable=True)
    head_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


ENTITY_MODELS: tuple[type[Base], ...] = (
    Feed, Epoch, Forecast, Consensus, Truth, Dispute, Settlement, Operator, Stake, StakeEvent,
    Reward, Slash, OperatorAccuracy,
)  # fmt: skip
# Governance tables (GridGovernor) live in their own module, built on Versioned above.
from indexer.models.governance import GOVERNANCE_MODELS  # noqa: E402

ENTITY_MODELS += GOVERNANCE_MODELS
# Second wave: exchange, delivery roots and assets; certificates (their own modules, same columns).
from indexer.models.certificates import CERTIFICATE_MODELS  # noqa: E402
from indexer.models.exchange import EXCHANGE_MODELS  # noqa: E402

ENTITY_MODELS += EXCHANGE_MODELS + CERTIFICATE_MODELS
ENTITY_TABLES: tuple[str, ...] = tuple(m.__tablename__ for m in ENTITY_MODELS)
