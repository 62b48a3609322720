"""ExchangeDelivery: a filled sell's proven metered delivery."""

from api.graphql.derive import entity_type
from api.graphql.entities import EXCHANGE_DELIVERY
from api.graphql.relations import one_field


def _asset(row: object) -> str:
    return str(row.asset_id)  # type: ignore[attr-defined]


@entity_type(
    EXCHANGE_DELIVERY,
    "What a filled sell delivered, proven against the delivery root: sold vs delivered Wh, "
    "the shortfall, the payment (price × min(delivered, sold)) and the penalty.",
)
class ExchangeDelivery:
    order = one_field("ExchangeOrder", "id", "order_id")
    book = one_field("ExchangeBook", "id", "book_id")
    asset = one_field("Asset", "id", _asset)
    imbalance = one_field("ExchangeImbalance", "id", "id")
