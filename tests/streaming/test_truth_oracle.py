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
