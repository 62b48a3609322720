"""ml's own description of the table it writes, `model_artifacts` (created by migration 0101).

ml reaches Postgres through this table alone, never through the indexer's models (DESIGN.md: domain
packages import no other domain package). The API reads the same table through its ORM model in
`indexer.models.ml_registry`; `tests/ml/test_registry_table.py` keeps the two descriptions equal.
It sits on a MetaData of its own so that it never joins the schema that migrations describe."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

MODEL_ARTIFACTS = Table(
    "model_artifacts",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    # 0x-prefixed keccak256 of the artifact (weights bytes + canonical JSON spec): a bytes32.
    Column("model_hash", String(66), unique=True, nullable=False),
    Column("feed", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("metadata", JSONB, nullable=False),
    Column("path", Text, nullable=False),
)
