"""The exchange and the carbon pages in chromium against the second-wave world (anvil with
assets, a traded, cleared and settled book with a delivery shortfall, certificates claimed, moved
and retired; indexed by the real indexer and served by the API). Values are compared with the
chain and the API; any console error fails a test."""

from __future__ import annotations

import re
import sys

from playwright.sync_api import expect

from tests.web.conftest import Green, Session, api


def _units(v: int) -> str:
    return f"{v:,}"


def test_exchange_shows_the_book_clearing_depth_trades_and_imbalance(
    green_web: Session, green: Green
) -> None:
    page, g = green_web.page, green.g
    page.goto("/#/exchange")
    expect(page.get_by_role("heading", name="Exchange")).to_be_visible()
    book = page.get_by_test_id("books").locator(f'tr[data-epoch="{g.epoch}"]')
    expect(book).to_be_visible()
    # the uniform clearing price the contract accepted, and the chart of it
    assert g.clearing is not None
    expect(book.get_by_test_id("clearing-price")).to_have_text(_units(g.clearing.price))
    chart = page.get_by_role("img", name="Clearing price per delivery epoch", exact=False)
    expect(chart.locator("canvas")).to_have_count(1)
    # depth: the live (not cancelled) orders' limit prices, bids highest first
    book.get_by_role("button", name=f"Depth of epoch {g.epoch}").click()
    ex = g.c("EnergyExchange")
    orders = [o for o in ex.functions.ordersOf(g.fid, g.epoch).call() if not o[6]]
    bids = sorted({int(o[4]) for o in orders if not o[5]}, reverse=True)
    rows = page.get_by_test_id("depth-buy").locator("tbody tr")
    expect(rows).to_have_count(len(bids))
    for i, price in enumerate(bids):
        expect(rows.nth(i).locator("td").first).to_have_text(_units(price))
    # every settled order is a trade; the wind seller delivered short: one imbalance
    trades = green.gql(
        f'{{ exchangeTrades(first: 100, where: {{marketId: "{g.feed}"}}) {{ id }} }}'
    )["exchangeTrades"]
    assert trades
    expect(page.get_by_test_id("trades").locator("tbody tr")).to_have_count(len(trades))
    wind = g.sellers[1].address.lower()
    imb = page.get_by_test_id("imbalances").locator(f'tr[data-seller="{wind}"]')
    expect(imb).to_be_visible()
    expect(imb).to_contain_text("#2")


def test_carbon_page_ranks_wallets_and_lists_assets_and_certificates(
    green_web: Session, green: Green
) -> None:
    page, g = green_web.page, green.g
    page.goto("/#/carbon")
    expect(page.get_by_role("heading", name="Assets, certificates and carbon")).to_be_visible()
    # leaderboard: by avoided CO2e, as the retirements sum (500 g/kWh)
    retired: dict[str, int] = {}
    for who, _token, amount, _b in g.retirements:
        retired[who.address.lower()] = retired.get(who.address.lower(), 0) + amount
    ranked = sorted(retired, key=lambda a: (-retired[a], a))
    rows = page.get_by_test_id("carbon-leaderboard").locator("tbody tr")
    expect(rows).to_have_count(len(ranked))
    for i, account in enumerate(ranked):
        expect(rows.nth(i)).to_have_attribute("data-account", account)
        grams = retired[account] * 500 // 1000
        expect(rows.nth(i).get_by_test_id("co2e")).to_have_text(f"{grams:,} g")
    # the three registered assets, and the two renewable certificates with what was retired
    assets = page.get_by_test_id("assets").locator("tbody tr")
    expect(assets).to_have_count(3)
    expect(page.get_by_test_id("assets").locator('tr[data-asset="1"]')).to_contain_text("solar")
    certs = green.gql("{ certificates(first: 10) { id retired } }")["certificates"]
    assert len(certs) == 2
    for c in certs:
        expect(
            page.get_by_test_id("certificates").locator(f'tr[data-certificate="{c["id"]}"]')
        ).to_be_visible()
    expect(page.get_by_test_id("retirements").locator("tbody tr")).to_have_count(len(g.retirements))
    expect(page.get_by_test_id("retirements")).to_contain_text("Acme Pty Ltd")


def test_bid_and_cancel_from_the_wallet_with_reverts_as_sentences(
    green_web: Session, green: Green
) -> None:
    page, g = green_web.page, green.g
    sw = sys.modules["gridcast_web_api.second_wave_world"].sw
    who = green_web.provider.account.address
    ex, token = g.c("EnergyExchange"), g.c("GridToken")
    first = sw.consensus(g, api.scenario.play_round)  # a new round with a consensus: books open
    epoch = next(
        e for e in range(first, first + 3) if ex.functions.gateOf(g.fid, e).call() > g.now() + 60
    )
    low, high, _ = ex.functions.bandOf(g.fid, epoch).call()
    g.lm.admin.transact(token, "mint", who, 10**24)
    green.index()

    page.goto("/#/exchange")
    page.get_by_role("button", name="Connect wallet").click()
    expect(page.get_by_test_id("exchange-account")).to_have_text(who)
    page.get_by_label("Delivery epoch", exact=True).fill(str(epoch))
    page.get_by_label("Volume (Wh)", exact=True).fill("100")
    page.get_by_label("Limit price (base units per Wh)", exact=True).fill(str(high + 1))
    page.get_by_role("button", name="Place bid").click()
    expect(page.get_by_test_id("exchange-message")).to_have_text(
        f"Bidding failed: The limit price {high + 1} is outside the book's band, "
        f"{low} to {high} base units per Wh."
    )
    price = (low + high) // 2
    page.get_by_label("Limit price (base units per Wh)", exact=True).fill(str(price))
    page.get_by_role("button", name="Place bid").click()
    expect(page.get_by_test_id("exchange-message")).to_contain_text(
        f"Bid for 100 Wh in epoch {epoch} placed"
    )
    mine = [o for o in ex.functions.ordersOf(g.fid, epoch).call() if o[0].lower() == who.lower()]
    assert len(mine) == 1, mine
    green.index()  # newBlock reaches the page: the open order is listed
    orders = page.get_by_test_id("my-orders").locator("tbody tr[data-order]")
    expect(orders).to_have_count(1)
    expect(orders.first).to_contain_text(f"{price:,}")
    orders.first.get_by_role(
        "button", name=re.compile(f"^Cancel order .* of epoch {epoch}$")
    ).click()
    expect(page.get_by_test_id("exchange-message")).to_contain_text("cancelled")
    green.index()
    expect(page.get_by_test_id("my-orders")).to_contain_text("No open order.")


def test_a_clearing_reaches_an_open_exchange_page_through_its_subscription(
    green_web: Session, green: Green
) -> None:
    from gridcast.chain.clearing import Order, clear

    page, g = green_web.page, green.g
    sw = sys.modules["gridcast_web_api.second_wave_world"].sw
    ex = g.c("EnergyExchange")
    first = sw.consensus(g, api.scenario.play_round)
    epoch = next(
        e for e in range(first, first + 3) if ex.functions.gateOf(g.fid, e).call() > g.now() + 60
    )
    low, high, _ = ex.functions.bandOf(g.fid, epoch).call()
    g.buyers[1].transact(ex, "placeBuy", g.fid, epoch, 500, (low + high) // 2)
    green.index()
    page.goto("/#/exchange")
    row = page.get_by_test_id("books").locator(f'tr[data-epoch="{epoch}"]')
    expect(row).to_contain_text("open")
    hub = green.app.state.hub
    for _ in range(1200):  # the page's newBlock and clearingPublished subscriptions are live
        if hub.subscribers >= 2:
            break
        page.wait_for_timeout(50)
    assert hub.subscribers >= 2, hub.subscribers
    g.warp(int(ex.functions.gateOf(g.fid, epoch).call()))
    book = [
        Order(bool(o[5]), int(o[3]), int(o[4]))
        for o in ex.functions.ordersOf(g.fid, epoch).call()
        if not o[6]
    ]
    c = clear(book)
    g.lm.admin.transact(ex, "clear", g.fid, epoch, c.low, c.high)
    green.index()  # no reload: the subscription brings the clearing into the open page
    expect(page.get_by_test_id("exchange-live")).to_have_text(
        f"Book for epoch {epoch} cleared at {c.price:,}."
    )
    expect(row.get_by_test_id("clearing-price")).to_have_text(f"{c.price:,}")


def test_retire_a_certificate_from_the_wallet_and_rank_on_the_leaderboard(
    green_web: Session, green: Green
) -> None:
    page, g = green_web.page, green.g
    sw = sys.modules["gridcast_web_api.second_wave_world"].sw
    who = green_web.provider.account.address
    certs = g.c("EnergyCertificates")
    solar = sw.certificate_id(g, 1)
    s0 = g.sellers[0]
    held = int(certs.functions.balanceOf(s0.address, solar).call())
    assert held >= 100
    s0.transact(certs, "safeTransferFrom", s0.address, who, solar, 100, b"")
    green.index()

    page.goto("/#/carbon")
    page.get_by_role("button", name="Connect wallet").click()
    expect(page.get_by_test_id("carbon-account")).to_have_text(who)
    mine = page.get_by_test_id("my-certificates").locator(f'tr[data-certificate="{solar}"]')
    expect(mine.get_by_test_id("balance")).to_have_text("100 Wh")
    page.get_by_label("Energy (Wh)", exact=True).fill("1000")
    page.get_by_role("button", name="Retire", exact=True).click()
    expect(page.get_by_test_id("carbon-message")).to_have_text(
        "Retiring failed: You hold only 100 Wh of this certificate; 1000 Wh asked."
    )
    page.get_by_label("Energy (Wh)", exact=True).fill("60")
    page.get_by_label("Beneficiary", exact=True).fill("Web Test Ltd")
    page.get_by_role("button", name="Retire", exact=True).click()
    expect(page.get_by_test_id("carbon-message")).to_contain_text("Retired 60 Wh for Web Test Ltd")
    assert int(certs.functions.balanceOf(who, solar).call()) == 40
    green.index()  # certificateRetired reaches the page: leaderboard and retirements refetch
    row = page.get_by_test_id("carbon-leaderboard").locator(f'tr[data-account="{who.lower()}"]')
    expect(row.get_by_test_id("co2e")).to_have_text("30 g")  # 60 Wh at 500 g/kWh
    expect(mine.get_by_test_id("balance")).to_have_text("40 Wh")
    expect(page.get_by_test_id("retirements")).to_contain_text("Web Test Ltd")
