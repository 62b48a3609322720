"""Consensus: The stake-weighted median of an epoch's revealed forecasts."""

from api.graphql.derive import entity_type
from api.graphql.entities import CONSENSUS
from api.graphql.relations import one_field


@entity_type(CONSENSUS, "The stake-weighted median of an epoch's revealed forecasts.")
class Consensus:
    feed = one_field("Feed", "id", "feed_id")
    epoch_entity = one_field("Epoch", "id", "id", description="The epoch.")
