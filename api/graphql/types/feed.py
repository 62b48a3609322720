"""Feed: a registered forecast feed, with its epochs and consensus history."""

from api.graphql.derive import entity_type
from api.graphql.entities import FEED
from api.graphql.relations import list_field


@entity_type(FEED, "A registered feed (region, metric, resolution) and its parameters.")
class Feed:
    epochs = list_field("Epoch", "feed_id", description="The feed's epochs.")
    consensuses = list_field("Consensus", "feed_id", description="Finalized consensus values.")
    forecasts = list_field("Forecast", "feed_id", description="Forecasts for any epoch.")
    truths = list_field("Truth", "feed_id", description="Submitted truths.")
