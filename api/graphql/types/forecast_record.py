"""ForecastRecord: the off-chain record behind a committed batch, and its verification."""

from api.graphql.derive import entity_type
from api.graphql.entities import FORECAST_RECORD
from api.graphql.relations import list_field, one_field


@entity_type(
    FORECAST_RECORD,
    "An uploaded forecast record; `verified` is null until the commit is indexed, then whether "
    "the recomputed commitments match it (`reason` says why not).",
)
class ForecastRecord:
    operator_entity = one_field("Operator", "id", "operator", description="The operator.")
    forecasts = list_field("Forecast", "root", key="root", description="The on-chain forecasts.")
