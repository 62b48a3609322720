"""Reward: a reward credit, bond refund, dispute payout or withdrawal."""

from api.graphql.derive import entity_type
from api.graphql.entities import REWARD
from api.graphql.relations import one_field


@entity_type(REWARD, "A reward movement: credit | bond_refund | dispute_payout | withdrawal.")
class Reward:
    operator_entity = one_field("Operator", "id", "account", description="The account's operator.")
    feed = one_field("Feed", "id", "feed_id")
