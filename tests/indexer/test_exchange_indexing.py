"""The second wave indexed from a real chain: assets, a delivery root, a traded epoch (orders, a
cancel, the clearing, proven settlement with an imbalance, withdrawals) and certificates
(claims, a transfer, retirements) land in Postgres equal to what the contracts report; a reorg
rolls a retirement and its carbon wallet back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from gridcast.node import AnvilNode
from indexer.db.engine import upgrade
from indexer.runner import Indexer, IndexerConfig, indexed_addresses, pg_url
from tests.indexer import second_wave as sw
from tests.indexer.scenario import play_round


def _rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(pg_url(url)) as conn:
        return conn.execute(sql, params).fetchall()


def _index(g: sw.Green, url: str) -> None:
    ix = Indexer(
        IndexerConfig(
            rpc_url=g.node.url, database_url=url, deployment=g.lm.deployment, finality_depth=64
        )
    )
    try:
        ix.run(follow=False)
    finally:
        ix.close()


@pytest.fixture(scope="module")
def green(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sw.Green]:
    with AnvilNode() as node:
        g = sw.build(node, tmp_path_factory.mktemp("green"))
        sw.trade(g, sw.consensus(g, play_round))
        sw.certify(g)
        sw.settle_renewable(g)
        yield g


def test_second_wave_addresses_are_followed(green: sw.Green) -> None:
    names = set(indexed_addresses(green.lm.deployment).values())
    assert {"MeteredDelivery", "AssetRegistry", "EnergyExchange", "EnergyCertificates"} <= names


def test_exchange_and_certificates_match_the_chain(green: sw.Green, fresh_database: Any) -> None:
    g = green
    url = fresh_database("ix_exchange")
    upgrade(url)
    _index(g, url)
    assert _rows(url, "SELECT count(*) FROM indexing_errors") == [(0,)]
    ex, certs = g.c("EnergyExchange"), g.c("EnergyCertificates")
    assets = g.c("AssetRegistry")
    # assets: owner, kind, capacity, meters as the registry has them
    got_assets = {
        int(r[0]): (r[1], r[2], int(r[3]), sorted(r[4]), r[5])
        for r in _rows(
            url,
            "SELECT id, owner, kind, capacity_w, meter_ids, renewable FROM assets "
            "WHERE block_to IS NULL",
        )  # fmt: skip
    }
    assert set(got_assets) == {1, 2, 3}
    assert got_assets[3][0] == g.buyers[1].address.lower()  # transferred after registration
    for asset, (owner, kind, cap, meters, renewable) in got_assets.items():
        chain = assets.functions.assetOf(asset).call()
        assert owner == assets.functions.ownerOf(asset).call().lower()
        assert ["solar", "wind", "storage", "load"][chain[0]] == kind
        assert cap == chain[1] == (sw.LOAD_CAPACITY_W if asset == 3 else sw.CAPACITY_W)
        assert meters == sorted("0x" + m.hex() for m in chain[4])
        assert renewable == (kind in ("solar", "wind"))
    # the delivery root
    [(root, count, total, final_after)] = _rows(
        url, "SELECT root, leaf_count, total_wh, final_after FROM delivery_roots "
        "WHERE block_to IS NULL AND id = %s", f"{g.feed}-{g.epoch}",
    )  # fmt: skip
    on_chain = g.c("MeteredDelivery").functions.rootOf(g.fid, g.epoch).call()
    assert root == "0x" + on_chain[0].hex() == "0x" + g.tree.root.hex()  # type: ignore[union-attr]
    assert (count, int(total), final_after) == (on_chain[1], on_chain[5], on_chain[4])
    # orders: every field the contract keeps
    chain_orders = ex.functions.ordersOf(g.fid, g.epoch).call()
    rows = _rows(
        url, "SELECT index, trader, asset_id, volume_wh, limit_price, side, status "
        "FROM exchange_orders WHERE block_to IS NULL AND market_id = %s ORDER BY index", g.feed,
    )  # fmt: skip
    assert len(rows) == len(chain_orders) == 6
    for i, ((index, trader, asset, vol, limit, side, status), o) in enumerate(
        zip(rows, chain_orders, strict=True)
    ):
        assert index == i
        assert (trader, asset, int(vol), int(limit)) == (o[0].lower(), o[1], o[3], o[4])
        assert side == ("sell" if o[5] else "buy")
        assert status == ("cancelled" if o[6] else "settled" if o[2] else "open")
        assert status != "open"
    # the book and its clearing
    book = ex.functions.bookOf(g.fid, g.epoch).call()
    [(status, price, volume, low, high, paid, penalties, cancelled)] = _rows(
        url, "SELECT status, price, volume_wh, band_low, band_high, paid, penalties, cancelled "
        "FROM exchange_books WHERE block_to IS NULL AND id = %s", f"{g.feed}-{g.epoch}",
    )  # fmt: skip
    assert status == "cleared" and cancelled == 1
    assert (int(low), int(high)) == (book[0], book[1])
    assert (int(price), int(volume)) == (g.clearing.price, g.clearing.volume) == (book[8], book[9])  # type: ignore[union-attr]
    [(c_price, c_low, c_high)] = _rows(
        url, "SELECT price, low, high FROM exchange_clearings WHERE market_id = %s", g.feed
    )
    assert (int(c_price), int(c_low), int(c_high)) == (
        g.clearing.price, g.clearing.low, g.clearing.high,  # type: ignore[union-attr]
    )  # fmt: skip
    # settlement: wind delivered 400 of its fill, an imbalance paid from its collateral
    deliveries = {
        int(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4]))
        for r in _rows(
            url,
            "SELECT asset_id, sold_wh, delivered_wh, shortfall_wh, penalty "
            "FROM exchange_deliveries WHERE market_id = %s",
            g.feed,
        )  # fmt: skip
    }
    assert deliveries[1][1] == 1_300 and deliveries[1][2] == 0
    assert deliveries[2][1] == 400 and deliveries[2][2] == deliveries[2][0] - 400 > 0
    assert deliveries[2][3] == deliveries[2][2] * sw.PARAMS.penalty_per_wh
    imbalances = _rows(
        url, "SELECT asset_id, shortfall_wh, penalty FROM exchange_imbalances WHERE market_id = %s",
        g.feed,
    )  # fmt: skip
    assert [(a, int(s), int(p)) for a, s, p in imbalances] == [(2, *deliveries[2][2:])]
    assert (int(paid), int(penalties)) == (
        sum(d[0] - d[2] for d in deliveries.values()) * g.clearing.price,  # type: ignore[union-attr]
        deliveries[2][3],
    )
    trades = _rows(
        url, "SELECT count(*), bool_or(voided) FROM exchange_trades WHERE market_id = %s", g.feed
    )
    assert trades == [(5, False)]
    # accounts: everything withdrawn, totals as the events say
    for who in g.sellers + g.buyers:
        [(balance, credited, withdrawn)] = _rows(
            url, "SELECT balance, credited, withdrawn FROM exchange_accounts "
            "WHERE id = %s AND block_to IS NULL", who.address.lower(),
        )  # fmt: skip
        assert int(balance) == ex.functions.balanceOf(who.address).call() == 0
        assert int(credited) == int(withdrawn) > 0
    # certificates: minted, retired, supply and balances per owner as the contract has them
    pairs = ((1, g.epoch), (2, g.epoch), (1, g.green_epoch))
    tokens = {sw.certificate_id(g, a, e) for a, e in pairs}
    holders = [who.address for who in g.sellers + g.buyers] + [ex.address]
    for token in tokens:
        [(minted, retired, supply)] = _rows(
            url, "SELECT minted, retired, supply FROM certificates WHERE id = %s "
            "AND block_to IS NULL", str(token),
        )  # fmt: skip
        assert int(minted) == certs.functions.minted(token).call() > 0
        assert int(retired) == certs.functions.retired(token).call()
        assert int(supply) == certs.functions.totalSupply(token).call()
        for who in holders:
            held = certs.functions.balanceOf(who, token).call()
            got = _rows(
                url, "SELECT balance FROM certificate_balances WHERE id = %s AND block_to IS NULL",
                f"{token}-{who.lower()}",
            )  # fmt: skip
            assert (int(got[0][0]) if got else 0) == held
    epochs = _rows(url, "SELECT asset_id, epoch, energy_wh, certificate_id FROM certified_epochs")
    assert sorted((a, e, int(w)) for a, e, w, _ in epochs) == [
        (1, g.epoch, 1_300), (1, g.green_epoch, 1_300), (2, g.epoch, 400),
    ]  # fmt: skip
    assert all(c == str(sw.certificate_id(g, a, e)) for a, e, _, c in epochs)
    _assert_retirements(g, url)
    _assert_renewable(g, url)


def _assert_renewable(g: sw.Green, url: str) -> None:
    """The renewable book: its market maps to the feed, and the certificates of the traded
    delivered energy went to the buyer (CertificatesEscrowed, CertificatesDelivered)."""
    market, epoch, c = "0x" + g.green_market.hex(), g.green_epoch, g.green_clearing
    assert c is not None
    markets = _rows(
        url,
        "SELECT id, feed_id, renewable_only FROM exchange_markets WHERE block_to IS NULL "
        "ORDER BY 3",
    )
    assert markets == [(g.feed, g.feed, False), (market, g.feed, True)]
    [(feed, renewable, status, price, volume)] = _rows(
        url, "SELECT feed_id, renewable_only, status, price, volume_wh FROM exchange_books "
        "WHERE block_to IS NULL AND market_id = %s AND epoch = %s", market, epoch,
    )  # fmt: skip
    assert (feed, renewable, status) == (g.feed, True, "cleared")
    assert (int(price), int(volume)) == (c.price, c.volume) and c.volume == 600
    orders = _rows(
        url, "SELECT side, trader, renewable_only, certificates_wh, filled_wh FROM exchange_orders"
        " WHERE block_to IS NULL AND market_id = %s ORDER BY index", market,
    )  # fmt: skip
    certs = g.c("EnergyCertificates")
    buyer = g.buyers[1]
    token = sw.certificate_id(g, 1, epoch)
    assert [(o[0], o[2], int(o[3]), int(o[4])) for o in orders] == [
        ("sell", True, 600, 600), ("buy", True, 600, 600),
    ]  # fmt: skip
    assert orders[1][1] == buyer.address.lower()
    [(held,)] = _rows(
        url, "SELECT balance FROM certificate_balances WHERE id = %s AND block_to IS NULL",
        f"{token}-{buyer.address.lower()}",
    )  # fmt: skip
    assert int(held) == certs.functions.balanceOf(buyer.address, token).call() == 600


def _assert_retirements(g: sw.Green, url: str) -> None:
    certs = g.c("EnergyCertificates")
    n = certs.functions.retirementCount().call()
    rows = _rows(
        url, "SELECT id, account, energy_wh, co2e_grams, beneficiary FROM retirements "
        "WHERE block_to IS NULL ORDER BY id::numeric",
    )  # fmt: skip
    assert len(rows) == n
    for (rid, account, energy, co2e, got), (who, _, amount, beneficiary) in zip(
        rows, g.retirements, strict=True
    ):
        assert got == beneficiary
        r = certs.functions.retirementOf(int(rid)).call()
        assert (account, int(energy), int(co2e)) == (r[0].lower(), r[3], r[4])
        assert account == who.address.lower() and int(energy) == amount
    wallets = {
        r[0]: (int(r[1]), int(r[2]))
        for r in _rows(
            url, "SELECT id, retired_wh, co2e_grams FROM carbon_wallets WHERE block_to IS NULL"
        )
    }
    for who in g.sellers + g.buyers:
        chain = tuple(certs.functions.walletOf(who.address).call())
        assert wallets.get(who.address.lower(), (0, 0)) == chain


def test_a_reorg_rolls_a_retirement_back(green: sw.Green, fresh_database: Any) -> None:
    g = green
    url = fresh_database("ix_exchange_reorg")
    upgrade(url)
    snap = g.node.rpc("evm_snapshot")
    kept = list(g.retirements)
    try:
        s1 = g.sellers[1]
        sw.retire(g, s1, sw.certificate_id(g, 2), 250, "Gamma Ltd")  # the old branch
        g.node.rpc("anvil_mine", [hex(3)])
        _index(g, url)
        assert _rows(url, "SELECT count(*) FROM retirements WHERE beneficiary = 'Gamma Ltd'") == [
            (1,)
        ]
        sw.revert(g, snap)
        g.retirements = list(kept)
        # the new branch: a different retirement under the same id, and a longer chain
        sw.retire(g, g.sellers[0], sw.certificate_id(g, 1), 50, "Delta")
        g.node.rpc("anvil_mine", [hex(6)])
        _index(g, url)
        assert _rows(url, "SELECT count(*) FROM retirements WHERE beneficiary = 'Gamma Ltd'") == [
            (0,)
        ]
        _assert_retirements(g, url)
    finally:
        g.retirements = kept


def test_second_wave_migrations_match_the_models_and_downgrade(fresh_database: Any) -> None:
    """0400_exchange and 0500_certificates create exactly the models' tables (no drift between a
    migrated database and indexer/models), and downgrade to 0301 removes them."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, inspect

    from gridcast.db.engine import downgrade
    from indexer.db.base import Base
    from indexer.models.certificates import CERTIFICATE_MODELS
    from indexer.models.exchange import EXCHANGE_MODELS

    names = {m.__tablename__ for m in EXCHANGE_MODELS + CERTIFICATE_MODELS}  # type: ignore[attr-defined]
    url = fresh_database("ix_exchange_migrations")
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert names <= set(inspect(conn).get_table_names())
            drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in drift if any(n in str(d) for n in names)] == []
        downgrade(url, "0301_protocol_governance")
        with engine.connect() as conn:
            assert names.isdisjoint(inspect(conn).get_table_names())
        upgrade(url)
        with engine.connect() as conn:
            assert names <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
