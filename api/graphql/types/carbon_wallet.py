"""CarbonWallet: an account's retired energy and avoided CO2e; the carbon leaderboard."""

from typing import Any, Optional

import strawberry
from strawberry.types import Info

from api.graphql.derive import BlockHeight, entity_type
from api.graphql.entities import CARBON_WALLET
from api.graphql.relations import list_field
from api.graphql.sql import Node, base_select, check_paging


@entity_type(
    CARBON_WALLET,
    "An account's carbon wallet: Wh of certificates retired and grams of CO2e avoided.",
)
class CarbonWallet:
    retirements = list_field("Retirement", "account", description="Its retirements.")
    balances = list_field("CertificateBalance", "owner", description="Certificates it holds.")

    @strawberry.field(description="Avoided CO2e in tonnes (co2eGrams / 1e6).")
    def co2e_tonnes(self) -> float:
        row: Any = self
        return int(row.co2e_grams) / 1_000_000

    @strawberry.field(description="Avoided energy in MWh (retiredWh / 1e6).")
    def retired_mwh(self) -> float:
        row: Any = self
        return int(row.retired_wh) / 1_000_000


async def carbon_leaderboard(
    info: Info,
    first: int = 100,
    skip: int = 0,
    block: Optional[BlockHeight] = None,  # noqa: UP045
) -> list[CarbonWallet]:
    """Query field: carbon wallets by avoided CO2e, largest first (ties: more Wh, then id)."""
    ctx = info.context
    check_paging(first, skip, ctx.settings.max_first)
    number = await ctx.resolve_block(block)
    cols = CARBON_WALLET.columns
    stmt = (
        base_select(CARBON_WALLET, number)
        .order_by(cols["co2e_grams"].desc(), cols["retired_wh"].desc(), cols["id"].asc())
        .offset(skip)
        .limit(first)
    )
    return [Node(r, number) for r in await ctx.rows(stmt)]  # type: ignore[misc]
