"""The ML model registry: one row per saved model artifact (files live under model_dir)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from indexer.db.base import Base


class ModelArtifact(Base):
    """A forecasting model whose ``model_hash`` operators commit on-chain."""

    __tablename__ = "model_artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # 0x-prefixed keccak256 of the artifact (weights bytes + canonical JSON spec): a bytes32.
    model_hash: Mapped[str] = mapped_column(String(66), unique=True, nullable=False)
    feed: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
