"""DepthLevel: one price level of one side of an exchange book (see ExchangeBook.depth)."""

import strawberry

from api.graphql.scalars import BigInt


@strawberry.type(
    description="Orders of one side at one limit price; `cumulativeWh` adds the levels before "
    "it (buys from the highest price down, sells from the lowest up)."
)
class DepthLevel:
    price: BigInt  # type: ignore[valid-type]
    volume_wh: BigInt  # type: ignore[valid-type]
    orders: int
    cumulative_wh: BigInt  # type: ignore[valid-type]
