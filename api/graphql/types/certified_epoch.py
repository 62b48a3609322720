"""CertifiedEpoch: one (asset, epoch) of a certificate claim."""

from api.graphql.derive import entity_type
from api.graphql.entities import CERTIFIED_EPOCH
from api.graphql.relations import one_field


def _asset(row: object) -> str:
    return str(row.asset_id)  # type: ignore[attr-defined]


@entity_type(
    CERTIFIED_EPOCH,
    "The proven energy of one asset in one epoch, minted to its owner under `certificateId`.",
)
class CertifiedEpoch:
    asset = one_field("Asset", "id", _asset)
    certificate = one_field("Certificate", "id", "certificate_id")
    delivery_root = one_field(
        "DeliveryRoot", "id", lambda r: f"{r.feed_id}-{r.epoch}", description="The root proven."
    )
