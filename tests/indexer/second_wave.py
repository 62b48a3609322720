"""A real second-wave market on anvil, shared by the indexer and API tests: the protocol
(bootstrap, one feed, one operator), the four second-wave contracts (deploy_second_wave) in the
Deployment, two producers (a solar and a wind asset), a load, two buyers, one traded epoch
(orders, a cancel, a verified clearing, a truth, a metered-delivery root, proven settlement with
an imbalance, withdrawals) and certificates claimed from the same root, moved and retired."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridcast.chain.clearing import Clearing, Order, clear
from gridcast.chain.keys import dev_account
from gridcast.chain.merkle import DeliveryTree, build_tree, meter_id
from gridcast.chain.submitter import Submitter
from gridcast.exchange.deploy import (
    MarketParams,
    SecondWave,
    contract,
    deploy_second_wave,
    renewable_market_id,
)
from gridcast.localnet import DEMAND, LocalMarket, bootstrap
from gridcast.node import AnvilNode

EPOCH_LENGTH = 900
EPOCHS_PER_ROUND = 3  # as tests/indexer/scenario.py's play_round expects
SOLAR, WIND, LOAD = 0, 1, 3
CAPACITY_W = 10_000  # 2,500 Wh per 900 s epoch
LOAD_CAPACITY_W = 12_000  # the load's capacity after setCapacity
# slope 0: the reference price is the base price whatever the consensus; band 500..1500
PARAMS = MarketParams(
    base_price=1_000, slope=0, reference_value=0, band_bps=5_000, gate_lead=100,
    settle_window=7_200, penalty_per_wh=200,
)  # fmt: skip
METERS = {1: ["solar/a", "solar/b"], 2: ["wind/a"], 3: ["load/a"]}
# metered energy of the traded epoch: solar delivers 1,300 of 1,000 sold, wind 400 of 1,000
ENERGY = {"solar/a": 700, "solar/b": 600, "wind/a": 400, "load/a": 900, "other/x": 5}
GRAMS_PER_KWH = 500
BIG = 10**30


@dataclass
class Green:
    node: AnvilNode
    lm: LocalMarket
    sw: SecondWave
    feed: str
    sellers: list[Submitter]  # sellers[i] owns asset i + 1 (solar, wind)
    buyers: list[Submitter]  # the load (asset 3) is registered to buyers[0], then moved to [1]
    epoch: int = -1  # the plain market's traded epoch
    trees: dict[int, DeliveryTree] = field(default_factory=dict)  # delivery tree per epoch
    clearing: Clearing | None = None
    green_epoch: int = -1  # the renewable market's traded epoch (-1: none)
    green_clearing: Clearing | None = None
    retirements: list[tuple[Submitter, int, int, str]] = field(default_factory=list)

    @property
    def fid(self) -> bytes:
        return bytes.fromhex(self.feed[2:])

    def c(self, name: str) -> Any:
        if name in self.sw.addresses():
            return contract(self.lm.admin.w3, name, self.sw.addresses()[name])
        return self.lm.contract(name)

    @property
    def submitters(self) -> list[Submitter]:
        return [self.lm.admin, *self.lm.operators, *self.sellers, *self.buyers]

    def now(self) -> int:
        return int(self.node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]

    def warp(self, t: int) -> None:
        if t > self.now():
            self.node.rpc("evm_setNextBlockTimestamp", [t])
            self.node.rpc("evm_mine")

    @property
    def tree(self) -> DeliveryTree:
        return self.trees[self.epoch]

    @property
    def green_market(self) -> bytes:
        """renewableMarketOf(feedId): the feed's renewable-only market."""
        return renewable_market_id(self.fid)

    def proofs(
        self, names: list[str], epoch: int | None = None
    ) -> tuple[list[bytes], list[int], list[list[bytes]]]:
        tree = self.trees[self.epoch if epoch is None else epoch]
        ids = sorted(meter_id(n) for n in names)
        return ids, [tree.reading(m).energy_wh for m in ids], [tree.proof(m) for m in ids]


def build(node: AnvilNode, state: Path) -> Green:
    """Protocol + second wave + market parameters + assets + funded traders."""
    lm = bootstrap(
        node.url, state, operator_keys=[1], genesis=_now(node) + 3600,
        epoch_length=EPOCH_LENGTH, epochs_per_round=EPOCHS_PER_ROUND, feeds=(DEMAND,),
    )  # fmt: skip
    admin = lm.admin
    sw = deploy_second_wave(admin, lm.deployment, truth_reporters=[admin.address])
    lm.deployment = dataclasses.replace(
        lm.deployment, delivery=sw.delivery, assets=sw.assets, exchange=sw.exchange,
        certificates=sw.certificates,
    )  # fmt: skip
    lm.deployment.save(state / "deployment.json")
    feed = next(iter(lm.params))
    w3 = admin.w3
    g = Green(
        node, lm, sw, feed,
        sellers=[Submitter(w3, dev_account(i, 31337)) for i in (3, 4)],
        buyers=[Submitter(w3, dev_account(i, 31337)) for i in (5, 6)],
    )  # fmt: skip
    admin.transact(g.c("EnergyExchange"), "setMarketParams", g.fid, PARAMS.as_tuple())
    assets = g.c("AssetRegistry")
    owners = {1: g.sellers[0], 2: g.sellers[1], 3: g.buyers[0]}
    for asset, kind in ((1, SOLAR), (2, WIND), (3, LOAD)):
        ids = [meter_id(m) for m in METERS[asset]]
        admin.transact(
            assets, "register", owners[asset].address, kind, CAPACITY_W, g.fid,
            f"vic/{asset}", ids,
        )  # fmt: skip
    # the load changes hands and capacity (ERC-721 Transfer, AssetCapacityChanged)
    g.buyers[0].transact(assets, "transferFrom", g.buyers[0].address, g.buyers[1].address, 3)
    admin.transact(assets, "setCapacity", 3, LOAD_CAPACITY_W)
    token, exchange = g.c("GridToken"), g.c("EnergyExchange")
    for who in g.sellers + g.buyers:
        admin.transact(token, "mint", who.address, BIG)
        who.transact(token, "approve", exchange.address, BIG)
    return g


def _now(node: AnvilNode) -> int:
    return int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]


def consensus(g: Green, play_round: Any) -> int:
    """A round of forecasts with final consensus (no truth yet); returns its first epoch."""
    rnd = play_round(g.node, g.lm, g.feed, seed=1, settle=False)
    return int(rnd["first"])


def trade(g: Green, epoch: int) -> None:
    """Orders (one cancelled), the verified clearing at the gate, the truth and delivery root,
    proven settlement of every order, and withdrawals; meanwhile the renewable market of the
    feed lists and takes a sell and a buy for the next epoch (see :func:`settle_renewable`)."""
    g.epoch = epoch
    ex, (s0, s1), (b0, b1) = g.c("EnergyExchange"), g.sellers, g.buyers
    place_renewable(g, epoch + 1)
    s0.transact(ex, "placeSell", g.fid, epoch, 1, 1_000, 800)  # 0: solar
    s1.transact(ex, "placeSell", g.fid, epoch, 2, 1_000, 900)  # 1: wind
    b0.transact(ex, "placeBuy", g.fid, epoch, 1_500, 1_200)  # 2
    b1.transact(ex, "placeBuy", g.fid, epoch, 1_000, 1_000)  # 3
    b1.transact(ex, "placeBuy", g.fid, epoch, 500, 600)  # 4: out of the money
    b0.transact(ex, "placeBuy", g.fid, epoch, 300, 1_100)  # 5: cancelled
    b0.transact(ex, "cancel", g.fid, epoch, 5)
    g.warp(int(ex.functions.gateOf(g.fid, epoch).call()))
    book = [
        Order(bool(o[5]), int(o[3]), int(o[4]))
        for o in ex.functions.ordersOf(g.fid, epoch).call()
        if not o[6]
    ]
    g.clearing = clear(book)
    g.lm.admin.transact(ex, "clear", g.fid, epoch, g.clearing.low, g.clearing.high)
    deliver(g, epoch)
    s0.transact(ex, "settleSell", g.fid, epoch, 0, g.proofs(METERS[1]))
    s1.transact(ex, "settleSell", g.fid, epoch, 1, g.proofs(METERS[2]))
    for i in (2, 3, 4):
        b0.transact(ex, "settleBuy", g.fid, epoch, i)
    for who in (s0, s1, b0, b1):
        who.transact(ex, "withdraw")


def place_renewable(g: Green, epoch: int) -> None:
    """The renewable market lists; the solar asset sells 800 Wh there at >= 800 and a buyer
    bids 600 Wh of renewable energy at <= 1,000."""
    ex = g.c("EnergyExchange")
    g.lm.admin.transact(ex, "setRenewableMarketParams", g.fid, PARAMS.as_tuple())
    assert bytes(ex.functions.renewableMarketOf(g.fid).call()) == g.green_market
    g.green_epoch = epoch
    g.sellers[0].transact(ex, "placeSell", g.green_market, epoch, 1, 800, 800)
    g.buyers[1].transact(ex, "placeBuy", g.green_market, epoch, 600, 1_000)


def settle_renewable(g: Green) -> None:
    """Clear the renewable book, deliver its epoch, settle: the traded delivered Wh's certificates
    go to the buyer, the rest of the delivery's to the asset's owner."""
    ex, market, epoch = g.c("EnergyExchange"), g.green_market, g.green_epoch
    g.warp(int(ex.functions.gateOf(market, epoch).call()))
    g.green_clearing = clear([Order(True, 800, 800), Order(False, 600, 1_000)])
    g.lm.admin.transact(ex, "clear", market, epoch, g.green_clearing.low, g.green_clearing.high)
    deliver(g, epoch)
    g.sellers[0].transact(ex, "settleSell", market, epoch, 0, g.proofs(METERS[1], epoch))
    g.buyers[1].transact(ex, "settleBuy", market, epoch, 1)
    for who in (g.sellers[0], g.buyers[1]):
        who.transact(ex, "withdraw")


def deliver(g: Green, epoch: int) -> None:
    """The epoch's truth and metered-delivery root, then past its dispute window (final)."""
    reg, settlement = g.c("ForecastRegistry"), g.c("Settlement")
    g.warp(int(reg.functions.epochEnd(g.fid, epoch).call()))
    g.lm.admin.transact(settlement, "submitTruth", g.fid, epoch, 1_000, secrets.token_bytes(32))
    tree = g.trees[epoch] = build_tree(epoch, ENERGY)
    g.lm.admin.transact(
        g.c("MeteredDelivery"), "postRoot", g.fid, epoch, tree.root, tree.count, tree.total_wh
    )
    g.warp(g.now() + g.lm.params[g.feed].dispute_window + 1)


def certify(g: Green) -> None:
    """Both renewable assets claim the epoch; the solar owner moves 300 Wh to a buyer; three
    retirements at 500 g/kWh."""
    certs = g.c("EnergyCertificates")
    g.lm.admin.transact(certs, "setEmissionFactor", g.fid, GRAMS_PER_KWH)
    for asset in (1, 2):
        ids, energy, proofs = g.proofs(METERS[asset])
        g.lm.admin.transact(certs, "claim", asset, ids, [(g.epoch, energy, proofs)])
    s0, s1, b0 = g.sellers[0], g.sellers[1], g.buyers[0]
    solar = certificate_id(g, 1)
    s0.transact(certs, "safeTransferFrom", s0.address, b0.address, solar, 300, b"")
    retire(g, s0, solar, 600, "Acme Pty Ltd")
    retire(g, b0, solar, 300, "Beta Co-op")
    retire(g, s1, certificate_id(g, 2), 100, "Acme Pty Ltd")


def certificate_id(g: Green, asset: int, epoch: int | None = None) -> int:
    """The certificate id of an asset's energy in an epoch (the plain traded one by default)."""
    epoch = g.epoch if epoch is None else epoch
    start = int(g.c("ForecastRegistry").functions.epochStart(g.fid, epoch).call())
    return int(g.c("EnergyCertificates").functions.idOf(asset, start // 86_400).call())


def retire(g: Green, who: Submitter, token: int, amount: int, beneficiary: str) -> None:
    who.transact(g.c("EnergyCertificates"), "retire", token, amount, beneficiary, "scope 2")
    g.retirements.append((who, token, amount, beneficiary))


def revert(g: Green, snapshot: object) -> None:
    """evm_revert, and make every submitter re-read its nonce from the node."""
    g.node.rpc("evm_revert", [snapshot])
    for sub in g.submitters:
        sub._nonce = None
