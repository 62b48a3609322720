"""Epoch: one epoch of one feed, with its forecasts, consensus, truth, dispute and settlement."""

from api.graphql.derive import entity_type
from api.graphql.entities import EPOCH
from api.graphql.relations import list_field, one_field


@entity_type(EPOCH, "One epoch of one feed; status open → finalized → … → settled | cancelled.")
class Epoch:
    feed = one_field("Feed", "id", "feed_id")
    forecasts = list_field("Forecast", "epoch_key", description="Forecasts for this epoch.")
    consensus = one_field("Consensus", "id", "id")
    truth = one_field("Truth", "id", "id")
    dispute = one_field("Dispute", "id", "id")
    settlement = one_field("Settlement", "id", "id")
