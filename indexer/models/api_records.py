"""API tables: off-chain forecast records behind on-chain commitments, SIWE nonces and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from indexer.db.base import Base


class ForecastRecord(Base):
    """The full record behind one committed batch (curve, quantiles, model, features, salt).

    ``verified``: NULL until the on-chain commit is indexed, then true when the recomputed
    commitments and root match it (and, once revealed, the opened values), else false with
    ``reason``. Mismatching uploads are kept, never dropped."""

    __tablename__ = "api_forecast_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed_id: Mapped[str] = mapped_column(String(66), index=True)
    operator: Mapped[str] = mapped_column(String(42), index=True)
    first_epoch: Mapped[int] = mapped_column(BigInteger)
    epochs: Mapped[int] = mapped_column(Integer)
    values: Mapped[list[int]] = mapped_column(JSONB)
    lowers: Mapped[list[int]] = mapped_column(JSONB)
    uppers: Mapped[list[int]] = mapped_column(JSONB)
    quantiles: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    model_hash: Mapped[str] = mapped_column(String(66))
    model_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    feature_snapshot_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    salt: Mapped[str] = mapped_column(String(66))
    root: Mapped[str] = mapped_column(String(66), index=True)
    commitments: Mapped[list[str]] = mapped_column(JSONB)
    uploaded_by: Mapped[str] = mapped_column(String(42))
    verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reveal_verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SiweNonce(Base):
    """A single-use SIWE nonce with its expiry."""

    __tablename__ = "api_siwe_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ApiSession(Base):
    """A session issued after a verified SIWE message (the token carries its id)."""

    __tablename__ = "api_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), index=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
