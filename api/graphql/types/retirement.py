"""Retirement: certificates burnt for a beneficiary, with the CO2e they avoided."""

from api.graphql.derive import entity_type
from api.graphql.entities import RETIREMENT
from api.graphql.relations import one_field


def _asset(row: object) -> str:
    return str(row.asset_id)  # type: ignore[attr-defined]


@entity_type(
    RETIREMENT,
    "A retirement: Wh burnt by `account` for `beneficiary` and `purpose`, the period (`day`), "
    "and the avoided CO2e (grams) at the feed's emission factor (g/kWh) then.",
)
class Retirement:
    certificate = one_field("Certificate", "id", "certificate_id")
    asset = one_field("Asset", "id", _asset)
    wallet = one_field("CarbonWallet", "id", "account")
