"""Subscription payloads pushed from the indexer's notifications."""

from typing import Optional

import strawberry
from strawberry.types import Info

from api.graphql.relations import lazy, one
from api.graphql.sql import Node


@strawberry.type
class NewBlockEvent:
    number: int
    hash: str | None
    events: int


@strawberry.type
class ForecastRevealedEvent:
    feed_id: str
    operator: str
    first_epoch: int
    epochs: int
    block: int


@strawberry.type
class EpochEvent:
    feed_id: str
    epoch: int
    block: int
    cancelled: bool | None = None

    @strawberry.field(description="The consensus of this epoch as of the event's block.")
    async def consensus(self, info: Info) -> Optional[lazy("Consensus")]:  # type: ignore[valid-type]  # noqa: UP045
        return await one(
            info, Node({}, self.block), "Consensus", "id", f"{self.feed_id}-{self.epoch}"
        )

    @strawberry.field(description="The settlement of this epoch as of the event's block.")
    async def settlement(self, info: Info) -> Optional[lazy("Settlement")]:  # type: ignore[valid-type]  # noqa: UP045
        return await one(
            info, Node({}, self.block), "Settlement", "id", f"{self.feed_id}-{self.epoch}"
        )
