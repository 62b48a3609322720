"""The column types and block-range version columns every entity table shares (see
indexer_entities for the versioning rules). A module of its own so the table modules that
indexer_entities gathers (governance, exchange, certificates) import it without a cycle."""

from __future__ import annotations

from sqlalchemy import BigInteger, Numeric, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

U256 = Numeric(78, 0)
ADDR = String(42)
B32 = String(66)


class Versioned:
    """The block-range version columns shared by every entity table."""

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    block_from: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_to: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[object, ...]:  # noqa: N805
        from sqlalchemy import Index, text

        name = cls.__tablename__  # type: ignore[attr-defined]
        return (
            Index(
                f"uq_{name}_current", "id", unique=True, postgresql_where=text("block_to IS NULL")
            ),
            Index(f"ix_{name}_block_to", "block_to"),
        )
