"""Operator: an account that staked or forecast, with stake, history, rewards and accuracy."""

from api.graphql.derive import entity_type
from api.graphql.entities import OPERATOR
from api.graphql.relations import list_field, one_field


@entity_type(OPERATOR, "An operator: signer key, reward balance and lifetime totals.")
class Operator:
    stake = one_field("Stake", "id", "id", description="Current stake state.")
    stakes = list_field("StakeEvent", "operator", description="Stake history.")
    rewards = list_field("Reward", "account", description="Reward credits and withdrawals.")
    slashes = list_field("Slash", "operator")
    accuracy = one_field("OperatorAccuracy", "id", "id")
    forecasts = list_field("Forecast", "operator")
    records = list_field("ForecastRecord", "operator", description="Uploaded off-chain records.")
