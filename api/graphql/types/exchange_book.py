"""ExchangeBook: one (feed, delivery epoch) book of the exchange: band, gate, volumes, its
clearing, orders, trades, deliveries, imbalances and its depth."""

from typing import Any

import strawberry
from sqlalchemy import text
from strawberry.types import Info

from api.errors import InvalidArgumentError
from api.graphql.derive import entity_type
from api.graphql.entities import EXCHANGE_BOOK
from api.graphql.relations import list_field, one_field
from api.graphql.sql import check_paging
from api.graphql.types.depth_level import DepthLevel
from indexer.models.versioning import as_of_sql


def depth_statement(side: str, block: int | None) -> Any:
    """Price levels of one side of a book (orders not cancelled) with cumulative volume."""
    order = "DESC" if side == "buy" else "ASC"
    return text(
        f"""
        SELECT limit_price AS price, sum(volume_wh) AS volume_wh, count(*) AS orders,
               sum(sum(volume_wh)) OVER (ORDER BY limit_price {order}) AS cumulative_wh
        FROM exchange_orders
        WHERE {as_of_sql(block)} AND book_id = :book AND side = :side AND status <> 'cancelled'
        GROUP BY limit_price ORDER BY limit_price {order} OFFSET :skip LIMIT :first
        """
    )


def _epoch_key(row: Any) -> str:
    """The forecast feed's "<feedId>-<epoch>" (a renewable book's id carries its market id)."""
    return f"{row.feed_id}-{row.epoch}"


@entity_type(
    EXCHANGE_BOOK,
    "A book of one (feed, delivery epoch): the price band from the consensus, the gate, live "
    "volumes, and after the gate its uniform clearing price and volume (status open → cleared; "
    "`voided` when the epoch's truth was cancelled or overturned).",
)
class ExchangeBook:
    feed = one_field("Feed", "id", "feed_id")
    market = one_field("ExchangeMarket", "id", "market_id")
    consensus = one_field(
        "Consensus", "id", _epoch_key, description="The consensus the band is from."
    )
    clearing = one_field("ExchangeClearing", "id", "id")
    delivery_root = one_field(
        "DeliveryRoot", "id", _epoch_key, description="The metered delivery it settles against."
    )
    orders = list_field("ExchangeOrder", "book_id", description="Its orders.")
    trades = list_field("ExchangeTrade", "book_id", description="Its settled orders.")
    deliveries = list_field("ExchangeDelivery", "book_id")
    imbalances = list_field("ExchangeImbalance", "book_id")

    @strawberry.field(
        description="Depth of one side (`buy` or `sell`): volume and order count per limit "
        "price, cancelled orders left out, paged with `first`/`skip`."
    )
    async def depth(
        self, info: Info, side: str = "buy", first: int = 100, skip: int = 0
    ) -> list[DepthLevel]:
        if side not in ("buy", "sell"):
            raise InvalidArgumentError(f"`side` is buy or sell, got {side!r}")
        check_paging(first, skip, info.context.settings.max_first)
        row: Any = self
        params: dict[str, Any] = {"book": row.id, "side": side, "first": first, "skip": skip}
        if row.block is not None:
            params["as_of_block"] = row.block
        rows = await info.context.rows(depth_statement(side, row.block), params)
        return [
            DepthLevel(
                price=int(r["price"]),
                volume_wh=int(r["volume_wh"]),
                orders=int(r["orders"]),
                cumulative_wh=int(r["cumulative_wh"]),
            )  # fmt: skip
            for r in rows
        ]
