"""The schema: a single and a list field per entity, `_meta`, the upload mutation and the
subscriptions. Fields are generated from the entity registry, so every entity gets the same
arguments (where, orderBy, orderDirection, first, skip, after, block)."""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator
from typing import Any, Optional

import strawberry
from sqlalchemy import text
from strawberry.types import Info

from api.errors import InvalidArgumentError
from api.graphql.derive import BlockHeight, Entity, OrderDirectionEnum
from api.graphql.entities import ALL
from api.graphql.relations import DEFAULT_FIRST, _snake
from api.graphql.sql import Node, base_select, list_select, make_cursor
from api.graphql.types.carbon_wallet import carbon_leaderboard
from api.graphql.types.events import (
    CertificateRetiredEvent,
    ClearingPublishedEvent,
    EpochEvent,
    ForecastRevealedEvent,
    NewBlockEvent,
    OrderPlacedEvent,
)
from api.graphql.types.meta import Meta, MetaBlock
from api.graphql.types.meter_reading import meter_reading

for _ent in ALL:  # the type modules attach themselves to the registry
    importlib.import_module(f"api.graphql.types.{_snake(_ent.name)}")


def _single(ent: Entity) -> Any:
    async def resolver(info: Info, id: strawberry.ID, block: BlockHeight | None = None) -> Any:  # noqa: A002
        value: Any = str(id).lower()
        ent.check_id(value)
        if ent.py_types["id"] is int:
            value = int(value)
        number = await info.context.resolve_block(block)
        rows = await info.context.rows(base_select(ent, number).where(ent.columns["id"] == value))
        return Node(rows[0], number) if rows else None

    resolver.__annotations__["return"] = Optional[ent.type]  # noqa: UP045
    resolver.__name__ = ent.single
    return strawberry.field(resolver=resolver, description=f"One {ent.name} by id.")


def _list(ent: Entity) -> Any:
    async def resolver(  # type: ignore[no-untyped-def]
        info, where=None, order_by=None, order_direction=None, first=DEFAULT_FIRST, skip=0,
        after=None, block=None,
    ) -> Any:  # fmt: skip
        ctx = info.context
        number = await ctx.resolve_block(block)
        stmt, key = list_select(
            ent, number, where, order_by, order_direction, first, skip, after,
            ctx.settings.max_first,
        )  # fmt: skip
        return [Node(r, number, make_cursor(key, r)) for r in await ctx.rows(stmt)]

    resolver.__annotations__ = {
        "info": Info,
        "where": Optional[ent.where],  # noqa: UP045
        "order_by": Optional[ent.order],  # noqa: UP045
        "order_direction": Optional[OrderDirectionEnum],  # noqa: UP045
        "first": int,
        "skip": int,
        "after": Optional[str],  # noqa: UP045
        "block": Optional[BlockHeight],  # noqa: UP045
        "return": list[ent.type],  # type: ignore[name-defined]
    }
    resolver.__name__ = ent.plural
    return strawberry.field(
        resolver=resolver,
        description=f"{ent.name} list: `where` filters, `orderBy`, `first` (≤ max) with `skip` "
        "or `after` (a `cursor` from the previous page), `block` for time travel.",
    )


async def _meta(info: Info, block: BlockHeight | None = None) -> Meta:
    ctx = info.context
    number = await ctx.resolve_block(block)
    head = await ctx.indexed()
    n = head.number if number is None else number
    rows = await ctx.shared(
        ("_meta", n),
        lambda: ctx.rows(
            text(
                "SELECT (SELECT hash FROM indexed_blocks WHERE number = :n) AS hash, "
                "(SELECT timestamp FROM indexed_blocks WHERE number = :n) AS ts, "
                "EXISTS (SELECT 1 FROM indexing_errors) AS errors"
            ),
            {"n": n},
        ),
    )
    r = rows[0]
    h = r["hash"] or (head.hash if n == head.number else None)
    return Meta(
        block=MetaBlock(number=n, hash=h, timestamp=r["ts"]),
        deployment=ctx.state.deployment_id,
        has_indexing_errors=bool(r["errors"]),
    )


def _query_type() -> Any:
    ns: dict[str, Any] = {}
    for ent in ALL:
        ns[ent.single] = _single(ent)
        ns[ent.plural] = _list(ent)
    ns["meta"] = strawberry.field(resolver=_meta, name="_meta", description="Indexer progress.")
    ns["meter_reading"] = strawberry.field(
        resolver=meter_reading,
        description="A meter's energy in one (feed, epoch) with its Merkle proof against the "
        "posted delivery root (`meter`: its name or 0x id); null without a root or a leaf.",
    )
    ns["carbon_leaderboard"] = strawberry.field(
        resolver=carbon_leaderboard,
        description="Carbon wallets ordered by avoided CO2e, largest first (paged).",
    )
    return strawberry.type(type("Query", (), ns))


Query = _query_type()


# ---- mutation ----


@strawberry.input(description="The full record behind a committed batch.")
class ForecastRecordInput:
    feed_id: str
    operator: str
    first_epoch: int
    values: list[str]
    lowers: list[str]
    uppers: list[str]
    model_hash: str
    salt: str
    quantiles: Optional[strawberry.scalars.JSON] = None  # noqa: UP045
    model_id: str | None = None
    feature_snapshot_id: str | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Upload the off-chain record of a committed batch (SIWE session required: "
        "`Authorization: Bearer <token>` from /auth/verify, as the operator or its signer)."
    )
    async def upload_forecast_record(
        self,
        info: Info,
        input: ForecastRecordInput,  # noqa: A002
    ) -> Optional[ALL[-1].type]:  # type: ignore[name-defined,valid-type]  # noqa: UP045
        from api.records import upload

        try:
            ints = [[int(x) for x in xs] for xs in (input.values, input.lowers, input.uppers)]
        except ValueError as exc:
            raise InvalidArgumentError(f"values/lowers/uppers must be integers: {exc}") from exc
        row = await upload(info.context, input, *ints)
        return Node(row, None)


# ---- subscriptions ----


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Each block batch the indexer commits.")
    async def new_block(self, info: Info) -> AsyncGenerator[NewBlockEvent, None]:
        async for p in info.context.state.hub.listen("gridcast:newBlock"):
            yield NewBlockEvent(number=p["block"], hash=p.get("hash"), events=p.get("events", 0))

    @strawberry.subscription(description="Reveals of forecasts of one feed.")
    async def forecast_revealed(
        self, info: Info, feed_id: str
    ) -> AsyncGenerator[ForecastRevealedEvent, None]:
        fid = feed_id.lower()
        async for p in info.context.state.hub.listen("gridcast:forecastRevealed"):
            if p.get("feedId") == fid:
                yield ForecastRevealedEvent(
                    feed_id=fid, operator=p["operator"], first_epoch=p["firstEpoch"],
                    epochs=p["epochs"], block=p["block"],
                )  # fmt: skip

    @strawberry.subscription(description="Consensus finalized for an epoch of one feed.")
    async def consensus_updated(self, info: Info, feed_id: str) -> AsyncGenerator[EpochEvent, None]:
        fid = feed_id.lower()
        async for p in info.context.state.hub.listen("gridcast:consensusUpdated"):
            if p.get("feedId") == fid:
                yield EpochEvent(feed_id=fid, epoch=p["epoch"], block=p["block"])

    @strawberry.subscription(description="An epoch of one feed settled or cancelled.")
    async def epoch_settled(self, info: Info, feed_id: str) -> AsyncGenerator[EpochEvent, None]:
        fid = feed_id.lower()
        async for p in info.context.state.hub.listen("gridcast:epochSettled"):
            if p.get("feedId") == fid:
                yield EpochEvent(
                    feed_id=fid, epoch=p["epoch"], block=p["block"], cancelled=p.get("cancelled")
                )

    @strawberry.subscription(
        description="Orders placed in the books of one feed (both its markets) or one market."
    )
    async def order_placed(
        self, info: Info, feed_id: str
    ) -> AsyncGenerator[OrderPlacedEvent, None]:
        fid = feed_id.lower()
        async for p in info.context.state.hub.listen("gridcast:orderPlaced"):
            if fid in (p.get("feedId"), p.get("marketId")):
                yield OrderPlacedEvent(
                    feed_id=p["feedId"], market_id=p.get("marketId", p["feedId"]),
                    epoch=p["epoch"], index=p["index"], trader=p["trader"],
                    side=p["side"], volume_wh=int(p["volumeWh"]),
                    limit_price=int(p["limitPrice"]), block=p["block"],
                )  # fmt: skip

    @strawberry.subscription(
        description="A book of one feed (or one market) cleared at its uniform price."
    )
    async def clearing_published(
        self, info: Info, feed_id: str
    ) -> AsyncGenerator[ClearingPublishedEvent, None]:
        fid = feed_id.lower()
        async for p in info.context.state.hub.listen("gridcast:clearingPublished"):
            if fid in (p.get("feedId"), p.get("marketId")):
                yield ClearingPublishedEvent(
                    feed_id=p["feedId"], market_id=p.get("marketId", p["feedId"]),
                    epoch=p["epoch"], price=int(p["price"]),
                    volume_wh=int(p["volumeWh"]), block=p["block"],
                )  # fmt: skip

    @strawberry.subscription(description="Certificates retired (any account).")
    async def certificate_retired(
        self, info: Info
    ) -> AsyncGenerator[CertificateRetiredEvent, None]:
        async for p in info.context.state.hub.listen("gridcast:certificateRetired"):
            yield CertificateRetiredEvent(
                retirement_id=p["retirementId"], account=p["account"],
                certificate_id=p["certificateId"], energy_wh=int(p["energyWh"]),
                co2e_grams=int(p["co2eGrams"]), block=p["block"],
            )  # fmt: skip


def build_schema(
    extensions: list[Any] | None = None, timeout_s: float | None = None
) -> strawberry.Schema:
    """The schema; with ``timeout_s``, each execution over HTTP is bounded in time."""
    if timeout_s is None:
        return strawberry.Schema(
            query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions or []
        )
    from api.guard import TimedSchema

    schema = TimedSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions or []
    )
    schema.timeout_s = timeout_s
    return schema
