"""Dispute: A dispute of an epoch's truth."""

from api.graphql.derive import entity_type
from api.graphql.entities import DISPUTE
from api.graphql.relations import one_field


@entity_type(DISPUTE, "A dispute of an epoch's truth.")
class Dispute:
    feed = one_field("Feed", "id", "feed_id")
    epoch_entity = one_field("Epoch", "id", "id", description="The epoch.")
