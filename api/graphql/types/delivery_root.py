"""DeliveryRoot: the metered-delivery Merkle root of one (feed, epoch), and a meter's reading
with its proof against it."""

from typing import Any, Optional

import strawberry
from sqlalchemy import text
from strawberry.types import Info

from api.graphql.derive import entity_type
from api.graphql.entities import DELIVERY_ROOT
from api.graphql.relations import one, one_field
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
        description="pending | final | void, as MeteredDelivery.statusOf answers at this row's "
        "block: void when the truth was cancelled or changed by an upheld dispute; pending while "
        "disputed or before `finalAfter` (the indexed block's timestamp); final once settled, "
        "after a rejected dispute, or from `finalAfter` on."
    )
    async def status(self, info: Info) -> str:
        row: Any = self
        key = f"{row.feed_id}-{row.epoch}"
        truth = await one(info, row, "Truth", "id", key)
        if truth is None or truth.status == "cancelled":
            return "void"
        if int(truth.value) != int(row.truth_value):
            return "void"
        if truth.status == "disputed":
            return "pending"
        if truth.status == "settled":
            return "final"
        dispute = await one(info, row, "Dispute", "id", key)
        if dispute is not None and dispute.resolved:
            return "final"
        now = await _block_time(info, row.block)
        return "final" if now is not None and now >= int(row.final_after) else "pending"

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


async def _block_time(info: Info, block: int | None) -> int | None:
    """The timestamp of ``block`` (None: the indexer's checkpoint), if the indexer stored it."""
    ctx = info.context

    async def read() -> int | None:
        rows = await ctx.rows(
            text(
                "SELECT timestamp FROM indexed_blocks WHERE number = coalesce(CAST(:n AS bigint), "
                "(SELECT block_number FROM indexer_checkpoint WHERE name = 'default'))"
            ),
            {"n": block},
        )
        return int(rows[0]["timestamp"]) if rows else None

    result: int | None = await ctx.shared(("block_time", block), read)
    return result
