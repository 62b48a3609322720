"""The wallet's market actions in chromium against the second-wave world: an asset owner claims
the certificates of its proven delivery (proofs from GraphQL, one EnergyCertificates.claim) and
offers its energy on the exchange (collateral approve + placeSell), then cancels. Values are
compared with the chain; any console error fails a test."""

from __future__ import annotations

import re
import sys

from playwright.sync_api import expect

from tests.web.conftest import Green, Session, api

WIND = 2  # the wind asset: its renewable-market epoch is delivered (final root) but not claimed


def _wh(v: int) -> str:
    """As the page's wh(): Wh below 1,000, then kWh with up to three decimals."""
    return f"{v:,} Wh" if v < 1000 else f"{v / 1000:,.3f}".rstrip("0").rstrip(".") + " kWh"


def _own_wind(green: Green, who: str) -> None:
    """The wind asset changes hands to the browser's wallet (ERC-721 transferFrom), indexed."""
    g = green.g
    assets = g.c("AssetRegistry")
    owner = assets.functions.ownerOf(WIND).call()
    if owner.lower() != who.lower():
        seller = next(s for s in g.sellers if s.address.lower() == owner.lower())
        seller.transact(assets, "transferFrom", owner, who, WIND)
    green.index()


def test_claim_certificates_of_an_owned_asset_from_the_wallet(
    green_web: Session, green: Green
) -> None:
    page, g = green_web.page, green.g
    sw = sys.modules["gridcast_web_api.second_wave_world"].sw
    who = green_web.provider.account.address
    certs = g.c("EnergyCertificates")
    epoch = g.green_epoch
    assert not certs.functions.claimed(WIND, epoch).call()
    assert certs.functions.claimed(WIND, g.epoch).call()  # claimed in the world: not listed
    _own_wind(green, who)
    cert = sw.certificate_id(g, WIND, epoch)
    before = int(certs.functions.balanceOf(who, cert).call())

    page.goto("/#/carbon")
    page.get_by_role("button", name="Connect wallet").click()
    expect(page.get_by_test_id("carbon-account")).to_have_text(who)
    expect(page.get_by_label("Your asset")).to_have_value(str(WIND))
    expect(page.get_by_test_id("claimable")).to_have_text(
        f"Certifiable epochs (delivery root final, not yet claimed): {epoch}."
    )
    page.get_by_role("button", name="Claim certificates").click()
    wind_wh = sw.ENERGY["wind/a"]
    expect(page.get_by_test_id("carbon-message")).to_contain_text(
        f"Claimed {wind_wh:,} Wh of asset #{WIND} in epoch {epoch} (transaction"
    )
    assert certs.functions.claimed(WIND, epoch).call()
    assert int(certs.functions.balanceOf(who, cert).call()) == before + wind_wh
    # not indexed yet: the epoch is still listed, and a second claim is refused with a sentence
    page.get_by_role("button", name="Claim certificates").click()
    expect(page.get_by_test_id("carbon-message")).to_have_text(
        f"Claiming failed: Epoch {epoch} of asset #{WIND} is already certified."
    )
    green.index()  # newBlock reaches the page: the balance appears, the epoch leaves the list
    mine = page.get_by_test_id("my-certificates").locator(f'tr[data-certificate="{cert}"]')
    expect(mine.get_by_test_id("balance")).to_have_text(_wh(before + wind_wh))
    expect(page.get_by_test_id("claimable")).to_have_text(
        "No certifiable epoch among the feed's latest 50 delivery roots."
    )
    expect(page.get_by_role("button", name="Claim certificates")).to_be_disabled()


def test_offer_from_an_owned_asset_and_cancel_from_the_wallet(
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
    _own_wind(green, who)

    page.goto("/#/exchange")
    page.get_by_role("button", name="Connect wallet").click()
    expect(page.get_by_test_id("exchange-account")).to_have_text(who)
    expect(page.get_by_label("Asset", exact=True)).to_have_value(str(WIND))
    page.get_by_label("Offer epoch", exact=True).fill(str(epoch))
    price = (low + high) // 2
    page.get_by_label("Offer limit price (base units per Wh)", exact=True).fill(str(price))
    # more than 10 kW delivers in a 900 s epoch: refused with the contract's reason
    page.get_by_label("Offer volume (Wh)", exact=True).fill("5000")
    page.get_by_role("button", name="Place offer").click()
    expect(page.get_by_test_id("exchange-message")).to_have_text(
        f"Offering failed: 5000 Wh is more than asset #{WIND} can deliver in an epoch (2500 Wh)."
    )
    page.get_by_label("Offer volume (Wh)", exact=True).fill("200")
    page.get_by_role("button", name="Place offer").click()
    penalty = sw.PARAMS.penalty_per_wh
    expect(page.get_by_test_id("exchange-message")).to_contain_text(
        f"Offer of 200 Wh from asset #{WIND} in epoch {epoch} placed with {200 * penalty:,} "
        "collateral"
    )
    mine = [o for o in ex.functions.ordersOf(g.fid, epoch).call() if o[0].lower() == who.lower()]
    assert len(mine) == 1 and mine[0][5], mine  # a sell
    green.index()  # newBlock reaches the page: the offer is in the book and in the wallet's orders
    book = page.get_by_test_id("books").locator(f'tr[data-epoch="{epoch}"]')
    expect(book).to_contain_text("200 Wh")
    orders = page.get_by_test_id("my-orders").locator("tbody tr[data-order]")
    expect(orders).to_have_count(1)
    expect(orders.first).to_contain_text(f"{price:,}")
    orders.first.get_by_role(
        "button", name=re.compile(f"^Cancel order .* of epoch {epoch}$")
    ).click()
    expect(page.get_by_test_id("exchange-message")).to_contain_text("cancelled")
    mine = [o for o in ex.functions.ordersOf(g.fid, epoch).call() if o[0].lower() == who.lower()]
    assert [o[6] for o in mine] == [True], mine  # cancelled on chain
    green.index()
    expect(page.get_by_test_id("my-orders")).to_contain_text("No open order.")
