"""ExchangeOrder: a buy or a sell of one book, cancelled or settled."""

from api.graphql.derive import entity_type
from api.graphql.entities import EXCHANGE_ORDER
from api.graphql.relations import list_field, one_field


def _asset(row: object) -> str | None:
    asset = int(row.asset_id)  # type: ignore[attr-defined]
    return str(asset) if asset else None


@entity_type(
    EXCHANGE_ORDER,
    "An order: side buy | sell, volume (Wh), limit price per Wh, `locked` escrow (buy) or "
    "collateral (sell); status open → cancelled (`refund`) | settled (`filledWh`, "
    "`deliveredWh`, `amount` = payment or charge, `adjustment` = penalty or compensation).",
)
class ExchangeOrder:
    book = one_field("ExchangeBook", "id", "book_id")
    asset = one_field("Asset", "id", _asset, description="The asset a sell offers.")
    trades = list_field("ExchangeTrade", "order_id", description="Its settlement.")
    delivery = one_field("ExchangeDelivery", "id", "id")
    account = one_field("ExchangeAccount", "id", "trader")
