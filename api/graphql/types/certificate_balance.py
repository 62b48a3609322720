"""CertificateBalance: what one account holds of one certificate id."""

from api.graphql.derive import entity_type
from api.graphql.entities import CERTIFICATE_BALANCE
from api.graphql.relations import one_field


def _asset(row: object) -> str:
    return str(row.asset_id)  # type: ignore[attr-defined]


@entity_type(CERTIFICATE_BALANCE, "An owner's balance (Wh) of one certificate id.")
class CertificateBalance:
    certificate = one_field("Certificate", "id", "certificate_id")
    asset = one_field("Asset", "id", _asset)
