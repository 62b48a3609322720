"""The exchange's agents against anvil, the real contracts, Postgres and a real forecaster: two
solar asset owners sell their forecast generation, a load bids, the book is cleared off-chain and
verified on-chain, the truth oracle posts the delivery root from the landed meter energy, the
sellers prove delivery (one falls short and pays the imbalance penalty), certificates are
claimed over two epochs in one transaction and some are retired. Orders are never placed twice
across a crash."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gridcast.chain.feeds import FeedView
from gridcast.chain.keys import dev_account
from gridcast.chain.merkle import meter_id
from gridcast.chain.submitter import Submitter
from gridcast.exchange.agents import Exchange, Forecaster, database_leaves, list_feed
from gridcast.exchange.deploy import MarketParams
from gridcast.exchange.journal import PLACED, ExchangeJournal
from gridcast.exchange.wiring import deploy_with_second_wave
from gridcast.localnet import SOLAR, LocalMarket, bootstrap
from gridcast.node import AnvilNode
from gridcast.operator.bot import OperatorBot
from gridcast.operator.journal import Journal
from gridcast.operator.keeper import Keeper
from gridcast.services import libpq_url
from ml.forecaster import SeasonalNaiveForecaster
from ml.oracle_source import ForecasterSource
from streaming.truth_oracle import TruthOracle

EPOCH = 60
ROUND = 4
PRICE = 10**14  # token base units per Wh (0.1 GRID per kWh)
PENALTY = 5 * 10**13
# A daytime data hour: the sellers have something to sell.
DAY_SOLAR = replace(SOLAR, data_start="2013-12-01T09:00:00")
METERS = [f"solar-{i:03d}" for i in range(10)]
SELLER_KEYS, BUYER_KEY = (8, 9), 3


def warp(node: AnvilNode, t: int) -> None:
    latest = int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
    node.rpc("evm_setNextBlockTimestamp", [max(t, latest + 1)])
    node.rpc("evm_mine")


@pytest.fixture()
def world(anvil: AnvilNode, tmp_path: Path, fresh_database):  # type: ignore[no-untyped-def]
    """Solar feed, second wave deployed, the feed listed, two solar assets, funded traders, a
    final consensus for epochs 0..3 from a real (seasonal naive) operator."""
    from indexer.db.engine import upgrade

    db = fresh_database()
    upgrade(db)
    now = int(anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
    lm = bootstrap(
        anvil.url, tmp_path, operator_keys=[1], genesis=now + 600, epoch_length=EPOCH,
        epochs_per_round=ROUND, feeds=(DAY_SOLAR,), reveal_window=120, lead_time=300,
        dispute_window=30, truth_timeout=3600,
    )  # fmt: skip
    dep = deploy_with_second_wave(lm.admin, lm.deployment, truth_reporters=[lm.admin.address])
    dep.save(tmp_path / "deployment.json")
    lm = replace(lm, deployment=dep)
    feed_id = lm.market.feeds[0].feed_bytes
    params = MarketParams(PRICE, 0, 0, 5_000, 240, 60, PENALTY)
    list_feed(lm.admin, dep, feed_id, params)
    admin_ex = Exchange(lm.admin, dep, lm.market)
    token = dep.contract(lm.admin.w3, "GridToken")
    # capacity x epoch length = the data hour's energy: 3 kW nameplate at 3600/EPOCH speed-up
    capacity = 3_000 * 3600 // EPOCH
    assets = []
    for n, key in enumerate(SELLER_KEYS):
        owner = dev_account(key, 31337).address
        meters = METERS[5 * n : 5 * n + 5]
        assets.append(
            admin_ex.register_asset(owner, "solar", capacity, "solar", f"roof {n}", meters)
        )
    for key in (*SELLER_KEYS, BUYER_KEY):
        # transfer, not mint: back-to-back mints under-estimate gas (ERC20Votes checkpoints)
        lm.admin.transact(token, "transfer", dev_account(key, 31337).address, 100 * 10**18)
    op = lm.operators[0]
    source = ForecasterSource(SeasonalNaiveForecaster(), lm.market)
    bot = OperatorBot(op, dep, [feed_id], source, Journal(tmp_path / "op.sqlite"))
    assert bot.step().committed
    view = FeedView.read(dep.contract(lm.admin.w3, "ForecastRegistry"), feed_id)
    warp(anvil, view.commit_deadline(0))
    assert bot.step().revealed
    warp(anvil, view.reveal_deadline(0))
    keeper = Keeper(lm.admin, dep, [feed_id])
    assert len(keeper.step().finalized) == ROUND
    return lm, view, db, assets


def trader(lm: LocalMarket, key: int) -> Exchange:
    return Exchange(Submitter(lm.admin.w3, dev_account(key, 31337)), lm.deployment, lm.market)


def land(db: str, lm: LocalMarket, epoch: int, energy: dict[str, int]) -> None:
    """What the streaming job lands for a closed epoch: the actual and every meter's energy."""
    start = lm.market.feeds[0].data_time(epoch).replace(tzinfo=UTC)
    total = sum(energy.values())
    with psycopg.connect(libpq_url(db)) as conn:
        conn.execute(
            "INSERT INTO epoch_actuals (feed, epoch_start, epoch_end, value, meter_count,"
            " reading_count, coverage, quality_flags, evidence, evidence_hash, closed_at)"
            " VALUES ('solar', %s, %s + interval '1 hour', %s, 10, 120, 1.0, '{}', %s, %s, now())",
            (start, start, float(total), json.dumps({"w": total}), "0x" + "cd" * 32),
        )
        for meter, wh in energy.items():
            conn.execute(
                "INSERT INTO epoch_meter_energy (feed, epoch_start, meter, readings, mean_w,"
                " energy_wh) VALUES ('solar', %s, %s, 12, %s, %s)",
                (start, meter, float(wh), wh),
            )


def settled_events(ex: Exchange, epoch: int) -> dict[tuple[bool, int], Any]:
    logs = ex.exchange.events.OrderSettled().get_logs(from_block=ex.dep.block)
    return {(bool(e.args.isSell), int(e.args.index)): e.args for e in logs if e.args.epoch == epoch}


def test_sell_buy_clear_prove_settle_claim_retire(
    anvil: AnvilNode,
    world,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    lm, view, db, assets = world
    feed_id = view.feed_id
    forecaster = Forecaster("seasonal-naive", lm.market)
    sellers = [trader(lm, k) for k in SELLER_KEYS]
    buyer = trader(lm, BUYER_KEY)
    journals = [ExchangeJournal(tmp_path / f"j{k}.sqlite") for k in (*SELLER_KEYS, BUYER_KEY)]
    offered: dict[tuple[int, int], int] = {}
    for epoch in (0, 1):
        assert sellers[0].tradable(feed_id, epoch)
        for n, (ex, asset_id) in enumerate(zip(sellers, assets, strict=True)):
            asset = ex.asset(asset_id)
            volume = min(forecaster.energy_wh(view, epoch, 0.5, 1.0), ex.max_sell_wh(asset))
            assert volume > 0, "a daytime hour of solar forecast as nothing"
            limit = ex.limit_from_band(feed_id, epoch, 0.1 * n)
            index, sent = ex.place(
                journals[n], feed_id, epoch, side="sell", volume_wh=volume, limit_price=limit,
                asset_id=asset_id,
            )  # fmt: skip
            assert sent and index is not None
            offered[(epoch, index)] = volume
        demand = sum(v for (e, _), v in offered.items() if e == epoch) * 3 // 4
        limit = buyer.limit_from_band(feed_id, epoch, 0.9)
        assert buyer.place(
            journals[2], feed_id, epoch, side="buy", volume_wh=demand, limit_price=limit
        )[1]
    book = sellers[0].orders(feed_id, 0)
    assert len(book) == 3
    # Placed again (a restart re-running the same plan): found in the journal, not re-sent.
    again = sellers[0].place(
        journals[0], feed_id, 0, side="sell", volume_wh=book[0].volume_wh,
        limit_price=book[0].limit_price, asset_id=assets[0],
    )  # fmt: skip
    assert again == (0, False)
    # A crash after sending and before the journal marked it: a new journal (the old one lost its
    # mark) finds the order in the book instead of sending a second one.
    fresh = ExchangeJournal(tmp_path / "lost.sqlite")
    assert buyer.place(
        fresh, feed_id, 0, side="buy", volume_wh=book[2].volume_wh, limit_price=book[2].limit_price
    ) == (2, False)
    assert fresh.orders(PLACED)[0].index == 2
    assert len(sellers[0].orders(feed_id, 0)) == 3

    # The gate closes; anyone clears off-chain and the contract verifies it.
    warp(anvil, sellers[0].gate(feed_id, 1))
    clearer = trader(lm, 4)
    for epoch in (0, 1):
        c = clearer.clear(feed_id, epoch)
        assert c is not None and c.volume > 0
        b = clearer.book(feed_id, epoch)
        assert b.cleared and (b.price, b.volume) == (c.price, c.volume)
        assert clearer.clear(feed_id, epoch) == c  # cleared once; a second call is a no-op

    # Delivery: epoch 0 as sold, epoch 1 short for the first seller (its meters produce little).
    energy0 = dict.fromkeys(METERS, 400)
    energy1 = {m: (5 if m in METERS[:5] else 400) for m in METERS}
    land(db, lm, 0, energy0)
    land(db, lm, 1, energy1)
    warp(anvil, view.epoch_end(1))
    oracle = TruthOracle(lm.admin, lm.deployment, lm.market, db)
    assert [(r[0], r[1]) for r in oracle.step().roots] == [("solar", 0), ("solar", 1)]
    leaves = database_leaves(db)
    assert clearer.settle(feed_id, 0, leaves).waiting == "delivery root pending"
    warp(anvil, view.epoch_end(1) + 31)  # past the dispute window: the roots are final
    for epoch in (0, 1):
        report = clearer.settle(feed_id, epoch, leaves)
        assert sorted(report.sells) == [0, 1] and report.buys == [2]
        assert clearer.orders(feed_id, epoch)[0].settled
        assert clearer.settle(feed_id, epoch, leaves).sells == []  # nothing twice
    c1 = clearer.clearing(feed_id, 1)
    ev = settled_events(clearer, 1)
    short = ev[(True, 0)]
    assert short.deliveredWh == 25  # 5 meters x 5 Wh, proven against the root
    filled = c1.fill(_order(clearer, feed_id, 1, 0))
    assert short.amount == c1.price * 25  # paid for what was delivered
    assert short.adjustment == PENALTY * (filled - 25) // 1  # the shortfall's penalty
    assert ev[(False, 2)].adjustment == short.adjustment + ev[(True, 1)].adjustment
    ev0 = settled_events(clearer, 0)
    assert ev0[(True, 1)].deliveredWh == 2_000 and ev0[(True, 1)].adjustment == 0
    for ex in (*sellers, buyer):
        assert ex.withdraw() > 0
        assert ex.exchange.functions.balanceOf(ex.address).call() == 0

    # Certificates: both epochs of asset 1 in one claim, minted to its owner; retire some.
    claimed = clearer.claim_certificates(assets[1], [0, 1], leaves)
    assert claimed == [(0, 2_000), (1, 2_000)]
    assert clearer.claim_certificates(assets[1], [0, 1], leaves) == []  # never twice
    owner = sellers[1]
    held = owner.holdings(owner.address)
    assert sum(held.values()) == 4_000
    cert_id = next(iter(held))
    rid = owner.retire(cert_id, 1_500, "Gridcast Primary School", "2026 scope 2")
    retired = owner.certificates.events.CertificatesRetired().get_logs(
        from_block=lm.deployment.block
    )
    assert [(r.args.retirementId, r.args.beneficiary, r.args.energyWh) for r in retired] == [
        (rid, "Gridcast Primary School", 1_500)
    ]
    assert owner.holdings(owner.address)[cert_id] == held[cert_id] - 1_500
    tx = Exchange(lm.admin, lm.deployment, lm.market)
    assert tx.asset(assets[1]).meter_ids == tuple(meter_id(m) for m in METERS[5:])


def _order(ex: Exchange, feed_id: bytes, epoch: int, index: int):  # type: ignore[no-untyped-def]
    from gridcast.chain.clearing import Order

    o = ex.orders(feed_id, epoch)[index]
    return Order(o.is_sell, o.volume_wh, o.limit_price)


def test_the_commands_sell_buy_clear_settle_claim_retire_once_each(
    anvil: AnvilNode,
    world,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """The same market through `gridcast exchange|assets|certificates`: a second `sell` (a
    restart) places nothing; bad input is one line and exit 2."""
    from typer.testing import CliRunner

    from gridcast.cli import app
    from gridcast.settings import get_settings

    lm, view, db, assets = world
    for k, v in {
        "GRIDCAST_RPC_URL": anvil.url,
        "GRIDCAST_DEPLOYMENT_FILE": str(tmp_path / "deployment.json"),
        "GRIDCAST_STATE_DIR": str(tmp_path / "state"),
        "DATABASE_URL": db,
    }.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> list[dict[str, Any]]:
        r = runner.invoke(app, list(args))
        assert r.exit_code == code, (args, r.output)
        if code:
            assert "Traceback" not in r.output and r.output.strip().startswith("error: ")
            assert len(r.output.strip().splitlines()) == 1, r.output
            return []
        return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]

    listed = run("assets", "list")
    assert [a["asset_id"] for a in listed] == assets and listed[0]["kind"] == "solar"
    seller, buyer, clearer = (str(k) for k in (*SELLER_KEYS[:1], BUYER_KEY, 4))
    placed = run(
        "exchange", "sell", "--asset", str(assets[0]), "--share", "0.5", "--dev-key", seller
    )
    assert [p["epoch"] for p in placed] == list(range(ROUND))
    assert (
        run("exchange", "sell", "--asset", str(assets[0]), "--share", "0.5", "--dev-key", seller)
        == []
    )
    bids = run("exchange", "buy", "--feed", "solar", "--volume-wh", "500", "--dev-key", buyer)
    assert [b["epoch"] for b in bids] == list(range(ROUND))
    ex = trader(lm, 4)
    assert [len(ex.orders(view.feed_id, e)) for e in range(ROUND)] == [2] * ROUND
    # bad input: one line, exit 2
    run("exchange", "sell", "--asset", "99", "--dev-key", seller, code=2)
    run("exchange", "sell", "--asset", str(assets[1]), "--dev-key", seller, code=2)  # not yours
    run("exchange", "buy", "--feed", "solar", "--dev-key", buyer, code=2)  # no volume, no model
    run("exchange", "buy", "--feed", "wind", "--volume-wh", "5", "--dev-key", buyer, code=2)
    run("assets", "register", "--owner", "0xnope", "--kind", "solar", "--capacity-w", "5",
        "--feed", "solar", "--meter", "x", "--dev-key", "0", code=2)  # fmt: skip

    warp(anvil, ex.gate(view.feed_id, ROUND - 1))
    cleared = run("exchange", "clear", "--feed", "solar", "--dev-key", clearer)
    assert [c["epoch"] for c in cleared] == list(range(ROUND))
    for c in cleared:
        b = ex.book(view.feed_id, c["epoch"])
        assert b.cleared and (b.price, b.volume) == (c["price"], c["volume"]) and b.volume > 0
    for e in range(ROUND):
        land(db, lm, e, dict.fromkeys(METERS, 300))
    warp(anvil, view.epoch_end(ROUND - 1))
    assert len(TruthOracle(lm.admin, lm.deployment, lm.market, db).step().roots) == ROUND
    warp(anvil, view.epoch_end(ROUND - 1) + 31)
    settled = run("exchange", "settle", "--feed", "solar", "--dev-key", clearer)
    assert [(s["sells"], s["buys"]) for s in settled[:-1]] == [([0], [1])] * ROUND
    assert all(o.settled for e in range(ROUND) for o in ex.orders(view.feed_id, e))
    claimed = run("certificates", "claim", "--asset", str(assets[0]), "--dev-key", clearer)
    assert [(c["epoch"], c["energy_wh"]) for c in claimed] == [(e, 1_500) for e in range(ROUND)]
    held = run("certificates", "list", "--owner", dev_account(SELLER_KEYS[0], 31337).address)
    assert sum(h["energy_wh"] for h in held) == 4 * 1_500
    cert = held[0]["id"]
    run("certificates", "retire", "--id", cert, "--amount", "10_000_000", "--beneficiary", "x",
        "--purpose", "y", "--dev-key", seller, code=2)  # fmt: skip
    retired = run(
        "certificates", "retire", "--id", cert, "--amount", "1000", "--beneficiary",
        "City of Melbourne", "--purpose", "2026 scope 2", "--dev-key", seller,
    )  # fmt: skip
    assert retired[0]["energy_wh"] == 1_000
    after = run("certificates", "list", "--owner", dev_account(SELLER_KEYS[0], 31337).address)
    assert sum(h.get("energy_wh", 0) for h in after if "retirement_id" not in h) == 5_000
    assert [h["beneficiary"] for h in after if "retirement_id" in h] == ["City of Melbourne"]
    get_settings.cache_clear()


def test_renewable_market_certificates_follow_the_energy_to_the_buyer(
    anvil: AnvilNode,
    world,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """A renewable-only book (abi-changes §1): the agents trade it by its market id, settlement
    finds the feed's delivery root, and the certificates of the delivered energy go to the buyer,
    so the seller's own claim of that epoch finds nothing left to claim."""
    lm, view, db, assets = world
    admin = Exchange(lm.admin, lm.deployment, lm.market)
    params = MarketParams(PRICE, 0, 0, 5_000, 240, 60, PENALTY)
    lm.admin.transact(admin.exchange, "setRenewableMarketParams", view.feed_id, params.as_tuple())
    market = admin.market_id("solar", renewable=True)
    assert market != view.feed_id and admin.feed_of(market) == view.feed_id
    seller, buyer = trader(lm, SELLER_KEYS[0]), trader(lm, BUYER_KEY)
    js, jb = (ExchangeJournal(tmp_path / f"{n}.sqlite") for n in ("s", "b"))
    assert seller.tradable(market, 0)
    seller.place(js, market, 0, side="sell", volume_wh=1_000, limit_price=PRICE, asset_id=assets[0])
    buyer.place(jb, market, 0, side="buy", volume_wh=800, limit_price=PRICE * 3 // 2)
    warp(anvil, seller.gate(market, 0))
    c = admin.clear(market, 0)
    assert c is not None and c.volume == 800
    land(db, lm, 0, dict.fromkeys(METERS, 300))  # asset 0's five meters: 1,500 Wh
    warp(anvil, view.epoch_end(0))
    assert TruthOracle(lm.admin, lm.deployment, lm.market, db).step().roots
    warp(anvil, view.epoch_end(0) + 31)
    report = admin.settle(market, 0, database_leaves(db))
    assert (report.sells, report.buys) == ([0], [1])
    delivered = admin.exchange.events.CertificatesDelivered().get_logs(
        from_block=lm.deployment.block
    )
    assert [(e.args.buyer, sum(e.args.amounts)) for e in delivered] == [(buyer.address, 800)]
    assert sum(buyer.holdings(buyer.address).values()) == 800
    # the rest of the delivery (1,500 - 800 Wh) was certified to the owner at settlement
    assert sum(seller.holdings(seller.address).values()) == 700
    assert admin.claim_certificates(assets[0], [0], database_leaves(db)) == []
