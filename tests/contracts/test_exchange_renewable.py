"""EnergyExchange renewable markets: only solar and wind sell, buys there require renewable
energy, and at settlement the certificates of the delivered energy go to the buyers (the green
attribute follows the energy); the seller cannot certify the same (asset, epoch) again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ape
import pytest

from gridcast.chain.clearing import Order, clear
from gridcast.chain.merkle import DeliveryTree
from gridcast.exchange.deploy import renewable_market_id

from .conftest import Protocol
from .test_exchange import (
    CAPACITY_W,
    EPOCHS,
    PARAMS,
    PENALTY,
    STORAGE,
    Market,
    deploy_market,
    finalize_consensus,
)

SOLAR_ID, WIND_ID, STORAGE_ID = 1, 2, 4
SOLAR, WIND = ["solar/a", "solar/b"], ["wind/a"]


@dataclass
class Green:
    m: Market
    certs: Any
    market: bytes  # the renewable market's id

    @property
    def ex(self) -> Any:
        return self.m.exchange

    def sell(self, i: int, volume: int, limit: int, epoch: int = 0) -> int:
        tx = self.ex.placeSell(self.market, epoch, i + 1, volume, limit, sender=self.m.sellers[i])
        return int(tx.events.filter(self.ex.OrderPlaced)[0].index)

    def buy(self, who: Any, volume: int, limit: int, epoch: int = 0) -> int:
        tx = self.ex.placeBuy(self.market, epoch, volume, limit, sender=who)
        return int(tx.events.filter(self.ex.OrderPlaced)[0].index)

    def clear(self, epoch: int = 0) -> Any:
        book = [
            Order(bool(o.isSell), int(o.volumeWh), int(o.limitPrice))
            for o in self.ex.ordersOf(self.market, epoch)
            if not o.cancelled
        ]
        c = clear(book)
        self.ex.clear(self.market, epoch, c.low, c.high, sender=self.m.proto.admin)
        return c

    def cert_id(self, asset: int, epoch: int = 0) -> int:
        return (asset << 64) | ((self.m.proto.params.genesis + epoch * 900) // 86_400)

    def claim(self, asset: int, meters: list[str], tree: DeliveryTree, epoch: int = 0) -> Any:
        ids, amounts, proofs = self.m.proofs(tree, meters)
        return self.certs.claim(asset, ids, [(epoch, amounts, proofs)], sender=self.m.sellers[0])


def deploy_green(proto: Protocol, accounts: Any) -> Green:
    from ape import project

    m = deploy_market(proto, accounts)
    m.assets.register(
        m.sellers[1], STORAGE, CAPACITY_W, proto.feed, "vic", [b"\x44" * 32], sender=proto.admin
    )
    certs = project.EnergyCertificates.deploy(
        m.delivery, m.assets, proto.registry, proto.admin, "ipfs://{id}", sender=proto.admin
    )
    with ape.reverts(m.exchange.ExchangeNoCertificates):
        m.exchange.setRenewableMarketParams(proto.feed, PARAMS, sender=proto.admin)
    m.exchange.setCertificates(certs, sender=proto.admin)
    certs.setExchange(m.exchange, sender=proto.admin)
    m.exchange.setRenewableMarketParams(proto.feed, PARAMS, sender=proto.admin)
    market = renewable_market_id(proto.feed)
    assert m.exchange.renewableMarketOf(proto.feed) == market
    return Green(m, certs, market)


@pytest.fixture(scope="module")
def green(proto: Protocol, accounts: Any) -> Green:
    g = deploy_green(proto, accounts)
    finalize_consensus(proto, accounts[7], EPOCHS)
    return g


def book_of_two_sells(g: Green) -> None:
    """Solar 1,000 Wh at 1,500 and wind 1,000 at 1,800 against buys of 1,500 at 2,500 (b0) and
    1,000 at 2,000 (b1): 2,000 Wh clear at 2,000, b0 weighs 3/4, b1 1/4."""
    (b0, b1) = g.m.buyers
    g.sell(0, 1_000, 1_500)
    g.sell(1, 1_000, 1_800)
    g.buy(b0, 1_500, 2_500)
    g.buy(b1, 1_000, 2_000)
    g.m.gate()
    c = g.clear()
    assert (c.price, c.volume) == (2_000, 2_000)


def assert_certificates_followed_the_energy(g: Green, tree: DeliveryTree) -> None:
    certs, ex, (s0, s1), (b0, b1) = g.certs, g.ex, g.m.sellers, g.m.buyers
    solar, wind = g.cert_id(SOLAR_ID), g.cert_id(WIND_ID)
    # solar delivered 1,300 of 1,000 sold: 1,000 to the buyers, 300 to its owner; wind 400 of 1,000
    assert certs.balanceOf(b0, solar) == 750 and certs.balanceOf(b1, solar) == 250
    assert certs.balanceOf(b0, wind) == 300 and certs.balanceOf(b1, wind) == 100
    assert certs.balanceOf(s0, solar) == 300 and certs.balanceOf(s1, wind) == 0
    assert certs.balanceOf(ex, solar) == 0 and certs.balanceOf(ex, wind) == 0
    assert certs.minted(solar) == 1_300 and certs.minted(wind) == 400
    assert certs.claimed(SOLAR_ID, 0) and certs.claimed(WIND_ID, 0)
    # the seller cannot certify the same energy again
    with ape.reverts(certs.CertificatesAlreadyClaimed):
        g.claim(SOLAR_ID, SOLAR, tree)
    with ape.reverts(certs.CertificatesAlreadyClaimed):
        g.claim(WIND_ID, WIND, tree)
    # money settles exactly as in a plain market
    price, paid, penalties = 2_000, 2_000 * 1_400, 600 * PENALTY
    assert ex.balanceOf(s0) == 1_000 * PENALTY + price * 1_000
    assert ex.balanceOf(s1) == 1_000 * PENALTY - 600 * PENALTY + price * 400
    assert ex.balanceOf(b0) == 1_500 * 2_500 - paid * 3 // 4 + penalties * 3 // 4
    assert ex.balanceOf(b1) == 1_000 * 2_000 - paid // 4 + penalties // 4
    g.m.conserved()


def test_certificates_follow_the_energy_to_the_buyers(green: Green) -> None:
    g, certs, ex = green, green.certs, green.ex
    (s0, s1), (b0, b1) = g.m.sellers, g.m.buyers
    book_of_two_sells(g)
    tree = g.m.deliver(0, {"solar/a": 700, "solar/b": 600, "wind/a": 400})
    assert ex.pendingRenewable(SOLAR_ID, 0) == 1 and ex.pendingRenewable(WIND_ID, 0) == 1
    with ape.reverts(certs.CertificatesPendingOnExchange):  # the seller cannot claim first
        g.claim(SOLAR_ID, SOLAR, tree)
    tx = ex.settleSell(g.market, 0, 0, g.m.proofs(tree, SOLAR), sender=s0)
    (ev,) = tx.events.filter(ex.CertificatesEscrowed)
    assert (ev.assetId, ev.certificateId, ev.energyWh) == (SOLAR_ID, g.cert_id(SOLAR_ID), 1_000)
    (tc,) = tx.events.filter(certs.TradeCertified)
    assert (tc.tradedWh, tc.ownerWh, tc.owner) == (1_000, 300, s0.address)
    ex.settleSell(g.market, 0, 1, g.m.proofs(tree, WIND), sender=s1)
    assert ex.pendingRenewable(SOLAR_ID, 0) == 0
    assert [(int(lot.id), int(lot.energyWh)) for lot in ex.lotsOf(g.market, 0)] == [
        (g.cert_id(SOLAR_ID), 1_000),
        (g.cert_id(WIND_ID), 400),
    ]
    tx = ex.settleBuy(g.market, 0, 2, sender=s0)  # anyone; certificates go to the buyer
    (ev,) = tx.events.filter(ex.CertificatesDelivered)
    assert (ev.buyer, list(ev.amounts)) == (b0.address, [750, 300])
    ex.settleBuy(g.market, 0, 3, sender=b1)
    assert_certificates_followed_the_energy(g, tree)


def test_batch_settlement_moves_the_same_certificates(green: Green) -> None:
    g = green
    book_of_two_sells(g)
    tree = g.m.deliver(0, {"solar/a": 700, "solar/b": 600, "wind/a": 400})
    deliveries = [g.m.proofs(tree, SOLAR), g.m.proofs(tree, WIND)]
    g.ex.settleBatch(g.market, 0, [0, 1], deliveries, [2, 3], sender=g.m.buyers[0])
    assert_certificates_followed_the_energy(g, tree)


def test_renewable_market_rules(green: Green, accounts: Any) -> None:
    g, certs, ex = green, green.certs, green.ex
    s0, b0 = g.m.sellers[0], g.m.buyers[0]
    with ape.reverts(ex.ExchangeAssetNotRenewable):  # storage only shifts energy
        ex.placeSell(g.market, 0, STORAGE_ID, 10, 1_500, sender=g.m.sellers[1])
    with ape.reverts(ex.ExchangeAssetCannotSell):  # a load never sells
        ex.placeSell(g.market, 0, 3, 10, 1_500, sender=b0)
    first = g.sell(0, 1_000, 1_500)
    with ape.reverts(ex.ExchangeAssetAlreadyOffered):  # one offer per (asset, epoch), any market
        g.m.sell(0, 1_000, 1_500)
    ex.cancel(g.market, 0, first, sender=s0)
    assert ex.pendingRenewable(SOLAR_ID, 0) == 0
    g.sell(1, 1_000, 2_900)  # wind, out of the money: unfilled
    g.buy(b0, 500, 2_000)
    g.m.gate()
    g.clear()
    with ape.reverts(certs.CertificatesNotExchange):
        certs.certifyTraded(SOLAR_ID, 0, 1_000, 1_000, sender=s0)
    tree = g.m.deliver(0, {"solar/a": 700, "solar/b": 600, "wind/a": 400})
    g.claim(SOLAR_ID, SOLAR, tree)  # the cancelled sell left solar's epoch to its owner
    assert certs.balanceOf(s0, g.cert_id(SOLAR_ID)) == 1_300
    with ape.reverts(certs.CertificatesPendingOnExchange):
        g.claim(WIND_ID, WIND, tree)
    ex.settleSell(g.market, 0, 1, ([], [], []), sender=g.m.sellers[1])  # unfilled: no proof
    g.claim(WIND_ID, WIND, tree)  # the unsold energy stays its owner's
    assert certs.balanceOf(g.m.sellers[1], g.cert_id(WIND_ID)) == 400
    assert list(ex.lotsOf(g.market, 0)) == []
    with ape.reverts(ex.AccessControlUnauthorizedAccount):
        ex.setCertificates(certs, sender=s0)
    with ape.reverts(certs.AccessControlUnauthorizedAccount):
        certs.setExchange(ex, sender=s0)


def test_a_renewable_book_takes_at_most_max_renewable_sells(green: Green, accounts: Any) -> None:
    g, ex, proto = green, green.ex, green.m.proto
    cap = int(ex.MAX_RENEWABLE_SELLS())
    owner = g.m.sellers[0]
    first = int(g.m.assets.assetCount()) + 1
    for i in range(cap + 1):
        g.m.assets.register(
            owner, 0, CAPACITY_W, proto.feed, "vic", [bytes([5, i]) * 16], sender=proto.admin
        )
    for i in range(cap):
        ex.placeSell(g.market, 1, first + i, 1, 1_500, sender=owner)
    with ape.reverts(ex.ExchangeTooManyRenewableSells):
        ex.placeSell(g.market, 1, first + cap, 1, 1_500, sender=owner)
    ex.placeSell(proto.feed, 1, first + cap, 1, 1_500, sender=owner)  # the plain market has room
