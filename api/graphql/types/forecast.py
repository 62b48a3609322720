"""Forecast: one operator's committed (and later revealed, scored) point for one epoch."""

from api.graphql.derive import entity_type
from api.graphql.entities import FORECAST
from api.graphql.relations import list_field, one_field


@entity_type(FORECAST, "One operator's forecast for one epoch: commitment, opening, score.")
class Forecast:
    feed = one_field("Feed", "id", "feed_id")
    epoch_entity = one_field(
        "Epoch", "id", lambda f: f"{f.feed_id}-{f.epoch}", description="The epoch forecast."
    )
    operator_entity = one_field(
        "Operator", "id", "operator", description="The forecasting operator."
    )
    model = one_field("ModelArtifact", "model_hash", "model_hash", description="Registry entry.")
    records = list_field(
        "ForecastRecord",
        "root",
        key="root",
        description="Off-chain records uploaded for the batch.",
    )
