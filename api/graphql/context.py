"""Per-request context: the database, DataLoaders and the indexed block range."""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.errors import BlockNotIndexedError, InvalidArgumentError
from api.graphql.derive import ENTITIES, Entity
from api.graphql.sql import Node, base_select, children_select, make_cursor
from gridcast.settings import Settings

BLOCK_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


@dataclass
class Indexed:
    number: int
    hash: str | None


class Context(BaseContext):
    def __init__(self, engine: AsyncEngine, settings: Settings, state: Any) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.state = state  # app.state: pubsub hub, records service
        self.reader = getattr(state, "reader", engine)  # autocommit reads, see create_app
        self._loaders: dict[Any, DataLoader[Any, Any]] = {}
        self._indexed: asyncio.Future[Indexed] | None = None
        self._shared: dict[Any, asyncio.Future[Any]] = {}

    # ---- database ----

    async def rows(self, stmt: Any, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        async with self.reader.connect() as conn:
            result = await conn.execute(stmt, params or {})
            return [dict(r) for r in result.mappings()]

    async def indexed(self) -> Indexed:
        """The indexer's checkpoint, read once per request (concurrent resolvers share it)."""
        if self._indexed is None:
            self._indexed = asyncio.ensure_future(self._read_indexed())
        return await self._indexed

    async def _read_indexed(self) -> Indexed:
        rows = await self.rows(
            text(
                "SELECT c.block_number, coalesce(c.block_hash, b.hash) AS hash "
                "FROM indexer_checkpoint c LEFT JOIN indexed_blocks b "
                "ON b.number = c.block_number WHERE c.name = 'default'"
            )
        )
        return Indexed(int(rows[0]["block_number"]), rows[0]["hash"]) if rows else Indexed(-1, None)

    def shared(self, key: Any, make: Any) -> Any:
        """An awaitable computed once per request for ``key`` (``make()`` returns a coroutine):
        many aliases of one field run one statement."""
        if key not in self._shared:
            self._shared[key] = asyncio.ensure_future(make())
        return self._shared[key]

    async def resolve_block(self, block: Any) -> int | None:
        """``block: {number | hash}`` → a block number the indexer has reached (None = latest)."""
        if block is None or (block.number is None and block.hash is None):
            return None
        head = await self.indexed()
        if block.hash is not None:
            if not BLOCK_HASH.match(block.hash):
                raise InvalidArgumentError(
                    f"malformed block hash {block.hash!r}: expected 0x + 64 hex digits"
                )
            found = await self.rows(
                text("SELECT number FROM indexed_blocks WHERE hash = :h"), {"h": block.hash.lower()}
            )
            if not found:
                raise BlockNotIndexedError(
                    f"block hash {block.hash} is not among the indexed unfinalized blocks"
                )
            number = int(found[0]["number"])
            if block.number is not None and block.number != number:
                raise InvalidArgumentError(f"block hash {block.hash} is block {number}")
        else:
            number = int(block.number)
        if number < 0:
            raise InvalidArgumentError(f"block number must be >= 0, got {number}")
        if number > head.number:
            raise BlockNotIndexedError(
                f"block {number} is not indexed yet: the indexer has reached block {head.number}"
            )
        return number

    # ---- loaders ----

    def one(self, ent: Entity, column: str, block: int | None) -> DataLoader[Any, Node | None]:
        """Rows of ``ent`` by a unique-per-version column, batched per (entity, column, block)."""
        key = ("one", ent.name, column, block)
        if key not in self._loaders:

            async def load(keys: list[Any]) -> list[Node | None]:
                stmt = base_select(ent, block).where(ent.columns[column].in_(set(keys)))
                found = {r[column]: Node(r, block) for r in await self.rows(stmt)}
                return [found.get(k) for k in keys]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def many(
        self,
        ent: Entity,
        fk: str,
        block: int | None,
        where: Any,
        order_by: Any,
        direction: Any,
        first: int,
        skip: int,
    ) -> DataLoader[Any, list[Node]]:
        """Children of many parents with the same arguments, in one statement."""
        sig = json.dumps(_plain(where), sort_keys=True, default=str)
        key = ("many", ent.name, fk, block, sig, str(order_by), str(direction), first, skip)
        if key not in self._loaders:
            max_first = self.settings.max_first

            async def load(keys: list[Any]) -> list[list[Node]]:
                stmt, okey = children_select(
                    ent, fk, list(set(keys)), block, where, order_by, direction, first, skip,
                    max_first,
                )  # fmt: skip
                grouped: dict[Any, list[Node]] = defaultdict(list)
                for r in await self.rows(stmt):
                    r.pop("_rn", None)
                    grouped[r[fk]].append(Node(r, block, make_cursor(okey, r)))
                return [grouped.get(k, []) for k in keys]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]


def _plain(where: Any) -> Any:
    if where is None or isinstance(where, str | int | float | bool):
        return where
    if isinstance(where, list):
        return [_plain(w) for w in where]
    if hasattr(where, "__dict__"):
        return {k: _plain(v) for k, v in vars(where).items() if v is not None}
    return str(where)


@dataclass
class Relation:
    """A to-many relation: children of ``target`` whose ``fk`` equals the parent's ``key``."""

    target: str
    fk: str
    key: str = "id"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ent(self) -> Entity:
        return ENTITIES[self.target]
