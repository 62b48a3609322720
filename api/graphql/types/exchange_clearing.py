"""ExchangeClearing: the verified uniform-price clearing of one book."""

from api.graphql.derive import entity_type
from api.graphql.entities import EXCHANGE_CLEARING
from api.graphql.relations import one_field


@entity_type(
    EXCHANGE_CLEARING,
    "A book's clearing (BookCleared): the uniform price (midpoint of the equilibrium interval "
    "[low, high]), the volume, and the pro-rata fractions at the margin (buyNum/buyDen, "
    "sellNum/sellDen), checked on-chain.",
)
class ExchangeClearing:
    book = one_field("ExchangeBook", "id", "id")
    feed = one_field("Feed", "id", "feed_id")
