"""OperatorAccuracy: derived accuracy of an operator over its scored forecasts."""

from api.graphql.derive import entity_type
from api.graphql.entities import ACCURACY
from api.graphql.relations import one_field


@entity_type(ACCURACY, "Mean absolute error, interval hit rate, rewards and slashes.")
class OperatorAccuracy:
    operator_entity = one_field("Operator", "id", "operator", description="The operator.")
