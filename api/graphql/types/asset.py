"""Asset: an AssetRegistry token (kind, capacity, feed, meters, owner), its orders, deliveries
and certificates."""

from api.graphql.derive import entity_type
from api.graphql.entities import ASSET
from api.graphql.relations import list_field, one_field


def _int_id(row: object) -> int:
    return int(row.id)  # type: ignore[attr-defined]


@entity_type(
    ASSET,
    "A registered energy asset (ERC-721): kind solar | wind | storage | load, capacity in W, "
    "its feed and meter ids (keccak256 of the meter names).",
)
class Asset:
    feed = one_field("Feed", "id", "feed_id")
    sells = list_field("ExchangeOrder", "asset_id", _int_id, description="Its sell orders.")
    deliveries = list_field("ExchangeDelivery", "asset_id", _int_id)
    certificates = list_field("Certificate", "asset_id", _int_id, description="One per UTC day.")
    certified_epochs = list_field("CertifiedEpoch", "asset_id", _int_id)
    retirements = list_field("Retirement", "asset_id", _int_id)
