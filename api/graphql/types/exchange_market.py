"""ExchangeMarket: a feed's plain or renewable-only market with its parameters and books."""

from api.graphql.derive import entity_type
from api.graphql.entities import EXCHANGE_MARKET
from api.graphql.relations import list_field, one_field


@entity_type(
    EXCHANGE_MARKET,
    "A listed market of a forecast feed (id: the feed id for its plain market, or "
    "renewableMarketOf(feedId) for its renewable-only one) and its governed parameters: the "
    "band's base price, slope, reference value and width (bps), the gate lead and settle window "
    "(s) and the imbalance penalty per Wh.",
)
class ExchangeMarket:
    feed = one_field("Feed", "id", "feed_id")
    books = list_field("ExchangeBook", "market_id", description="Its books, one per epoch.")
