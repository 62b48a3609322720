"""StakeEvent: one Staked / UnstakeRequested / StakeWithdrawn / StakeSlashed event."""

from api.graphql.derive import entity_type
from api.graphql.entities import STAKE_EVENT
from api.graphql.relations import one_field


@entity_type(STAKE_EVENT, "Stake history: staked | unstake_requested | withdrawn | slashed.")
class StakeEvent:
    operator_entity = one_field("Operator", "id", "operator", description="The operator.")
