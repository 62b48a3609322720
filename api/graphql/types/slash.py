"""Slash: stake taken from an operator for a forecast outside the slashing threshold."""

from api.graphql.derive import entity_type
from api.graphql.entities import SLASH
from api.graphql.relations import one_field


@entity_type(SLASH, "A StakeSlashed event with the epoch it was for.")
class Slash:
    operator_entity = one_field("Operator", "id", "operator", description="The operator.")
    feed = one_field("Feed", "id", "feed_id")
