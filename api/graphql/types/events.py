"""Subscription payloads pushed from the indexer's notifications."""

from typing import Optional

import strawberry
from strawberry.types import Info

from api.graphql.relations import lazy, one
from api.graphql.scalars import BigInt
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


@strawberry.type
class OrderPlacedEvent:
    feed_id: str
    market_id: str
    epoch: int
    index: int
    trader: str
    side: str
    volume_wh: BigInt  # type: ignore[valid-type]
    limit_price: BigInt  # type: ignore[valid-type]
    block: int

    @strawberry.field(description="The order as of the event's block.")
    async def order(self, info: Info) -> Optional[lazy("ExchangeOrder")]:  # type: ignore[valid-type]  # noqa: UP045
        key = f"{self.market_id}-{self.epoch}-{self.index}"
        return await one(info, Node({}, self.block), "ExchangeOrder", "id", key)


@strawberry.type
class ClearingPublishedEvent:
    feed_id: str
    market_id: str
    epoch: int
    price: BigInt  # type: ignore[valid-type]
    volume_wh: BigInt  # type: ignore[valid-type]
    block: int

    @strawberry.field(description="The clearing as of the event's block.")
    async def clearing(self, info: Info) -> Optional[lazy("ExchangeClearing")]:  # type: ignore[valid-type]  # noqa: UP045
        key = f"{self.market_id}-{self.epoch}"
        return await one(info, Node({}, self.block), "ExchangeClearing", "id", key)

    @strawberry.field(description="The cleared book as of the event's block.")
    async def book(self, info: Info) -> Optional[lazy("ExchangeBook")]:  # type: ignore[valid-type]  # noqa: UP045
        key = f"{self.market_id}-{self.epoch}"
        return await one(info, Node({}, self.block), "ExchangeBook", "id", key)


@strawberry.type
class CertificateRetiredEvent:
    retirement_id: str
    account: str
    certificate_id: str
    energy_wh: BigInt  # type: ignore[valid-type]
    co2e_grams: BigInt  # type: ignore[valid-type]
    block: int

    @strawberry.field(description="The retirement as of the event's block.")
    async def retirement(self, info: Info) -> Optional[lazy("Retirement")]:  # type: ignore[valid-type]  # noqa: UP045
        return await one(info, Node({}, self.block), "Retirement", "id", self.retirement_id)

    @strawberry.field(description="The retiring account's carbon wallet as of the event's block.")
    async def wallet(self, info: Info) -> Optional[lazy("CarbonWallet")]:  # type: ignore[valid-type]  # noqa: UP045
        return await one(info, Node({}, self.block), "CarbonWallet", "id", self.account)
