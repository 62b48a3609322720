"""SQL for entity queries: filters from ``<Type>_filter`` inputs, ordering, cursors, time travel."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Numeric,
    Select,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
)

from api.errors import InvalidArgumentError
from api.graphql.derive import SCALAR_OPS, STRING_OPS, Entity, OrderDirection, normalize, to_python
from indexer.models.versioning import as_of

MAX_SKIP = 5000
_OPS = set(SCALAR_OPS) | set(STRING_OPS)


class Node:
    """A row as the GraphQL layer sees it: column attributes plus the block it was read at."""

    __slots__ = ("_row", "block", "cursor")

    def __init__(self, row: dict[str, Any], block: int | None, cursor: str | None = None) -> None:
        self._row = row
        self.block = block
        self.cursor = cursor

    def __getattr__(self, key: str) -> Any:
        try:
            return self._row[key]
        except KeyError:
            raise AttributeError(key) from None


INT64_MAX = 2**63 - 1


def _typed(col: Any, value: Any, expanding: bool = False) -> Any:
    """A bind parameter typed after the column, so a uint256 bound above 2^63 is sent as NUMERIC
    (SQLAlchemy types a bare Python int as BIGINT, which Postgres refuses as out of range)."""
    values = value if expanding else [value]
    if not any(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return value
    t = col.type
    if isinstance(t, Integer):  # BIGINT columns: only values out of its range need NUMERIC
        if not any(isinstance(v, int) and abs(v) > INT64_MAX for v in values):
            return value
        t = Numeric(78, 0)
    elif not isinstance(t, Numeric):
        return value
    return bindparam(None, values if expanding else values[0], type_=t, expanding=expanding)


def _cond(col: Any, op: str, value: Any) -> ColumnElement[bool]:
    value = normalize(value)
    if op in ("in", "not_in"):
        value = _typed(col, value, expanding=True)
    elif value is not None:
        value = _typed(col, value)
    if op == "":
        return col.is_(None) if value is None else col == value  # type: ignore[no-any-return]
    if op == "not":
        return col.is_not(None) if value is None else or_(col != value, col.is_(None))
    if op == "in":
        return col.in_(value)  # type: ignore[no-any-return]
    if op == "not_in":
        return col.not_in(value)  # type: ignore[no-any-return]
    if op == "gt":
        return col > value  # type: ignore[no-any-return]
    if op == "gte":
        return col >= value  # type: ignore[no-any-return]
    if op == "lt":
        return col < value  # type: ignore[no-any-return]
    if op == "lte":
        return col <= value  # type: ignore[no-any-return]
    pattern = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if op == "contains":
        return col.like(f"%{pattern}%")  # type: ignore[no-any-return]
    if op == "not_contains":
        return col.not_like(f"%{pattern}%")  # type: ignore[no-any-return]
    if op == "starts_with":
        return col.like(f"{pattern}%")  # type: ignore[no-any-return]
    raise InvalidArgumentError(f"unknown filter suffix _{op}")


def where_clause(ent: Entity, where: Any, depth: int = 0) -> ColumnElement[bool]:
    """AND of every set field of a ``<Type>_filter`` (``and``/``or`` nest)."""
    if where is None:
        return true()
    if depth > 8:
        raise InvalidArgumentError("filters nest deeper than 8 levels of and/or")
    parts: list[ColumnElement[bool]] = []
    for attr, value in vars(where).items():
        if value is None:
            continue
        if attr == "and_":
            parts.extend(where_clause(ent, w, depth + 1) for w in value)
            continue
        if attr == "or_":
            parts.append(or_(false(), *(where_clause(ent, w, depth + 1) for w in value)))
            continue
        key, _, op = attr.partition("__")
        if op and op not in _OPS:
            raise InvalidArgumentError(f"unknown filter {attr}")
        if op in ("in", "not_in") and len(value) > 1000:
            raise InvalidArgumentError(f"`{attr}` takes at most 1000 values")
        parts.append(_cond(ent.columns[key], op, value))
    return and_(true(), *parts)


def base_select(ent: Entity, block: int | None) -> Select[Any]:
    cols = [c.label(k) for k, c in ent.columns.items()]
    stmt = select(*cols)
    if ent.versioned:
        stmt = stmt.where(as_of(ent.model, block))
    return stmt


def check_paging(first: int, skip: int, max_first: int) -> None:
    if not 0 <= first <= max_first:
        raise InvalidArgumentError(f"`first` must be between 0 and {max_first}, got {first}")
    if not 0 <= skip <= MAX_SKIP:
        raise InvalidArgumentError(f"`skip` must be between 0 and {MAX_SKIP}, got {skip}")


def order_columns(ent: Entity, order_by: Any, direction: Any) -> tuple[str, bool]:
    key = order_by.value if order_by is not None else "id"
    desc = direction is not None and OrderDirection(direction.value) is OrderDirection.desc
    return key, desc


def order_clause(ent: Entity, key: str, desc: bool) -> list[Any]:
    col, pk = ent.columns[key], ent.columns["id"]
    if desc:
        return [col.desc().nulls_first(), pk.desc()] if key != "id" else [pk.desc()]
    return [col.asc().nulls_last(), pk.asc()] if key != "id" else [pk.asc()]


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(int(v)) if v == v.to_integral_value() else str(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def make_cursor(key: str, row: dict[str, Any]) -> str:
    raw = json.dumps([key, _jsonable(row[key]), _jsonable(row["id"])], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def after_clause(ent: Entity, key: str, desc: bool, cursor: str) -> ColumnElement[bool]:
    """Rows strictly after the cursor in (key, id) order, NULLs last ascending / first descending."""  # noqa: E501
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        ckey, value, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError(f"malformed cursor {cursor!r}") from exc
    if ckey != key or ckey not in ent.columns:
        raise InvalidArgumentError(
            f"the cursor was made for orderBy {ckey!r}; this query orders by {key!r}"
        )
    col, pk = ent.columns[key], ent.columns["id"]
    try:
        value = to_python(ent.py_types[key], value)
        ident = to_python(ent.py_types["id"], ident)
    except (ValueError, ArithmeticError) as exc:
        raise InvalidArgumentError(f"malformed cursor {cursor!r}") from exc
    if key == "id":
        return pk < ident if desc else pk > ident  # type: ignore[no-any-return]
    if not desc:
        if value is None:
            return and_(col.is_(None), pk > ident)
        return or_(col > value, and_(col == value, pk > ident), col.is_(None))
    if value is None:
        return or_(col.is_not(None), and_(col.is_(None), pk < ident))
    return or_(col < value, and_(col == value, pk < ident))


def list_select(
    ent: Entity,
    block: int | None,
    where: Any,
    order_by: Any,
    direction: Any,
    first: int,
    skip: int,
    after: str | None,
    max_first: int,
) -> tuple[Select[Any], str]:
    check_paging(first, skip, max_first)
    key, desc = order_columns(ent, order_by, direction)
    stmt = base_select(ent, block).where(where_clause(ent, where))
    if after:
        stmt = stmt.where(after_clause(ent, key, desc, after))
    stmt = stmt.order_by(*order_clause(ent, key, desc)).offset(skip).limit(first)
    return stmt, key


def children_select(
    ent: Entity,
    fk: str,
    keys: list[Any],
    block: int | None,
    where: Any,
    order_by: Any,
    direction: Any,
    first: int,
    skip: int,
    max_first: int,
) -> tuple[Select[Any], str]:
    """Up to ``first`` children per parent key in one statement (row_number per partition)."""
    check_paging(first, skip, max_first)
    key, desc = order_columns(ent, order_by, direction)
    fkcol = ent.key_expr(fk)
    rn = (
        func.row_number()
        .over(partition_by=fkcol, order_by=order_clause(ent, key, desc))
        .label("_rn")
    )
    stmt0 = base_select(ent, block).add_columns(rn)
    if fk in ent.virtual:
        stmt0 = stmt0.add_columns(fkcol.label(fk))
        # let the planner use the feed_id index before evaluating the computed key
        if "feed_id" in ent.columns:
            stmt0 = stmt0.where(ent.columns["feed_id"].in_({k.split("-")[0] for k in keys}))
    inner = stmt0.where(fkcol.in_(keys)).where(where_clause(ent, where)).subquery()
    stmt = (
        select(inner)
        .where(inner.c._rn > skip, inner.c._rn <= skip + first)
        .order_by(inner.c[fk], inner.c._rn)
    )
    return stmt, key
