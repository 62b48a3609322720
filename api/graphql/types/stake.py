"""Stake: an operator's active stake, unbonding amount and release time."""

from api.graphql.derive import entity_type
from api.graphql.entities import STAKE
from api.graphql.relations import one_field


@entity_type(STAKE, "An operator's stake state.")
class Stake:
    operator_entity = one_field("Operator", "id", "operator", description="The operator.")
