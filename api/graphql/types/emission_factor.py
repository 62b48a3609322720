"""EmissionFactor: a feed's grid emission factor for retirements."""

from api.graphql.derive import entity_type
from api.graphql.entities import EMISSION_FACTOR
from api.graphql.relations import one_field


@entity_type(EMISSION_FACTOR, "A feed's grid emission factor (g CO2e per kWh), a governed value.")
class EmissionFactor:
    feed = one_field("Feed", "id", "id")
