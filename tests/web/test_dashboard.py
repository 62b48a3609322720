"""The dashboard in Debian's chromium against the real stack (anvil, indexer, Postgres, Redis,
API): pages render the indexed market, subscriptions update an open page, the wallet signs in and
stakes. Any console error fails a test (the `web` fixture)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import Session, Stack, api


def _wait_subscribers(stack: Stack, n: int, page: Any) -> None:
    """Wait (on the page's clock, not a sleep) until the API holds `n` live subscriptions."""
    for _ in range(1200):  # up to a minute on a loaded machine
        if stack.app.state.hub.subscribers >= n:
            return
        page.wait_for_timeout(50)
    raise AssertionError(
        f"the page opened {stack.app.state.hub.subscribers} subscriptions, not {n}"
    )


def test_overview_lists_feeds_head_and_indexer_lag(web: Session, stack: Stack) -> None:
    page = web.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    indexed = stack.gql("{ _meta { block { number } } }")["_meta"]["block"]["number"]
    expect(page.get_by_test_id("indexed-block")).to_have_text(str(indexed))
    expect(page.get_by_test_id("head-block")).to_have_text(re.compile(r"^\d+$"))
    expect(page.get_by_test_id("indexer-lag")).to_have_text(re.compile(r"^\d+ blocks$"))
    feeds = stack.gql("{ feeds(first: 10) { region metric } }")["feeds"]
    for f in feeds:
        expect(page.get_by_role("link", name=f"{f['region']} · {f['metric']}")).to_be_visible()


def test_feed_chart_renders_the_played_epochs_and_operator_toggles(
    web: Session, stack: Stack
) -> None:
    page = web.page
    page.goto(f"/#/feed/{stack.feed}")
    epochs = [e for r in stack.rounds for e in range(r["first"], r["first"] + 3)]
    chart = page.get_by_role("img", name=re.compile("Consensus median"))
    expect(chart).to_be_visible()
    shown = int(chart.get_attribute("data-epochs") or 0)
    assert shown >= len(epochs)
    expect(chart.locator("canvas")).to_have_count(1)
    for e in epochs:
        expect(page.locator(f'tr[data-epoch="{e}"] .status')).to_have_text("settled")
    legend = page.locator(".u-legend .u-series")
    before = legend.count()
    toggles = page.get_by_role("group", name="Operators' forecasts on the chart")
    boxes = toggles.get_by_role("checkbox")
    expect(boxes).to_have_count(3)
    boxes.first.focus()
    page.keyboard.press("Space")  # keyboard-reachable, labelled control
    expect(boxes.first).to_be_checked()
    expect(legend).to_have_count(before + 1)


def test_subscription_pushes_a_new_consensus_into_an_open_page(web: Session, stack: Stack) -> None:
    page = web.page
    page.goto(f"/#/feed/{stack.feed}")
    expect(page.get_by_test_id("epochs-table")).to_be_visible()
    _wait_subscribers(stack, 2, page)  # consensusUpdated + epochSettled of this page
    rnd = api.play_round(stack.node, stack.market, stack.feed, seed=3, settle=False)
    stack.rounds.append(rnd)
    stack.index()
    last = rnd["first"] + 2
    row = page.locator(f'tr[data-epoch="{last}"]')
    expect(row).to_be_visible()  # no reload: the subscription refetched the page
    expect(row.locator(".status")).to_have_text("finalized")
    expect(page.get_by_test_id("live-status")).to_contain_text("New consensus for epoch")


def test_wallet_connects_signs_in_and_stake_appears_after_indexing(
    web: Session, stack: Stack
) -> None:
    page = web.page
    who = web.provider.account.address
    token = stack.market.contract("GridToken")
    stack.market.admin.transact(token, "mint", who, 100 * 10**18)
    page.goto("/#/wallet")
    page.get_by_role("button", name="Connect wallet").click()
    expect(page.get_by_test_id("account")).to_have_text(who)
    page.get_by_role("button", name="Sign in with Ethereum").click()
    expect(page.get_by_test_id("wallet-message")).to_have_text(f"Signed in as {who.lower()}")
    expect(page.get_by_test_id("session")).to_contain_text("signed in until")
    expect(page.get_by_test_id("indexed-stake")).to_have_text("0")
    page.get_by_label("Amount (GRID)").fill("25")
    page.get_by_role("button", name="Stake", exact=True).click()
    expect(page.get_by_test_id("wallet-message")).to_contain_text("Staked 25 GRID")
    staking = stack.market.contract("OperatorStaking")
    assert staking.functions.stakeOf(who).call() == 25 * 10**18
    stack.index()  # newBlock reaches the open page, which refetches the indexed stake
    expect(page.get_by_test_id("indexed-stake")).to_have_text("25")
    # a revert is decoded from the custom error into a sentence, before anything is signed
    page.get_by_label("Amount (GRID)").fill("1000")
    page.get_by_role("button", name="Request unstake").click()
    expect(page.get_by_test_id("wallet-message")).to_have_text(
        "Unstaking failed: You asked to unstake 1000 GRID but only 25 GRID is staked."
    )
    page.get_by_label("Amount (GRID)").fill("10")
    page.get_by_role("button", name="Request unstake").click()
    expect(page.get_by_test_id("wallet-message")).to_contain_text("Unstake of 10 GRID requested")
    stack.index()
    expect(page.get_by_test_id("indexed-stake")).to_have_text("15")


def test_leaderboard_links_to_an_operators_history(web: Session, stack: Stack) -> None:
    page = web.page
    page.goto("/#/operators")
    board = page.get_by_test_id("leaderboard")
    ops = stack.gql("{ operators(first: 100) { id forecastsRevealed accuracy { mase } } }")[
        "operators"
    ]
    expect(board.locator("tbody tr")).to_have_count(len(ops))
    # MASE from the API, three decimals: every operator that forecast a settled epoch has one
    scored = [o for o in ops if o["accuracy"] and o["accuracy"]["mase"] is not None]
    assert scored
    for o in scored:
        link = page.locator(f'a[href="#/operator/{o["id"]}"]')
        mase = f"{o['accuracy']['mase']:.3f}".rstrip("0").rstrip(".")
        expect(board.locator("tbody tr", has=link).get_by_test_id("mase")).to_have_text(mase)
    page.get_by_label("Rank by").select_option("forecastsRevealed")
    most = max(o["forecastsRevealed"] for o in ops)
    tops = [o["id"] for o in ops if o["forecastsRevealed"] == most]  # ties: any of them
    first = board.locator("tbody tr").first.get_by_role("link")
    expect(first).to_have_attribute("href", re.compile(f"^#/operator/({'|'.join(tops)})$"))
    first.click()
    expect(page.get_by_role("heading", name=re.compile("^Operator"))).to_be_visible()
    chart = page.get_by_role("img", name=re.compile("Forecasts, interval"))
    expect(chart.locator("canvas")).to_have_count(1)
    assert int(chart.get_attribute("data-epochs") or 0) >= 6  # two settled rounds of 3 epochs


def test_leaderboard_sorts_the_shown_page_by_mase(web: Session, stack: Stack) -> None:
    page = web.page
    page.goto("/#/operators")
    board = page.get_by_test_id("leaderboard")
    ops = stack.gql(
        "{ operators(first: 20, orderBy: totalRewards, orderDirection: desc) "
        "{ id accuracy { mase } } }"
    )["operators"]
    rows = board.locator("tbody tr")
    expect(rows).to_have_count(len(ops))
    for i, o in enumerate(ops):  # the server's order first
        expect(rows.nth(i)).to_have_attribute("data-operator", o["id"])

    def mase(o: dict[str, Any]) -> float:
        m = (o["accuracy"] or {}).get("mase")
        return float("inf") if m is None else float(m)

    # client-side, this page only: lowest MASE first, ties and unscored in the server's order
    want = [o["id"] for _, o in sorted(enumerate(ops), key=lambda p: (mase(p[1]), p[0]))]
    toggle = page.get_by_role("button", name="Sort this page by MASE")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    for i, account in enumerate(want):
        expect(rows.nth(i)).to_have_attribute("data-operator", account)
    # the rank column keeps the leaderboard's rank
    first = next(i for i, o in enumerate(ops) if o["id"] == want[0])
    expect(rows.first.locator("td").first).to_have_text(str(first + 1))
    toggle.click()
    expect(rows.first).to_have_attribute("data-operator", ops[0]["id"])
