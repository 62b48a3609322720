"""The truth oracle: closed epochs in `epoch_actuals` become on-chain truths exactly once; thin
coverage raises an alert instead; a foreign truth that disagrees with the pipeline is disputed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from gridcast.chain.deployment import role
from gridcast.chain.keys import dev_account
from gridcast.chain.submitter import Submitter
from gridcast.localnet import DEMAND, LocalMarket, bootstrap
from gridcast.node import AnvilNode
from gridcast.operator.feeds import FeedView
from gridcast.services import libpq_url
from streaming.truth_oracle import TruthOracle

EPOCH = 60


@pytest.fixture()
def world(anvil: AnvilNode, tmp_path: Path, fresh_database):  # type: ignore[no-untyped-def]
    from indexer.db.engine import upgrade

    db = fresh_database()
    upgrade(db)
    now = int(anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
    lm = bootstrap(
        anvil.url, tmp_path, operator_keys=[1], genesis=now + 600, epoch_length=EPOCH,
        epochs_per_round=4, feeds=(DEMAND,), dispute_window=120, truth_timeout=3600,
    )  # fmt: skip
    feed = FeedView.read(lm.contract("ForecastRegistry"), lm.market.feeds[0].feed_bytes)
    return lm, feed, db


def _actual(db: str, lm: LocalMarket, epoch: int, value: float, coverage: float = 1.0) -> None:
    start = datetime.fromisoformat(lm.market.feeds[0].data_start).replace(tzinfo=UTC)
    start += timedelta(hours=epoch)
    evidence = {"readings": 40, "value": value}
    with psycopg.connect(libpq_url(db)) as conn:
        conn.execute(
            "INSERT INTO epoch_actuals (feed, epoch_start, epoch_end, value, meter_count,"
            " reading_count, coverage, quality_flags, evidence, evidence_hash, closed_at)"
            " VALUES ('demand', %s, %s, %s, 10, 20, %s, '{}', %s, %s, now())",
            (
                start,
                start + timedelta(hours=1),
                value,
                coverage,
                json.dumps(evidence),
                "0x" + "ab" * 32,
            ),
        )


def _warp(node: AnvilNode, t: int) -> None:
    node.rpc("evm_setNextBlockTimestamp", [t])
    node.rpc("evm_mine")


def _truth(lm: LocalMarket, feed: FeedView, epoch: int) -> tuple[int, int]:
    t = lm.contract("Settlement").functions.truthOf(feed.feed_id, epoch).call()
    return int(t[0]), int(t[2])


def test_truth_is_submitted_once_even_across_a_restart(anvil: AnvilNode, world) -> None:  # type: ignore[no-untyped-def]
    lm, feed, db = world
    _actual(db, lm, 0, 5.1234)
    oracle = TruthOracle(lm.admin, lm.deployment, lm.market, db)
    assert oracle.step().submitted == []  # the epoch has not ended on-chain yet
    _warp(anvil, feed.epoch_end(0))
    report = oracle.step()
    assert report.submitted == [("demand", 0, feed.scale(5.1234))]
    assert _truth(lm, feed, 0) == (feed.scale(5.1234), 1)
    assert oracle.step().submitted == []
    # A crash between the transaction and the bookkeeping: the row looks unsubmitted again.
    with psycopg.connect(libpq_url(db)) as conn:
        conn.execute("UPDATE epoch_actuals SET submitted_at = NULL")
    restarted = TruthOracle(lm.admin, lm.deployment, lm.market, db)
    assert restarted.step().submitted == []
    with psycopg.connect(libpq_url(db)) as conn:
        assert conn.execute(
            "SELECT count(*) FROM epoch_actuals WHERE submitted_at IS NULL"
        ).fetchone() == (0,)


def test_thin_coverage_alerts_instead_of_submitting(anvil: AnvilNode, world) -> None:  # type: ignore[no-untyped-def]
    lm, feed, db = world
    _actual(db, lm, 1, 5.0, coverage=0.3)
    _warp(anvil, feed.epoch_end(1))
    oracle = TruthOracle(lm.admin, lm.deployment, lm.market, db, min_coverage=0.8)
    report = oracle.step()
    assert report.submitted == [] and report.skipped[0][:2] == ("demand", 1)
    assert _truth(lm, feed, 1)[1] == 0
    with psycopg.connect(libpq_url(db)) as conn:
        rules = [r[0] for r in conn.execute("SELECT rule FROM stream_alerts WHERE feed = 'demand'")]
    assert rules == ["insufficient_coverage"]


def test_a_foreign_truth_far_from_ours_is_disputed(anvil: AnvilNode, world) -> None:  # type: ignore[no-untyped-def]
    lm, feed, db = world
    settlement = lm.contract("Settlement")
    token = lm.contract("GridToken")
    rogue = Submitter(lm.admin.w3, dev_account(8, 31337))
    lm.admin.transact(settlement, "grantRole", role("TRUTH_REPORTER_ROLE"), rogue.address)
    lm.admin.transact(token, "mint", rogue.address, 10**21)
    rogue.transact(token, "approve", settlement.address, 2**256 - 1)
    _warp(anvil, feed.epoch_end(2))
    wrong = feed.scale(9.0)
    rogue.transact(settlement, "submitTruth", feed.feed_id, 2, wrong, b"\x00" * 32)
    _actual(db, lm, 2, 5.0)
    oracle = TruthOracle(lm.admin, lm.deployment, lm.market, db, dispute=True)
    report = oracle.step()
    assert report.submitted == []
    assert report.disputed == [("demand", 2)]
    assert _truth(lm, feed, 2) == (wrong, 2)  # disputed, awaiting the arbiter
    dispute = settlement.functions.disputeOf(feed.feed_id, 2).call()
    assert dispute[0] == lm.admin.address and int(dispute[1]) == feed.scale(5.0)


# ---- metered delivery: the root over (meterId, epoch, energyWh) posted with the truth

METERS = {"demand-000": 1_204, "demand-001": 0, "demand-002": 87_311, "demand-003": 5}


def _second_wave(lm: LocalMarket):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from gridcast.exchange.deploy import deploy_second_wave

    wave = deploy_second_wave(lm.admin, lm.deployment, truth_reporters=[lm.admin.address])
    dep = replace(
        lm.deployment, delivery=wave.delivery, assets=wave.assets, exchange=wave.exchange,
        certificates=wave.certificates,
    )  # fmt: skip
    return dep, dep.contract(lm.admin.w3, "MeteredDelivery")


def _meter_energy(db: str, lm: LocalMarket, epoch: int, energy: dict[str, int]) -> None:
    """What the streaming job lands for a closed epoch, next to its epoch actual."""
    start = datetime.fromisoformat(lm.market.feeds[0].data_start).replace(tzinfo=UTC)
    start += timedelta(hours=epoch)
    with psycopg.connect(libpq_url(db)) as conn:
        for meter, wh in energy.items():
            conn.execute(
                "INSERT INTO epoch_meter_energy (feed, epoch_start, meter, readings, mean_w,"
                " energy_wh) VALUES ('demand', %s, %s, 12, %s, %s)",
                (start, meter, float(wh), wh),
            )


def _independent_root(db: str, epoch: int) -> tuple[bytes, int, int]:
    """The StandardMerkleTree root rebuilt here from the landed rows, without gridcast.merkle:
    leaves keccak(keccak(abi.encode(keccak(name), epoch, Wh))), sorted, laid out as the
    JavaScript library does (node i over 2i+1 and 2i+2), pairs hashed in ascending order."""
    from eth_abi import encode
    from eth_utils import keccak

    with psycopg.connect(libpq_url(db)) as conn:
        rows = conn.execute("SELECT meter, energy_wh FROM epoch_meter_energy").fetchall()
    leaves = sorted(
        keccak(keccak(encode(["bytes32", "uint64", "uint256"], [keccak(text=m), epoch, wh])))
        for m, wh in rows
    )
    tree: list[bytes] = [b""] * (len(leaves) - 1) + leaves[::-1]
    for i in range(len(leaves) - 2, -1, -1):
        a, b = tree[2 * i + 1], tree[2 * i + 2]
        tree[i] = keccak(min(a, b) + max(a, b))
    return tree[0], len(rows), sum(int(wh) for _, wh in rows)


def test_delivery_root_is_posted_with_the_truth_once_and_its_proofs_verify_on_chain(
    anvil: AnvilNode,
    world,  # type: ignore[no-untyped-def]
) -> None:
    lm, feed, db = world
    dep, delivery = _second_wave(lm)
    _actual(db, lm, 0, 5.0)
    _meter_energy(db, lm, 0, METERS)
    _warp(anvil, feed.epoch_end(0))
    oracle = TruthOracle(lm.admin, dep, lm.market, db)
    report = oracle.step()
    root, count, total = _independent_root(db, 0)
    assert report.roots == [("demand", 0, "0x" + root.hex(), 4, sum(METERS.values()))]
    on_chain = delivery.functions.rootOf(feed.feed_id, 0).call()
    assert (bytes(on_chain[0]), on_chain[1], on_chain[5]) == (root, count, total)
    assert oracle.step().roots == []
    assert TruthOracle(lm.admin, dep, lm.market, db).step().roots == []  # restarted: none again
    # A proof from the oracle's tree verifies on-chain, and once the window is past, the summed
    # energy of proven meters is what the contract hands the exchange and the certificates.
    tree = oracle.delivery_tree("demand", _start(lm, 0), 0)
    assert tree is not None
    readings = sorted(tree.readings, key=lambda r: r.meter)
    for r in readings:
        assert delivery.functions.verify(
            feed.feed_id, 0, r.meter, r.energy_wh, tree.proof(r.meter)
        ).call()
        assert not delivery.functions.verify(
            feed.feed_id, 0, r.meter, r.energy_wh + 1, tree.proof(r.meter)
        ).call()
    _warp(anvil, int(lm.contract("Settlement").functions.truthOf(feed.feed_id, 0).call()[1]) + 121)
    got = delivery.functions.verifiedEnergy(
        feed.feed_id, 0, [r.meter for r in readings], [r.energy_wh for r in readings],
        [tree.proof(r.meter) for r in readings],
    ).call()  # fmt: skip
    assert got == sum(METERS.values())


def test_a_crash_between_truth_and_root_is_recovered_by_the_restart(
    anvil: AnvilNode,
    world,  # type: ignore[no-untyped-def]
) -> None:
    from dataclasses import replace

    lm, feed, db = world
    dep, delivery = _second_wave(lm)
    _actual(db, lm, 1, 4.0)
    _meter_energy(db, lm, 1, METERS)
    _warp(anvil, feed.epoch_end(1))
    # The first run dies after its truth landed, before the root (simulated: it has no
    # delivery contract, so it stops exactly there).
    crashed = TruthOracle(lm.admin, replace(dep, delivery=""), lm.market, db)
    first = crashed.step()
    assert [s[:2] for s in first.submitted] == [("demand", 1)] and first.roots == []
    assert delivery.functions.rootOf(feed.feed_id, 1).call()[1] == 0
    restarted = TruthOracle(lm.admin, dep, lm.market, db)
    report = restarted.step()
    assert report.submitted == []  # the truth is not sent twice
    root, count, total = _independent_root(db, 1)
    assert report.roots == [("demand", 1, "0x" + root.hex(), count, total)]
    assert bytes(delivery.functions.rootOf(feed.feed_id, 1).call()[0]) == root
    assert restarted.step().roots == []


def _start(lm: LocalMarket, epoch: int) -> datetime:
    start = datetime.fromisoformat(lm.market.feeds[0].data_start).replace(tzinfo=UTC)
    return start + timedelta(hours=epoch)
