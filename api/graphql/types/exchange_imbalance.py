"""ExchangeImbalance: a delivery short of what was sold, and the penalty it paid."""

from api.graphql.derive import entity_type
from api.graphql.entities import EXCHANGE_IMBALANCE
from api.graphql.relations import one_field


def _asset(row: object) -> str:
    return str(row.asset_id)  # type: ignore[attr-defined]


@entity_type(
    EXCHANGE_IMBALANCE,
    "A seller's shortfall (Wh sold but not delivered) and the imbalance penalty taken from its "
    "collateral for the book's buyers.",
)
class ExchangeImbalance:
    order = one_field("ExchangeOrder", "id", "order_id")
    book = one_field("ExchangeBook", "id", "book_id")
    asset = one_field("Asset", "id", _asset)
    delivery = one_field("ExchangeDelivery", "id", "id")
