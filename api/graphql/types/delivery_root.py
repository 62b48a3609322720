"""DeliveryRoot: the metered-delivery Merkle root of one (feed, epoch), and a meter's reading
with its proof against it."""

from typing import Any, Optional

import strawberry
from strawberry.types import Info

from api.graphql.derive import entity_type
from api.graphql.entities import DELIVERY_ROOT
from api.graphql.relations import one_field
from api.graphql.types.meter_reading import MeterReading, reading_of, readings_of


@entity_type(
    DELIVERY_ROOT,
    "The Merkle root over a (feed, epoch)'s (meterId, epoch, energyWh) leaves (OpenZeppelin "
    "StandardMerkleTree), final after `finalAfter` unless its truth is disputed or cancelled.",
)
class DeliveryRoot:
    feed = one_field("Feed", "id", "feed_id")
    book = one_field("ExchangeBook", "id", "id", description="The exchange book of this epoch.")
    truth = one_field("Truth", "id", "id", description="The truth the root was posted with.")

    @strawberry.field(
        description="A meter's reading (its name, or its id keccak256(name) as 0x-hex) with the "
        "Merkle proof against this root; null when the meter has no leaf."
    )
    async def reading(self, info: Info, meter: str) -> Optional[MeterReading]:  # noqa: UP045
        row: Any = self
        return await reading_of(info, row, meter)

    @strawberry.field(description="Every leaf's reading with its proof, by meter id (paged).")
    async def readings(self, info: Info, first: int = 100, skip: int = 0) -> list[MeterReading]:
        row: Any = self
        return await readings_of(info, row, first, skip)
