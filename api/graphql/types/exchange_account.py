"""ExchangeAccount: a trader's totals on the exchange and its withdrawable balance."""

from api.graphql.derive import entity_type
from api.graphql.entities import EXCHANGE_ACCOUNT
from api.graphql.relations import list_field, one_field


@entity_type(
    EXCHANGE_ACCOUNT,
    "A trader: energy sold, delivered and bought (Wh), proceeds, charges, penalties paid, "
    "compensation received, credited and withdrawn, and the balance left to withdraw.",
)
class ExchangeAccount:
    orders = list_field("ExchangeOrder", "trader")
    trades = list_field("ExchangeTrade", "trader")
    imbalances = list_field("ExchangeImbalance", "seller")
    carbon_wallet = one_field("CarbonWallet", "id", "id")
