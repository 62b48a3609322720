"""Relation resolvers shared by the type modules; all go through the context's DataLoaders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Optional

from strawberry.types import Info

from api.graphql.derive import ENTITIES, normalize
from api.graphql.sql import Node

DEFAULT_FIRST = 100


async def one(info: Info[Any, Any], parent: Node, target: str, column: str, value: Any) -> Any:
    """The row of ``target`` whose ``column`` equals ``value``, at the parent's block."""
    if value is None:
        return None
    ent = ENTITIES[target]
    block = parent.block if ent.versioned else None
    return await info.context.one(ent, column, block).load(normalize(value))


async def many(
    info: Info[Any, Any],
    parent: Node,
    target: str,
    fk: str,
    value: Any,
    where: Any = None,
    order_by: Any = None,
    order_direction: Any = None,
    first: int = DEFAULT_FIRST,
    skip: int = 0,
) -> list[Any]:
    """Rows of ``target`` whose ``fk`` equals ``value``, at the parent's block, batched."""
    ent = ENTITIES[target]
    block = parent.block if ent.versioned else None
    loader = info.context.many(ent, fk, block, where, order_by, order_direction, first, skip)
    return await loader.load(normalize(value))  # type: ignore[no-any-return]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def lazy(target: str) -> Any:
    """A forward reference to ``target``'s type in its own module (types refer to each other)."""
    import strawberry

    return Annotated[target, strawberry.lazy(f"api.graphql.types.{_snake(target)}")]


def list_field(
    target: str, fk: str, key: str | Callable[[Any], Any] = "id", description: str | None = None
) -> Any:
    """A to-many relation field with the list arguments (where, orderBy, first, skip): the
    ``target`` rows whose ``fk`` equals this row's ``key`` (an attribute, or a function of the
    row)."""
    import strawberry

    from api.graphql.derive import OrderDirectionEnum

    async def resolver(  # type: ignore[no-untyped-def]
        self, info, where=None, order_by=None, order_direction=None, first=DEFAULT_FIRST, skip=0
    ) -> Any:
        value = key(self) if callable(key) else getattr(self, key)
        return await many(
            info, self, target, fk, value, where, order_by, order_direction, first, skip,
        )  # fmt: skip

    ent = ENTITIES[target]
    resolver.__annotations__ = {
        "info": Info,
        "where": Optional[ent.where],  # noqa: UP045
        "order_by": Optional[ent.order],  # noqa: UP045
        "order_direction": Optional[OrderDirectionEnum],  # noqa: UP045
        "first": int,
        "skip": int,
        "return": list[lazy(target)],  # type: ignore[misc]
    }
    return strawberry.field(resolver=resolver, description=description)


def one_field(
    target: str, column: str, key: str | Callable[[Any], Any], description: str | None = None
) -> Any:
    """A to-one relation: the ``target`` row whose ``column`` equals this row's ``key``."""
    import strawberry

    async def resolver(self, info) -> Any:  # type: ignore[no-untyped-def]
        value = key(self) if callable(key) else getattr(self, key)
        return await one(info, self, target, column, value)

    resolver.__annotations__ = {"info": Info, "return": Optional[lazy(target)]}  # noqa: UP045
    return strawberry.field(resolver=resolver, description=description)
