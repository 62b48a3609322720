"""Everything the schema needs about an entity, derived once from its SQLAlchemy model.

From the model's columns come the GraphQL fields of the type (:func:`entity_fields`), the
``<Type>_filter`` input with The Graph's suffix filters and ``and``/``or``, and the
``<Type>_orderBy`` enum, so a column added to a model shows up everywhere without a parallel copy.
"""

from __future__ import annotations

import enum
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

import strawberry
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, Integer, Numeric
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from api.graphql.scalars import JSON, BigInt

SCALAR_OPS = ("not", "gt", "gte", "lt", "lte", "in", "not_in")
STRING_OPS = ("contains", "not_contains", "starts_with")
HEX = re.compile(r"^0x[0-9a-fA-F]*$")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _py_type(col: Column[Any]) -> Any:
    t = col.type
    if isinstance(t, JSONB | ARRAY):
        return JSON
    if isinstance(t, Boolean):
        return bool
    if isinstance(t, BigInteger | Numeric) and not isinstance(t, Float):
        return BigInt
    if isinstance(t, Integer):
        return int
    if isinstance(t, Float):
        return float
    if isinstance(t, DateTime):
        return datetime
    return str


class OrderDirection(enum.Enum):
    asc = "asc"
    desc = "desc"


OrderDirectionEnum = strawberry.enum(OrderDirection, name="OrderDirection")


@strawberry.input(name="Block_height", description="Answer as of this indexed block.")
class BlockHeight:
    number: int | None = None
    hash: str | None = None


@dataclass
class Entity:
    """One queryable entity: its model, names, id format and derived inputs."""

    name: str
    model: Any
    single: str
    plural: str
    id_pattern: re.Pattern[str]
    id_hint: str
    columns: dict[str, Column[Any]] = field(default_factory=dict)
    py_types: dict[str, Any] = field(default_factory=dict)
    where: Any = None
    order: Any = None
    type: Any = None
    virtual: dict[str, Any] = field(default_factory=dict)  # relation keys computed in SQL

    def key_expr(self, name: str) -> Any:
        return self.virtual[name] if name in self.virtual else self.columns[name]

    @property
    def versioned(self) -> bool:
        return "block_to" in self.columns

    @property
    def table(self) -> Any:
        return self.model.__table__

    def check_id(self, value: str) -> None:
        from api.errors import InvalidArgumentError

        if not self.id_pattern.match(value):
            raise InvalidArgumentError(
                f"malformed {self.name} id {value!r}: expected {self.id_hint}"
            )


ENTITIES: dict[str, Entity] = {}


def _where_input(ent: Entity) -> Any:
    """``<Name>_filter``: equality plus suffix filters per column, and ``and``/``or``."""
    name = f"{ent.name}_filter"
    ns: dict[str, Any] = {}
    ann: dict[str, Any] = {}
    for key, py in ent.py_types.items():
        if py is JSON:
            continue
        gname = camel(key)
        ops: tuple[str, ...] = ("",) + (("not", "in", "not_in") if py is bool else SCALAR_OPS)
        if py is str:
            ops += STRING_OPS
        for op in ops:
            attr = f"{key}__{op}" if op else key
            t: Any = list[py] if op in ("in", "not_in") else py  # type: ignore[valid-type]
            ann[attr] = Optional[t]  # noqa: UP045 - a runtime annotation object
            ns[attr] = strawberry.field(name=f"{gname}_{op}" if op else gname, default=None)
    ann["and_"] = Optional[list[name]]  # type: ignore[valid-type]  # noqa: UP045
    ns["and_"] = strawberry.field(name="and", default=None)
    ann["or_"] = Optional[list[name]]  # type: ignore[valid-type]  # noqa: UP045
    ns["or_"] = strawberry.field(name="or", default=None)
    ns["__annotations__"] = ann
    ns["__module__"] = __name__
    cls = type(name, (), ns)
    setattr(sys.modules[__name__], name, cls)  # lets the self-reference in and/or resolve
    return strawberry.input(cls, name=name)


def _order_enum(ent: Entity) -> Any:
    members = {camel(k): k for k, py in ent.py_types.items() if py is not JSON}
    return strawberry.enum(enum.Enum(f"{ent.name}_orderBy", members), name=f"{ent.name}_orderBy")  # type: ignore[misc,call-overload]


def register(
    name: str, model: Any, single: str, plural: str, id_pattern: str, id_hint: str
) -> Entity:
    ent = Entity(name, model, single, plural, re.compile(id_pattern), id_hint)
    for attr in sa_inspect(model).column_attrs:
        col = attr.columns[0]
        ent.columns[attr.key] = col
        ent.py_types[attr.key] = _py_type(col)
    ent.where = _where_input(ent)
    ent.order = _order_enum(ent)
    ENTITIES[name] = ent
    return ent


def entity_type(ent: Entity, description: str) -> Any:
    """Class decorator: add one field per model column, then make it a Strawberry type."""

    def deco(cls: type) -> Any:
        ann = dict(cls.__dict__.get("__annotations__", {}))
        for key, py in ent.py_types.items():
            if key in ann or key in cls.__dict__:
                continue
            col = ent.columns[key]
            ann[key] = Optional[py] if col.nullable and not col.primary_key else py  # noqa: UP045
        if "cursor" not in cls.__dict__:
            ann["cursor"] = Optional[str]  # noqa: UP045
            cls.cursor = strawberry.field(  # type: ignore[attr-defined]
                default=None, description="Opaque position for `after:` paging in list fields."
            )
        cls.__annotations__ = ann
        t = strawberry.type(cls, name=ent.name, description=description)
        ent.type = t
        return t

    return deco


def to_python(py: Any, value: Any) -> Any:
    """A JSON-decoded cursor value back to the column's Python type."""
    if value is None:
        return None
    if py is BigInt:
        return Decimal(value) if isinstance(value, str) else int(value)
    if py is int:
        return int(value)
    if py is float:
        return float(value)
    if py is bool:
        return bool(value)
    if py is datetime:
        return datetime.fromisoformat(value)
    return value


def normalize(value: Any) -> Any:
    """Hex strings are stored lowercase; accept checksummed input."""
    if isinstance(value, str) and HEX.match(value.split("-", 1)[0]):
        return value.lower()
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value
