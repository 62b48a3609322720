"""Truth: The measured value of an epoch and its dispute status."""

from api.graphql.derive import entity_type
from api.graphql.entities import TRUTH
from api.graphql.relations import one_field


@entity_type(TRUTH, "The measured value of an epoch and its dispute status.")
class Truth:
    feed = one_field("Feed", "id", "feed_id")
    epoch_entity = one_field("Epoch", "id", "id", description="The epoch.")
