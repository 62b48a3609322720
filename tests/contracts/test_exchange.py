"""EnergyExchange: orders, gate, verified clearing, proven settlement, void, withdrawals."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import ape
import pytest

from gridcast.chain.clearing import Order, clear
from gridcast.chain.merkle import DeliveryTree, build_tree, meter_id

from .conftest import Protocol, deploy_protocol
from .test_delivery import deploy_delivery, past_window, truth_and_root

SOLAR, WIND, STORAGE, LOAD = 0, 1, 2, 3
CAPACITY_W = 10_000  # 2,500 Wh per 900 s epoch
MAX_WH = CAPACITY_W * 900 // 3600
CONSENSUS = 10_000
# ref = 1000 + 1 * (10_000 - 9_000) = 2000; band +-50% = [1000, 3000]
PARAMS = (1_000, 1, 9_000, 5_000, 300, 7_200, 200)
PENALTY = 200
EPOCHS = 4
BIG = 10**30


@dataclass
class Market:
    proto: Protocol
    delivery: Any
    assets: Any
    exchange: Any
    sellers: list[Any]  # sellers[i] owns asset i + 1 (solar, wind)
    buyers: list[Any]
    meters: dict[int, list[str]]

    @property
    def feed(self) -> bytes:
        return self.proto.feed

    def fund(self, who: Any, amount: int = BIG) -> None:
        self.proto.fund(who, amount)
        self.proto.token.approve(self.exchange, amount, sender=who)

    def buy(self, who: Any, volume: int, limit: int, epoch: int = 0) -> int:
        tx = self.exchange.placeBuy(self.feed, epoch, volume, limit, sender=who)
        return int(tx.events.filter(self.exchange.OrderPlaced)[0].index)

    def sell(self, i: int, volume: int, limit: int, epoch: int = 0) -> int:
        tx = self.exchange.placeSell(self.feed, epoch, i + 1, volume, limit, sender=self.sellers[i])
        return int(tx.events.filter(self.exchange.OrderPlaced)[0].index)

    def book(self, epoch: int = 0) -> list[Order]:
        return [
            Order(bool(o.isSell), int(o.volumeWh), int(o.limitPrice))
            for o in self.exchange.ordersOf(self.feed, epoch)
            if not o.cancelled
        ]

    def gate(self, epoch: int = 0) -> None:
        self.proto.goto(int(self.exchange.gateOf(self.feed, epoch)))

    def clear(self, epoch: int = 0) -> Any:
        c = clear(self.book(epoch))
        self.exchange.clear(self.feed, epoch, c.low, c.high, sender=self.proto.admin)
        return c

    def deliver(self, epoch: int, wh_by_meter: dict[str, int]) -> DeliveryTree:
        """Truth and delivery root of the epoch, then past the dispute window."""
        tree = build_tree(epoch, {"other-meter": 1, **wh_by_meter})
        truth_and_root(self.proto, self.delivery, epoch, tree)
        past_window(self.proto, epoch)
        return tree

    def proofs(self, tree: DeliveryTree, names: list[str]) -> tuple[list, list, list]:
        ids = sorted(meter_id(n) for n in names)
        return (ids, [tree.reading(m).energy_wh for m in ids], [tree.proof(m) for m in ids])

    def conserved(self) -> None:
        held = self.proto.token.balanceOf(self.exchange)
        assert held == sum(self.exchange.accounting())


def finalize_consensus(proto: Protocol, operator: Any, epochs: int) -> None:
    proto.stake(operator)
    curve = proto.curve(operator, 0, [CONSENSUS] * epochs)
    proto.commit(operator, curve)
    proto.goto(proto.commit_deadline(0))
    proto.reveal(curve, operator)
    proto.goto(proto.reveal_deadline(0))
    for e in range(epochs):
        proto.registry.finalizeConsensus(proto.feed, e, [operator.address], [0], sender=operator)


def deploy_market(proto: Protocol, accounts: Any, token: Any = None) -> Market:
    from ape import project

    delivery = deploy_delivery(proto)
    assets = project.AssetRegistry.deploy(proto.admin, sender=proto.admin)
    exchange = project.EnergyExchange.deploy(
        token or proto.token, proto.registry, delivery, assets, proto.admin, sender=proto.admin
    )
    exchange.setMarketParams(proto.feed, PARAMS, sender=proto.admin)
    sellers, buyers = [accounts[3], accounts[4]], [accounts[5], accounts[6]]
    meters = {1: ["solar/a", "solar/b"], 2: ["wind/a"], 3: ["load/a"]}
    for kind, owner, asset in ((SOLAR, sellers[0], 1), (WIND, sellers[1], 2), (LOAD, buyers[0], 3)):
        ids = [meter_id(m) for m in meters[asset]]
        assets.register(owner, kind, CAPACITY_W, proto.feed, "vic", ids, sender=proto.admin)
    m = Market(proto, delivery, assets, exchange, sellers, buyers, meters)
    for who in sellers + buyers:
        m.fund(who)
    return m


@pytest.fixture(scope="module")
def market(proto: Protocol, accounts: Any) -> Market:
    m = deploy_market(proto, accounts)
    finalize_consensus(proto, accounts[7], EPOCHS)
    return m


def test_band_follows_the_consensus(market: Market) -> None:
    low, high, consensus = market.exchange.bandOf(market.feed, 0)
    assert (low, high, consensus) == (1_000, 3_000, CONSENSUS)
    with ape.reverts(market.exchange.ExchangeNoConsensus):
        market.exchange.bandOf(market.feed, EPOCHS)


def test_epoch_settles_against_delivery_with_an_imbalance_penalty(market: Market) -> None:
    ex, (s0, s1), (b0, b1) = market.exchange, market.sellers, market.buyers
    market.sell(0, 1_000, 1_500)  # solar, delivers in full
    market.sell(1, 1_000, 1_800)  # wind, delivers 400 of 1000
    market.buy(b0, 1_500, 2_500)
    market.buy(b1, 1_000, 2_000)
    market.buy(b1, 500, 1_200)  # out of the money
    market.conserved()
    market.gate()
    c = market.clear()
    book = ex.bookOf(market.feed, 0)
    assert (book.price, book.volume) == (c.price, c.volume) == (2_000, 2_000)
    # the book's sells are all filled: no settlement of buys before the sells
    with ape.reverts(ex.ExchangeRootNotFinal):
        ex.settleSell(market.feed, 0, 0, ([], [], []), sender=s0)
    tree = market.deliver(0, {"solar/a": 700, "solar/b": 600, "wind/a": 400})
    with ape.reverts(ex.ExchangeSellsUnsettled):
        ex.settleBuy(market.feed, 0, 2, sender=b0)
    ex.settleSell(market.feed, 0, 0, market.proofs(tree, ["solar/a", "solar/b"]), sender=s0)
    ex.settleSell(market.feed, 0, 1, market.proofs(tree, ["wind/a"]), sender=s1)
    price = 2_000
    assert ex.balanceOf(s0) == 1_000 * PENALTY + price * 1_000
    assert ex.balanceOf(s1) == 1_000 * PENALTY - 600 * PENALTY + price * 400
    for i in (2, 3, 4):
        ex.settleBuy(market.feed, 0, i, sender=s0)  # anyone may settle; money goes to the buyer
    paid, penalties = price * 1_400, 600 * PENALTY
    # b0 filled 1500 of 2000 (weight 3/4), b1 500 (1/4) at 2000 and nothing at 1200
    assert ex.balanceOf(b0) == 1_500 * 2_500 - paid * 3 // 4 + penalties * 3 // 4
    assert ex.balanceOf(b1) == 1_000 * 2_000 + 500 * 1_200 - paid // 4 + penalties // 4
    market.conserved()
    for who in (s0, s1, b0, b1):
        ex.withdraw(sender=who)
    assert ex.accounting() == (0, 0)
    assert market.proto.token.balanceOf(ex) == 0
    with ape.reverts(ex.ExchangeNothingToWithdraw):
        ex.withdraw(sender=b0)  # double withdraw
    with ape.reverts(ex.ExchangeOrderClosed):
        ex.settleSell(market.feed, 0, 0, market.proofs(tree, ["solar/a"]), sender=s0)  # twice


def test_batch_settlement_pays_as_single_settlements(market: Market) -> None:
    ex, (s0, s1), (b0, b1) = market.exchange, market.sellers, market.buyers
    market.sell(0, 1_000, 1_500)
    market.sell(1, 1_000, 1_800)
    market.buy(b0, 1_500, 2_500)
    market.buy(b1, 1_000, 2_000)
    market.buy(b1, 500, 1_200)
    market.gate()
    market.clear()
    tree = market.deliver(0, {"solar/a": 700, "solar/b": 600, "wind/a": 400})
    deliveries = [market.proofs(tree, ["solar/a", "solar/b"]), market.proofs(tree, ["wind/a"])]
    with ape.reverts(ex.ExchangeInvalidDelivery):
        ex.settleBatch(market.feed, 0, [0, 1], deliveries[:1], [], sender=b0)
    with ape.reverts(ex.ExchangeSellsUnsettled):  # buys before every filled sell is settled
        ex.settleBatch(market.feed, 0, [0], deliveries[:1], [2], sender=b0)
    ex.settleBatch(market.feed, 0, [0, 1], deliveries, [2, 3, 4], sender=b0)
    price, paid, penalties = 2_000, 2_000 * 1_400, 600 * PENALTY
    assert ex.balanceOf(s0) == 1_000 * PENALTY + price * 1_000
    assert ex.balanceOf(s1) == 1_000 * PENALTY - 600 * PENALTY + price * 400
    assert ex.balanceOf(b0) == 1_500 * 2_500 - paid * 3 // 4 + penalties * 3 // 4
    assert ex.balanceOf(b1) == 1_000 * 2_000 + 500 * 1_200 - paid // 4 + penalties // 4
    market.conserved()
    with ape.reverts(ex.ExchangeOrderClosed):
        ex.settleBatch(market.feed, 0, [], [], [2], sender=b0)


def test_a_wrong_clearing_reverts(market: Market) -> None:
    ex = market.exchange
    market.sell(0, 1_000, 1_500)
    market.buy(market.buyers[0], 600, 2_000)
    market.buy(market.buyers[1], 600, 1_500)
    with ape.reverts(ex.ExchangeGateOpen):
        ex.clear(market.feed, 0, 1_500, 1_500, sender=market.proto.admin)
    market.gate()
    c = clear(market.book())
    for low, high in (
        (c.low - 1, c.high),
        (c.low + 1, c.high),
        (c.low, c.high + 1),
        (c.low, c.high - 1),
        (0, 0),
        (c.high, c.low - 1),
    ):
        with ape.reverts(ex.ExchangeWrongClearing):
            ex.clear(market.feed, 0, low, high, sender=market.proto.admin)
    ex.clear(market.feed, 0, c.low, c.high, sender=market.proto.admin)
    with ape.reverts(ex.ExchangeAlreadyCleared):
        ex.clear(market.feed, 0, c.low, c.high, sender=market.proto.admin)


def test_on_chain_verification_accepts_python_clearings(market: Market) -> None:
    rng = random.Random(7)
    for epoch in range(1, EPOCHS):
        for i in range(2):
            market.sell(i, rng.randint(1, MAX_WH), rng.choice([1_000, 1_500, 2_000]), epoch)
        for k in range(rng.randint(1, 5)):
            who = market.buyers[k % 2]
            market.buy(who, rng.randint(1, 3_000), rng.choice([1_500, 2_000, 2_500]), epoch)
    market.proto.goto(int(market.exchange.gateOf(market.feed, EPOCHS - 1)))
    for epoch in range(1, EPOCHS):
        c = market.clear(epoch)
        book = market.exchange.bookOf(market.feed, epoch)
        assert (book.price, book.volume) == (c.price, c.volume)
        if c.volume:
            assert (book.buyNum, book.buyDen, book.sellNum, book.sellDen) == (
                c.buy_num,
                c.buy_den,
                c.sell_num,
                c.sell_den,
            )


def test_order_and_cancel_rules(market: Market, accounts: Any) -> None:
    ex, feed = market.exchange, market.feed
    b0 = market.buyers[0]
    with ape.reverts(ex.ExchangePriceOutOfBand):
        market.buy(b0, 10, 999)
    with ape.reverts(ex.ExchangePriceOutOfBand):
        market.buy(b0, 10, 3_001)
    with ape.reverts(ex.ExchangeZeroVolume):
        market.buy(b0, 0, 1_000)
    with ape.reverts(ex.ExchangeOverCapacity):
        market.sell(0, MAX_WH + 1, 1_500)
    with ape.reverts(ex.ExchangeNotAssetOwner):
        ex.placeSell(feed, 0, 1, 10, 1_500, sender=market.sellers[1])
    with ape.reverts(ex.ExchangeAssetCannotSell):
        ex.placeSell(feed, 0, 3, 10, 1_500, sender=b0)
    first = market.sell(0, MAX_WH, 1_500)
    with ape.reverts(ex.ExchangeAssetAlreadyOffered):
        market.sell(0, 1, 1_500)
    with ape.reverts(ex.ExchangeNotTrader):
        ex.cancel(feed, 0, first, sender=b0)
    ex.cancel(feed, 0, first, sender=market.sellers[0])
    assert ex.balanceOf(market.sellers[0]) == MAX_WH * PENALTY
    with ape.reverts(ex.ExchangeOrderClosed):
        ex.cancel(feed, 0, first, sender=market.sellers[0])
    market.sell(0, 5, 1_500)  # the asset may offer again after a cancel
    late = market.buy(b0, 10, 2_000)
    market.conserved()
    market.gate()
    with ape.reverts(ex.ExchangeGateClosed):
        market.buy(b0, 10, 2_000)  # order after the gate
    with ape.reverts(ex.ExchangeGateClosed):
        ex.cancel(feed, 0, late, sender=b0)  # cancel after the gate


def test_proof_of_another_assets_meter_is_refused(market: Market) -> None:
    ex = market.exchange
    market.sell(0, 1_000, 1_000)
    market.sell(1, 1_000, 1_000)
    market.buy(market.buyers[0], 2_000, 2_000)
    market.gate()
    market.clear()
    tree = market.deliver(0, {"solar/a": 1_000, "wind/a": 1_000})
    with ape.reverts(ex.ExchangeMeterNotOfAsset):
        ex.settleSell(market.feed, 0, 0, market.proofs(tree, ["wind/a"]), sender=market.sellers[0])
    # a wrong amount fails the proof; nobody but the seller settles it as undelivered before the
    # settle window
    ids, amounts, proofs = market.proofs(tree, ["solar/a"])
    with ape.reverts(ex.ExchangeInvalidProof):
        ex.settleSell(market.feed, 0, 0, (ids, [amounts[0] + 1], proofs), sender=market.sellers[0])
    with ape.reverts(ex.ExchangeSettleTooEarly):
        ex.settleSell(market.feed, 0, 1, ([], [], []), sender=market.buyers[0])
    book = ex.bookOf(market.feed, 0)
    market.proto.goto(int(book.settleAfter))
    ex.settleSell(market.feed, 0, 1, ([], [], []), sender=market.buyers[0])
    assert ex.balanceOf(market.sellers[1]) == 0  # all collateral went to the penalty
    market.conserved()


def test_cancelled_truth_voids_the_epoch_and_refunds_everyone(market: Market) -> None:
    ex, proto = market.exchange, market.proto
    market.sell(0, 1_000, 1_000)
    market.buy(market.buyers[0], 1_000, 2_000)
    market.gate()
    market.clear()
    proto.goto(proto.epoch_end(0) + proto.params.truth_timeout)
    proto.settlement.cancelEpoch(proto.feed, 0, sender=proto.admin)
    ex.settleSell(market.feed, 0, 0, ([], [], []), sender=market.sellers[0])
    ex.settleBuy(market.feed, 0, 1, sender=market.sellers[0])
    assert ex.balanceOf(market.sellers[0]) == 1_000 * PENALTY
    assert ex.balanceOf(market.buyers[0]) == 1_000 * 2_000
    market.conserved()


def test_reentrant_token_cannot_reenter(accounts: Any, chain: Any) -> None:
    from ape import project

    proto = deploy_protocol(project, accounts, chain)  # a fresh feed whose round is still ahead
    token = project.ReentrantToken.deploy(sender=proto.admin)
    m = deploy_market(proto, accounts, token=token)
    finalize_consensus(proto, accounts[7], 1)
    b0 = m.buyers[0]
    token.mint(b0, 10**24, sender=b0)
    token.approve(m.exchange, 10**24, sender=b0)
    index = m.buy(b0, 100, 2_000)
    m.exchange.cancel(m.feed, 0, index, sender=b0)
    token.arm(m.exchange, m.exchange.withdraw.encode_input(), sender=b0)
    with ape.reverts(m.exchange.ReentrancyGuardReentrantCall):
        m.exchange.withdraw(sender=b0)
    token.disarm(sender=b0)
    m.exchange.withdraw(sender=b0)
    assert token.balanceOf(m.exchange) == 0


def test_values_beyond_the_packed_widths_revert_with_custom_errors(market: Market) -> None:
    ex, b0 = market.exchange, market.buyers[0]
    with ape.reverts(ex.SafeCastOverflowedUintDowncast):  # volumes are stored in 40 bits
        market.buy(b0, 2**40, 2_000)
    market.buy(b0, 2**40 - 1, 1_000)
    bad = (*PARAMS[:6], 2**64)  # penalties and prices are stored in 64 bits
    with ape.reverts(ex.ExchangeInvalidParams):
        ex.setMarketParams(market.feed, bad, sender=market.proto.admin)
    market.conserved()


def test_pause_stops_trading_and_settlement_but_not_withdrawals(market: Market) -> None:
    ex, admin, (s0, _), (b0, _) = market.exchange, market.proto.admin, market.sellers, market.buyers
    market.sell(0, 1_000, 1_000)
    market.buy(b0, 1_000, 2_000)
    late = market.buy(b0, 10, 2_000)
    ex.cancel(market.feed, 0, late, sender=b0)
    before = ex.accounting()
    ex.pause(sender=admin)
    assert ex.paused()
    # the flag shares the liabilities' slot: setting it changes neither counter
    assert ex.accounting() == before
    with ape.reverts(ex.EnforcedPause):
        market.buy(b0, 10, 2_000)
    with ape.reverts(ex.EnforcedPause):
        market.sell(1, 10, 1_000)
    with ape.reverts(ex.EnforcedPause):
        ex.cancel(market.feed, 0, 1, sender=b0)
    with ape.reverts(ex.EnforcedPause):
        ex.pause(sender=admin)
    market.gate()
    c = clear(market.book())
    with ape.reverts(ex.EnforcedPause):
        ex.clear(market.feed, 0, c.low, c.high, sender=admin)
    ex.withdraw(sender=b0)  # withdrawals are never paused
    assert ex.balanceOf(b0) == 0 and ex.paused()
    ex.unpause(sender=admin)
    assert not ex.paused()
    with ape.reverts(ex.ExpectedPause):
        ex.unpause(sender=admin)
    market.clear()
    tree = market.deliver(0, {"solar/a": 1_000})
    ex.pause(sender=admin)
    with ape.reverts(ex.EnforcedPause):
        ex.settleSell(market.feed, 0, 0, market.proofs(tree, ["solar/a"]), sender=s0)
    with ape.reverts(ex.EnforcedPause):
        ex.settleBuy(market.feed, 0, 1, sender=b0)
    with ape.reverts(ex.EnforcedPause):
        ex.settleBatch(market.feed, 0, [0], [market.proofs(tree, ["solar/a"])], [1], sender=b0)
    ex.unpause(sender=admin)
    ex.settleBatch(market.feed, 0, [0], [market.proofs(tree, ["solar/a"])], [1], sender=b0)
    assert ex.balanceOf(s0) == 1_000 * PENALTY + 1_000 * c.price
    market.conserved()


@pytest.mark.parametrize("band_bps", [0, 5_000, 9_999, 10_000])
def test_a_book_keeps_the_band_of_a_reference_beyond_its_stored_width(
    market: Market, band_bps: int
) -> None:
    """A book stores its reference price in 80 bits: above that the bounds clamp as uncapped."""
    ex, b0 = market.exchange, market.buyers[0]
    params = (2**90, 0, 0, band_bps, *PARAMS[4:])
    ex.setMarketParams(market.feed, params, sender=market.proto.admin)
    low, high, _ = ex.bandOf(market.feed, 1)
    max64 = 2**64 - 1
    assert high == max64 and low == (0 if band_bps == 10_000 else max64)
    market.buy(b0, 1, high, epoch=1)
    book = ex.bookOf(market.feed, 1)
    assert (book.bandLow, book.bandHigh, book.open) == (low, high, True)
    with ape.reverts(ex.ExchangePriceOutOfBand):
        market.buy(b0, 1, high + 1, epoch=1)
    # a reference within the width: the book's bounds are those bandOf computed at opening
    ex.setMarketParams(market.feed, PARAMS, sender=market.proto.admin)
    market.buy(b0, 1, 2_000, epoch=2)
    book = ex.bookOf(market.feed, 2)
    assert (book.bandLow, book.bandHigh) == ex.bandOf(market.feed, 2)[:2] == (1_000, 3_000)
    assert not ex.bookOf(market.feed, 3).open


def test_open_book_ahead_of_the_first_order(market: Market) -> None:
    """Anyone may open a book (paying for its creation); its first order then opens nothing."""
    ex, anyone, b0 = market.exchange, market.proto.admin, market.buyers[0]
    with ape.reverts(ex.ExchangeNoConsensus):
        ex.openBook(market.feed, EPOCHS, sender=anyone)
    with ape.reverts(ex.ExchangeUnknownFeed):
        ex.openBook(b"\x01" * 32, 1, sender=anyone)
    assert not ex.bookOf(market.feed, 1).open
    tx = ex.openBook(market.feed, 1, sender=anyone)
    [opened] = tx.events.filter(ex.BookOpened)
    assert (opened.epoch, opened.bandLow, opened.bandHigh) == (1, 1_000, 3_000)
    book = ex.bookOf(market.feed, 1)
    assert (book.open, book.bandLow, book.bandHigh, book.gateAt) == (
        True,
        1_000,
        3_000,
        opened.gateAt,
    )
    assert ex.orderCount(market.feed, 1) == 0
    assert not ex.openBook(market.feed, 1, sender=anyone).events.filter(ex.BookOpened)
    tx = ex.placeBuy(market.feed, 1, 10, 2_000, sender=b0)
    assert not tx.events.filter(ex.BookOpened)
    assert ex.orderCount(market.feed, 1) == 1
    ex.pause(sender=anyone)
    with ape.reverts(ex.EnforcedPause):
        ex.openBook(market.feed, 2, sender=anyone)
    ex.unpause(sender=anyone)
    market.gate(2)
    with ape.reverts(ex.ExchangeGateClosed):
        ex.openBook(market.feed, 2, sender=anyone)
