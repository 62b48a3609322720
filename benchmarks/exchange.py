"""Gas and compute of the energy exchange on a real anvil node.

- ``order_gas``: a steady-state order, the larger of a buy and a sell (the book already open; the
  selling asset offered before within the same 256 epochs, so its offer bitmap word exists);
  ``order_gas_sell_first_offer`` is an asset's first offer in 256 epochs (+17k for the new word),
  ``book_open_gas`` the first order of a book nobody opened (it reads the consensus and creates the
  book's three slots: ~86k over the order). ``open_book_gas`` is that creation paid on its own by
  a keeper (``openBook``), ``order_gas_first_of_opened_book`` the first order of such a book.
- ``clear_gas_10`` / ``clear_gas_100`` / ``clear_gas_max``: on-chain verification of a clearing
  computed by gridcast.chain.clearing, for books of 10, 100 and MAX_ORDERS (1,000) orders;
  ``clear_gas_per_order`` is the slope between 100 and 1,000 (verification is linear).
- ``settle_gas_per_trade``: gas per traded order when a whole book (10 sells, each proving one
  meter against a 100-leaf delivery root, and 10 buys) settles in one ``settleBatch``, with
  participants that already hold an exchange balance (steady state).
  ``settle_gas_per_order_single`` is the mean of one-order ``settleSell``/``settleBuy`` calls in
  the same state (the first sell of a book also asks MeteredDelivery for the root and caches it);
  ``..._single_first`` the same in the first book its participants settle. A steady single
  settleSell (~71.5k, one meter, 7-hash proof) is 21k intrinsic + ~5.9k calldata + 6 cold slot
  reads and 4 slot writes (order, account balance, book totals, liabilities: ~24.8k) + the
  AssetRegistry meter check (~5.2k) + the event (~3.9k) + ~10k execution (ABI decoding, proof,
  arithmetic); the first sell of a book adds ~42.6k (MeteredDelivery.statusAndRoot ~24.9k, caching
  the root in a new slot ~20k), so the mean of 10 is ~76k, over the 60k target for one-order
  transactions; ``settleBatch`` meets it.
- ``settle_sell_gas_renewable`` / ``settle_buy_gas_renewable``: the same single settlements in the
  feed's renewable market, where a sell's settlement certifies its delivery through
  EnergyCertificates and a buy's receives its share of the certificates (10 lots).
- ``clear_compute_ms_10000``: off-chain clearing of 10,000 random orders (median of 5, this CPU).

Run: ``.venv/bin/python benchmarks/exchange.py``; writes benchmarks/results/exchange.json.
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from report import publish
from web3 import Web3

from gridcast.chain.clearing import Order, clear
from gridcast.chain.commitments import Curve
from gridcast.chain.deploy import deploy_all, fund_and_stake, register_feed
from gridcast.chain.deployment import FeedParams
from gridcast.chain.keys import dev_account
from gridcast.chain.merkle import DeliveryTree, build_tree, meter_id
from gridcast.chain.submitter import Submitter
from gridcast.exchange.deploy import MarketParams, deploy_second_wave, renewable_market_id
from gridcast.node import AnvilNode

E18 = 10**18
EPOCH, ROUND = 900, 96
OUT = Path(__file__).parent / "results" / "exchange.json"
CAPACITY_W = 4_000_000  # 1 MWh per 15-minute epoch
PARAMS = MarketParams(
    base_price=10**14,  # 0.1 GRID/kWh
    slope=0,
    reference_value=0,
    band_bps=9_000,
    gate_lead=300,
    settle_window=7_200,
    penalty_per_wh=5 * 10**13,
)
SOLAR = 0


def gas(receipt: Any) -> int:
    return int(receipt["gasUsed"]) if receipt else 0


class Env:
    """Protocol + second wave on anvil, a feed, its consensus for `epochs` epochs of round 0."""

    def __init__(
        self, node: AnvilNode, epochs: int, traders: int = 10, day_aligned: bool = False
    ) -> None:
        self.node = node
        self.w3 = Web3(Web3.HTTPProvider(node.url))
        self.admin = Submitter(self.w3, dev_account(0, node.chain_id))
        self.reporter = Submitter(self.w3, dev_account(1, node.chain_id))
        self.dep = deploy_all(self.admin, truth_reporters=[self.reporter.address])
        self.token = self.dep.contract(self.w3, "GridToken")
        self.registry = self.dep.contract(self.w3, "ForecastRegistry")
        self.settlement = self.dep.contract(self.w3, "Settlement")
        wave = deploy_second_wave(self.admin, self.dep, truth_reporters=[self.reporter.address])
        self.delivery = wave.contract(self.w3, "MeteredDelivery")
        self.assets = wave.contract(self.w3, "AssetRegistry")
        self.exchange = wave.contract(self.w3, "EnergyExchange")
        self.certificates = wave.contract(self.w3, "EnergyCertificates")
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        self.genesis = (now // 86_400 + 1) * 86_400 if day_aligned else (now // EPOCH + 8) * EPOCH
        self.params = FeedParams(
            genesis=self.genesis,
            epoch_length=EPOCH,
            epochs_per_round=ROUND,
            reveal_window=600,
            lead_time=600,
            truth_timeout=3_600,
            dispute_window=600,
            decimals=3,
            max_forecasts_per_epoch=64,
            slash_bps=1_000,
            non_reveal_slash_bps=500,
            min_stake=E18,
            reward_per_epoch=0,
            dispute_bond=E18,
            tolerance=1_000,
            slash_threshold=5_000,
        )
        self.feed = register_feed(self.admin, self.registry, "bench", "demand", EPOCH, self.params)
        self.admin.transact(self.exchange, "setMarketParams", self.feed, PARAMS.as_tuple())
        self.traders = [self.account(f"trader-{i}") for i in range(traders)]
        for t in self.traders:
            self.admin.transact(self.token, "mint", t.address, 10**12 * E18)
            t.transact(self.token, "approve", self.exchange.address, 2**256 - 1)
        self.admin.transact(self.token, "mint", self.reporter.address, 10**6 * E18)
        self.reporter.transact(self.token, "approve", self.settlement.address, 2**256 - 1)
        self.operator = self.account("operator")
        staking = self.dep.contract(self.w3, "OperatorStaking")
        fund_and_stake(self.admin, self.operator, self.token, staking, 100 * E18)
        if epochs:
            self.consensus(epochs)
        self.assets_of: dict[str, list[int]] = {}

    def account(self, name: str) -> Submitter:
        acct = Account.from_key(Web3.keccak(text=f"gridcast-exchange-bench-{name}"))
        self.node.rpc("anvil_setBalance", [acct.address, hex(10**22)])
        return Submitter(self.w3, acct)

    def goto(self, ts: int) -> None:
        self.node.rpc("evm_setNextBlockTimestamp", [ts])
        self.node.rpc("evm_mine", [])

    def view(self, contract: Any, fn: str, *args: Any) -> Any:
        return getattr(contract.functions, fn)(*args).call()

    def consensus(self, epochs: int) -> None:
        values = [5_000_000] * epochs
        c = Curve(self.feed, self.operator.address, 0, values, values, values, b"\x42" * 32)
        self.operator.transact(self.registry, "commit", self.feed, 0, c.commitments())
        self.goto(self.view(self.registry, "commitDeadline", self.feed, 0))
        self.operator.transact(
            self.registry, "reveal", self.feed, self.operator.address, 0, c.opening()
        )
        self.goto(self.view(self.registry, "revealDeadline", self.feed, 0))
        for e in range(epochs):
            self.admin.transact(
                self.registry, "finalizeConsensus", self.feed, e, [self.operator.address], [0]
            )

    def register(self, owner: Submitter, name: str, kind: int = SOLAR) -> int:
        meters = [meter_id(name)]
        self.admin.transact(
            self.assets, "register", owner.address, kind, CAPACITY_W, self.feed, "bench", meters
        )
        asset = int(self.view(self.assets, "assetCount"))
        self.assets_of.setdefault(owner.address, []).append(asset)
        return asset

    def epoch_end(self, epoch: int) -> int:
        return self.genesis + (epoch + 1) * EPOCH

    def truth_and_root(self, epoch: int, tree: DeliveryTree) -> None:
        end = self.epoch_end(epoch)
        if int(self.w3.eth.get_block("latest")["timestamp"]) < end:
            self.goto(end)
        self.reporter.transact(
            self.settlement, "submitTruth", self.feed, epoch, 5_000_000, b"\x01" * 32
        )
        self.reporter.transact(
            self.delivery, "postRoot", self.feed, epoch, tree.root, tree.count, tree.total_wh
        )


def fill_book(
    env: Env, epoch: int, n: int, rng: random.Random, assets: list[tuple[Submitter, int]]
) -> list[int]:
    """n orders, half sells (as many as `assets` allows), prices around the base price."""
    gases = []
    sells = min(n // 2, len(assets))
    for i in range(n):
        price = PARAMS.base_price + rng.randint(-20, 20) * 10**12
        volume = rng.randint(10_000, 900_000)
        if i < sells:
            owner, asset = assets[i]
            r = owner.transact(env.exchange, "placeSell", env.feed, epoch, asset, volume, price)
        else:
            t = env.traders[i % len(env.traders)]
            r = t.transact(env.exchange, "placeBuy", env.feed, epoch, volume, price)
        gases.append(gas(r))
    return gases


def book(env: Env, epoch: int, market: bytes | None = None) -> list[Order]:
    rows = env.view(env.exchange, "ordersOf", market or env.feed, epoch)
    # Order(trader, assetId, settled, volumeWh, limitPrice, isSell, cancelled)
    return [Order(bool(r[5]), int(r[3]), int(r[4])) for r in rows if not r[6]]


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    rng = random.Random(1)
    with AnvilNode(gas_limit=200_000_000).start() as node:
        env = Env(node, epochs=4)
        assets = []
        for i in range(100):
            owner = env.traders[i % len(env.traders)]
            assets.append((owner, env.register(owner, f"bench-meter-{i}")))
        # ---- orders and clearing at 10, 100, 1000 orders (epochs 1, 2, 3)
        order_gases: dict[int, list[int]] = {}
        for epoch, n in ((1, 10), (2, 100), (3, 1_000)):
            order_gases[n] = fill_book(env, epoch, n, rng, assets)
        g = order_gases[100]
        results["book_open_gas"] = g[0]
        results["order_gas_sell_first_offer"] = round(statistics.mean(g[5:50]), 1)
        results["order_gas_buy_cold"] = round(statistics.mean(g[50:]), 1)
        # epoch 0: a keeper opens the book, then its first order (an asset offered in epoch 3
        # already, a trader with an account) pays an order's gas only
        results["open_book_gas"] = gas(env.admin.transact(env.exchange, "openBook", env.feed, 0))
        owner, asset = assets[0]
        r = owner.transact(
            env.exchange, "placeSell", env.feed, 0, asset, 500_000, PARAMS.base_price
        )
        results["order_gas_first_of_opened_book"] = gas(r)
        env.goto(env.view(env.exchange, "gateOf", env.feed, 3))
        for epoch, n in ((1, 10), (2, 100), (3, 1_000)):
            c = clear(book(env, epoch))
            r = env.admin.transact(env.exchange, "clear", env.feed, epoch, c.low, c.high)
            results[f"clear_gas_{n if n < 1_000 else 'max'}"] = gas(r)
        results["clear_max_orders"] = 1_000
        results["clear_gas_per_order"] = round(
            (results["clear_gas_max"] - results["clear_gas_100"]) / 900, 1
        )
        results["clear_gas_fixed"] = round(
            results["clear_gas_100"] - 100 * results["clear_gas_per_order"]
        )
        # ---- settlement: epochs 0 and 1, 10 sells (one meter each) and 10 buys, 100-leaf roots;
        # epoch 1 is the steady state (every participant already has a balance to credit)
        env2 = Env(node, epochs=4)
        green = renewable_market_id(env2.feed)
        env2.admin.transact(env2.exchange, "setRenewableMarketParams", env2.feed, PARAMS.as_tuple())
        sellers = []
        for i in range(10):
            owner = env2.traders[i]
            sellers.append((owner, env2.register(owner, f"settle-meter-{i}"), f"settle-meter-{i}"))
        for epoch in (0, 1, 2):
            sell_gas = [
                gas(
                    owner.transact(
                        env2.exchange,
                        "placeSell",
                        env2.feed,
                        epoch,
                        asset,
                        500_000,
                        PARAMS.base_price,
                    )
                )
                for owner, asset, _ in sellers
            ]
            price = PARAMS.base_price + 10**13
            buy_gas = [
                gas(t.transact(env2.exchange, "placeBuy", env2.feed, epoch, 500_000, price))
                for t in env2.traders
            ]
        # epoch 2: every asset offered in epochs 0 and 1 already (its offer bitmap word exists)
        results["order_gas_sell"] = round(statistics.mean(sell_gas[1:]), 1)
        results["order_gas_buy"] = round(statistics.mean(buy_gas), 1)
        results["order_gas"] = max(results["order_gas_sell"], results["order_gas_buy"])
        # epoch 3 in the feed's renewable market: the same book, certificates follow the energy
        for owner, asset, _ in sellers:
            owner.transact(env2.exchange, "placeSell", green, 3, asset, 500_000, PARAMS.base_price)
        for t in env2.traders:
            t.transact(env2.exchange, "placeBuy", green, 3, 500_000, PARAMS.base_price + 10**13)
        env2.goto(env2.view(env2.exchange, "gateOf", env2.feed, 2))
        for epoch, tag in ((0, "_single_first"), (1, "_single"), (2, "")):
            c = clear(book(env2, epoch))
            env2.admin.transact(env2.exchange, "clear", env2.feed, epoch, c.low, c.high)
            readings = {f"settle-meter-{i}": 400_000 + 20_000 * i for i in range(10)}
            readings.update({f"other-meter-{i}": 1_000 for i in range(90)})
            tree = build_tree(epoch, readings)
            env2.truth_and_root(epoch, tree)
            env2.goto(int(env2.w3.eth.get_block("latest")["timestamp"]) + 601)  # window passed
            deliveries = []
            for _, _, name in sellers:
                m = meter_id(name)
                deliveries.append(([m], [tree.reading(m).energy_wh], [tree.proof(m)]))
            if epoch == 2:  # the whole book in one settleBatch
                r = env2.admin.transact(
                    env2.exchange,
                    "settleBatch",
                    env2.feed,
                    epoch,
                    list(range(10)),
                    deliveries,
                    list(range(10, 20)),
                )
                results["settle_batch_gas_20_orders"] = gas(r)
                results["settle_gas_per_trade"] = round(gas(r) / 20, 1)
                continue
            settle = [
                gas(owner.transact(env2.exchange, "settleSell", env2.feed, epoch, i, deliveries[i]))
                for i, (owner, _, _) in enumerate(sellers)
            ]
            buys = [
                gas(env2.admin.transact(env2.exchange, "settleBuy", env2.feed, epoch, 10 + i))
                for i in range(10)
            ]
            results[f"settle_sell_gas{tag}"] = round(statistics.mean(settle), 1)
            results[f"settle_buy_gas{tag}"] = round(statistics.mean(buys), 1)
            results[f"settle_gas_per_order{tag}"] = round(statistics.mean(settle + buys), 1)
        c = clear(book(env2, 3, green))
        env2.admin.transact(env2.exchange, "clear", green, 3, c.low, c.high)
        readings = {f"settle-meter-{i}": 400_000 + 20_000 * i for i in range(10)}
        readings.update({f"other-meter-{i}": 1_000 for i in range(90)})
        tree = build_tree(3, readings)
        env2.truth_and_root(3, tree)
        env2.goto(int(env2.w3.eth.get_block("latest")["timestamp"]) + 601)
        settle = []
        for i, (owner, _, name) in enumerate(sellers):
            m = meter_id(name)
            d = ([m], [tree.reading(m).energy_wh], [tree.proof(m)])
            settle.append(gas(owner.transact(env2.exchange, "settleSell", green, 3, i, d)))
        buys = [
            gas(env2.admin.transact(env2.exchange, "settleBuy", green, 3, 10 + i))
            for i in range(10)
        ]
        results["settle_sell_gas_renewable"] = round(statistics.mean(settle), 1)
        results["settle_buy_gas_renewable"] = round(statistics.mean(buys), 1)
        results["withdraw_gas"] = gas(env2.traders[0].transact(env2.exchange, "withdraw"))
    # ---- off-chain clearing of 10,000 orders
    orders = [
        Order(rng.random() < 0.5, rng.randint(1, 10**6), rng.randint(5 * 10**13, 15 * 10**13))
        for _ in range(10_000)
    ]
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        clear(orders)
        times.append((time.perf_counter() - t0) * 1_000)
    results["clear_compute_ms_10000"] = round(statistics.median(times), 2)
    return results


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__).parse_args()
    results = run()
    publish(results, "Gridcast energy exchange (anvil)", "value", ",", OUT)


if __name__ == "__main__":
    main()
