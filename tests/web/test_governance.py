"""The governance page in chromium against the real stack: a proposal made on anvil appears once
indexed, with its decoded action; the wallet delegates, votes For through EIP-1193 (castVote), the
vote shows after indexing, and voting again is refused with the custom error as a sentence."""

from __future__ import annotations

from playwright.sync_api import expect

from gridcast.chain.deployment import GOVERNANCE_PROFILES, FeedParams
from tests.web.conftest import Session, Stack


def _grid(wei: int) -> str:
    """The page's formatting of a GRID amount (up to 4 decimals, en-US grouping)."""
    v = round(wei / 10**18, 4)
    return f"{v:,.4f}".rstrip("0").rstrip(".")


def test_a_proposal_appears_and_a_vote_from_the_page_is_indexed(web: Session, stack: Stack) -> None:
    page = web.page
    who = web.provider.account.address
    m = stack.market
    token, registry = m.contract("GridToken"), m.contract("ForecastRegistry")
    governor = m.deployment.contract(m.admin.w3, "GridGovernor")
    m.admin.transact(token, "mint", who, 40 * 10**18)

    page.goto("/#/governance")
    expect(page.get_by_role("heading", name="Governance")).to_be_visible()
    page.get_by_role("button", name="Connect wallet").click()
    expect(page.get_by_test_id("gov-account")).to_have_text(who)
    page.get_by_role("button", name="Delegate my votes to me").click()
    expect(page.get_by_test_id("gov-message")).to_contain_text("Your GRID now votes for you")
    power = int(token.functions.getVotes(who).call())
    assert power >= 40 * 10**18
    expect(page.get_by_test_id("voting-power")).to_have_text(_grid(power))

    # the admin proposes halving a feed's reward; voting opens after the delay
    feed_hex, old = next(iter(m.params.items()))
    new = FeedParams(**{**old.__dict__, "reward_per_epoch": old.reward_per_epoch // 2})
    calldata = registry.encode_abi(
        "setFeedParams", args=[bytes.fromhex(feed_hex[2:]), new.as_tuple()]
    )
    description = "Web test: halve the first feed's reward"
    m.admin.transact(governor, "propose", [registry.address], [0], [calldata], description)
    pid = int(
        governor.functions.hashProposal(
            [registry.address], [0], [calldata], governor.w3.keccak(text=description)
        ).call()
    )
    stack.node.rpc("anvil_mine", [hex(GOVERNANCE_PROFILES["dev"].voting_delay_blocks + 1)])
    stack.index()  # newBlock reaches the open page: proposals and the head are refetched

    row = page.locator(f'tr[data-proposal="{pid}"]')
    expect(row).to_be_visible()
    expect(row.get_by_test_id("proposal-state")).to_have_text("voting")
    row.get_by_role("button", name=description).click()
    actions = page.get_by_test_id("proposal-actions")
    expect(actions).to_contain_text("ForecastRegistry.setFeedParams(")
    expect(actions).to_contain_text(f"rewardPerEpoch: {new.reward_per_epoch}")  # struct decoded
    expect(page.get_by_test_id("votes")).to_contain_text("No vote yet.")

    row.get_by_role("button", name="For", exact=True).click()
    expect(page.get_by_test_id("gov-message")).to_contain_text("Voted for on proposal")
    assert governor.functions.hasVoted(pid, who).call()
    stack.index()
    vote = page.get_by_test_id("votes").locator(f'tr[data-voter="{who.lower()}"]')
    expect(vote).to_contain_text("for")
    expect(vote).to_contain_text(_grid(power))
    expect(row.get_by_test_id("for-votes")).to_have_text(_grid(power))

    # a second vote reverts with GovernorAlreadyCastVote, decoded before anything is signed
    row.get_by_role("button", name="Against", exact=True).click()
    expect(page.get_by_test_id("gov-message")).to_have_text(
        "Voting failed: You have already voted on this proposal."
    )
