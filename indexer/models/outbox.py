"""The indexer's durable outbox: every notification of every committed batch, by position.

Each batch writes its notifications (deduplicated, then ``gridcast:newBlock`` last) into
``indexer_outbox`` in the transaction that commits the batch, so a row exists exactly when the
rows it announces do. ``position`` comes from a sequence and only the indexer (one writer, under
an advisory lock) inserts, so positions grow in commit order. A reorg appends a
``gridcast:reorg`` row; rows announcing orphaned blocks stay (consumers saw them).

Consumers read ``position > cursor ORDER BY position`` and keep their cursor: live fan-out (the
API's Hub) in memory from its start, durable consumers (the record re-verifier) in
``outbox_cursors``, so one that was down or slow catches up exactly once.

Retention (:func:`indexer.notify.Notifier.prune`): a row is deleted once it is more than
``keep`` positions behind the newest *and* every durable cursor has passed it, or once it is
older than ``max_age`` whatever the cursors say (so a consumer registered and then abandoned
cannot grow the table for ever). A consumer whose cursor falls below the oldest kept row has
missed rows and must resynchronise in full (the re-verifier then re-checks every record).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from indexer.db.base import Base


class OutboxEntry(Base):
    """One notification of a committed batch; ``position`` orders them."""

    __tablename__ = "indexer_outbox"
    position: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class OutboxCursor(Base):
    """A durable consumer's position: every outbox row at or below it has been handled."""

    __tablename__ = "outbox_cursors"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
