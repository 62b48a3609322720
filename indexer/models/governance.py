"""Governance tables (GridGovernor events): proposals with their state and tallies, and one
immutable row per vote. Versioned like every entity table (see indexer_entities)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from indexer.db.base import Base
from indexer.models.columns import ADDR, B32, U256, Versioned


class Proposal(Versioned, Base):
    """A proposal (ProposalCreated), its tallies (VoteCast) and its state (``pending`` →
    ``queued`` (ProposalQueued, ``eta``) → ``executed``, or ``canceled``). ``id`` is the proposal
    id in decimal; the actions are the targets, values and calldatas that execute."""

    __tablename__ = "proposals"
    proposer: Mapped[str] = mapped_column(ADDR, index=True)
    targets: Mapped[list[str]] = mapped_column(ARRAY(Text))
    values: Mapped[list[str]] = mapped_column(ARRAY(Text))
    calldatas: Mapped[list[str]] = mapped_column(ARRAY(Text))
    description: Mapped[str] = mapped_column(Text)
    vote_start: Mapped[int] = mapped_column(BigInteger)
    vote_end: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(12))
    for_votes: Mapped[Decimal] = mapped_column(U256, default=0)
    against_votes: Mapped[Decimal] = mapped_column(U256, default=0)
    abstain_votes: Mapped[Decimal] = mapped_column(U256, default=0)
    eta: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_block: Mapped[int] = mapped_column(BigInteger)
    created_tx: Mapped[str] = mapped_column(B32)
    executed_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    executed_tx: Mapped[str | None] = mapped_column(B32, nullable=True)


class GovernanceVote(Versioned, Base):
    """One VoteCast (support: 0 against, 1 for, 2 abstain). Immutable; id "<txHash>-<logIndex>"."""

    __tablename__ = "governance_votes"
    proposal_id: Mapped[str] = mapped_column(String(80), index=True)
    voter: Mapped[str] = mapped_column(ADDR, index=True)
    support: Mapped[int] = mapped_column(Integer)
    weight: Mapped[Decimal] = mapped_column(U256)
    reason: Mapped[str] = mapped_column(Text)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)


GOVERNANCE_MODELS: tuple[type[Base], ...] = (Proposal, GovernanceVote)
