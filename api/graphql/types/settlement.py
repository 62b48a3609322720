"""Settlement: The outcome of an epoch: settled with rewards, or cancelled."""

from api.graphql.derive import entity_type
from api.graphql.entities import SETTLEMENT
from api.graphql.relations import one_field


@entity_type(SETTLEMENT, "The outcome of an epoch: settled with rewards, or cancelled.")
class Settlement:
    feed = one_field("Feed", "id", "feed_id")
    epoch_entity = one_field("Epoch", "id", "id", description="The epoch.")
