"""Certificate: one ERC-1155 certificate id (asset, UTC day), 1 unit = 1 Wh."""

from api.graphql.derive import entity_type
from api.graphql.entities import CERTIFICATE
from api.graphql.relations import list_field, one_field


def _asset(row: object) -> str:
    return str(row.asset_id)  # type: ignore[attr-defined]


@entity_type(
    CERTIFICATE,
    "A renewable energy certificate id (assetId << 64 | day): Wh minted from proven delivery, "
    "retired, and the supply left.",
)
class Certificate:
    asset = one_field("Asset", "id", _asset)
    balances = list_field("CertificateBalance", "certificate_id", description="Holders.")
    certified_epochs = list_field("CertifiedEpoch", "certificate_id")
    retirements = list_field("Retirement", "certificate_id")
