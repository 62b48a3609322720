"""Proposal: a GridGovernor proposal with its actions, tallies and state (pending → queued →
executed, or canceled), and the votes cast on it."""

from api.graphql.derive import entity_type
from api.graphql.entities import PROPOSAL
from api.graphql.relations import list_field


@entity_type(PROPOSAL, "A governance proposal (id: the proposal id in decimal).")
class Proposal:
    votes = list_field("GovernanceVote", "proposal_id", description="The votes cast on it.")
