"""Block-range versioning of entity rows: the "as of block N" filter the API and tests share.

A version is visible at block N when ``block_from <= N`` and (``block_to`` is NULL or
``block_to > N``); the current version has ``block_to IS NULL``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_


def as_of(model: Any, block: int | None) -> ColumnElement[bool]:
    """Filter for ``model`` rows visible at ``block`` (None = the current versions)."""
    if block is None:
        return model.block_to.is_(None)  # type: ignore[no-any-return]
    return and_(model.block_from <= block, or_(model.block_to.is_(None), model.block_to > block))


def as_of_sql(block: int | None, alias: str = "") -> str:
    """The same filter as a SQL fragment with a ``:as_of_block`` bind parameter (None → current)."""
    p = f"{alias}." if alias else ""
    if block is None:
        return f"{p}block_to IS NULL"
    return f"{p}block_from <= :as_of_block AND ({p}block_to IS NULL OR {p}block_to > :as_of_block)"
