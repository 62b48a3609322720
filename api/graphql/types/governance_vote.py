"""GovernanceVote: one VoteCast on a proposal (support 0 against, 1 for, 2 abstain)."""

from api.graphql.derive import entity_type
from api.graphql.entities import GOVERNANCE_VOTE
from api.graphql.relations import one_field


@entity_type(GOVERNANCE_VOTE, "A vote on a governance proposal, with the voter's weight.")
class GovernanceVote:
    proposal = one_field("Proposal", "id", "proposal_id", description="The proposal voted on.")
