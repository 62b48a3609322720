"""ExchangeTrade: one settled order (OrderSettled) at its book's clearing price."""

from api.graphql.derive import entity_type
from api.graphql.entities import EXCHANGE_TRADE
from api.graphql.relations import one_field


@entity_type(
    EXCHANGE_TRADE,
    "An order's settlement: filled Wh at the clearing `price`, delivered Wh (sells), `amount` "
    "(a sell's payment or a buy's charge), `adjustment` (a sell's penalty or a buy's "
    "compensation) and what was credited; `voided` when the epoch was void (all refunded).",
)
class ExchangeTrade:
    order = one_field("ExchangeOrder", "id", "order_id")
    book = one_field("ExchangeBook", "id", "book_id")
