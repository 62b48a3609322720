"""The indexer against a real anvil and a real Postgres: backfill equals the chain, reorgs roll
back to the new chain, reorgs deeper than finality are refused, bad logs become indexing errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gridcast.chain.deployment import Deployment
from gridcast.localnet import LocalMarket
from gridcast.node import AnvilNode
from indexer.db.engine import upgrade
from indexer.decoder import LogDecoder
from indexer.errors import ReorgTooDeepError
from indexer.runner import Indexer, IndexerConfig, indexed_addresses, pg_url
from tests.indexer.scenario import market, play_round, revert


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AnvilNode, LocalMarket]]:
    with AnvilNode() as node:
        m = market(node, tmp_path_factory.mktemp("market"))
        feed = next(iter(m.params))
        play_round(node, m, feed, 1)
        yield node, m


def _indexer(node: AnvilNode, dep: Deployment, url: str, **kw: Any) -> Indexer:
    return Indexer(IndexerConfig(rpc_url=node.url, database_url=url, deployment=dep, **kw))


def _db(fresh_database: Any) -> str:
    url: str = fresh_database("indexer")
    upgrade(url)
    return url


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(pg_url(url)) as conn:
        return conn.execute(sql).fetchall()


def _chain_logs(node: AnvilNode, dep: Deployment) -> list[dict[str, Any]]:
    addrs = list(indexed_addresses(dep))
    logs = node.rpc("eth_getLogs", [{"address": addrs, "fromBlock": hex(dep.block),
                                     "toBlock": "latest"}])  # fmt: skip
    assert isinstance(logs, list)
    return logs


def _assert_db_matches_chain(node: AnvilNode, dep: Deployment, url: str) -> None:
    logs = _chain_logs(node, dep)
    decoder = LogDecoder(indexed_addresses(dep))
    events = [decoder.decode(lg) for lg in logs]
    raw = _rows(url, "SELECT block_number, log_index, block_hash FROM raw_logs ORDER BY 1, 2")
    assert raw == [(e.block_number, e.log_index, e.block_hash) for e in events]
    # forecasts: one current row per (feed, epoch, operator), expanded from the batches
    expected: dict[str, tuple[Any, ...]] = {}
    for e in events:
        a = e.args
        if e.name == "ForecastsCommitted":
            for i, c in enumerate(a["commitments"]):
                key = f"{a['feedId']}-{a['firstEpoch'] + i}-{a['operator']}"
                expected[key] = (c, a["weight"], None, None, None)
        if e.name == "ForecastsRevealed":
            values, lowers, uppers, _, _ = a["opening"]
            for i, v in enumerate(values):
                key = f"{a['feedId']}-{a['firstEpoch'] + i}-{a['operator']}"
                expected[key] = (expected[key][0], expected[key][1], v, lowers[i], uppers[i])
    got = {
        r[0]: (r[1], int(r[2]), r[3], r[4], r[5])
        for r in _rows(
            url,
            "SELECT id, commitment, weight, value, lower, upper FROM forecasts "
            "WHERE block_to IS NULL",
        )  # fmt: skip
    }
    assert got == expected
    consensus = {
        (e.args["feedId"], e.args["epoch"]): (e.args["value"], e.args["lower"], e.args["upper"])
        for e in events
        if e.name == "ConsensusFinalized"
    }
    assert consensus == {
        (r[0], r[1]): (r[2], r[3], r[4])
        for r in _rows(
            url, "SELECT feed_id, epoch, value, lower, upper FROM consensus WHERE block_to IS NULL"
        )  # fmt: skip
    }
    stakes: dict[str, int] = {}
    for e in events:
        if "totalStake" in e.args:
            stakes[e.args["operator"]] = e.args["totalStake"]
    assert stakes == {
        r[0]: int(r[1]) for r in _rows(url, "SELECT id, active FROM stakes WHERE block_to IS NULL")
    }
    settled = {(e.args["feedId"], e.args["epoch"]) for e in events if e.name == "EpochSettled"}
    assert settled == {
        (r[0], r[1])
        for r in _rows(url, "SELECT feed_id, epoch FROM settlements WHERE block_to IS NULL")
    }
    head = int(node.rpc("eth_blockNumber"), 16)  # type: ignore[arg-type]
    assert _rows(url, "SELECT block_number FROM indexer_checkpoint") == [(head,)]


def test_backfill_then_follow_matches_the_chain(chain: Any, fresh_database: Any) -> None:
    node, m = chain
    url = _db(fresh_database)
    ix = _indexer(node, m.deployment, url, finality_depth=8)
    ix.run(follow=False)
    _assert_db_matches_chain(node, m.deployment, url)
    snap = node.rpc("evm_snapshot")
    try:
        feed = next(iter(m.params))
        play_round(node, m, feed, 2, settle=False)
        ix.run(follow=False)  # the same process follows the new blocks
        _assert_db_matches_chain(node, m.deployment, url)
        # time travel: as of the first backfill's head, no forecast of the new round is visible
        n_now = _rows(url, "SELECT count(*) FROM forecasts WHERE block_to IS NULL")[0][0]
        assert n_now > 0
    finally:
        ix.close()
        revert(node, m, snap)


@pytest.mark.parametrize("depth", [1, 5, 30])
def test_reorg_rolls_back_to_the_new_chain(depth: int, fresh_database: Any, tmp_path: Path) -> None:
    with AnvilNode() as node:
        m = market(node, tmp_path)
        feed = next(iter(m.params))
        url = _db(fresh_database)
        ix = _indexer(node, m.deployment, url, finality_depth=64)
        play_round(node, m, feed, 1, settle=False)
        fork = int(node.rpc("eth_blockNumber"), 16)  # type: ignore[arg-type]
        snap = node.rpc("evm_snapshot")
        # old history: a round of forecasts and a signer change, `depth` blocks or more past the
        # fork (a signer change rather than an unstake: stake that backs open forecasts is locked)
        staking = m.contract("OperatorStaking")
        m.operators[0].transact(staking, "setSigner", m.operators[1].address)
        play_round(node, m, feed, 2, settle=False)
        head = int(node.rpc("eth_blockNumber"), 16)  # type: ignore[arg-type]
        if head - fork < depth:
            node.rpc("anvil_mine", [hex(depth - (head - fork))])
        ix.run(follow=False)
        revert(node, m, snap)
        # new history: different forecasts, no unstake, and a longer chain
        play_round(node, m, feed, 7, settle=False)
        node.rpc("anvil_mine", [hex(depth + 2)])
        ix.run(follow=False)
        ix.close()
        _assert_db_matches_chain(node, m.deployment, url)
        assert _rows(url, "SELECT count(*) FROM operators WHERE signer IS NOT NULL") == [(0,)]


def test_reorg_deeper_than_finality_is_refused(fresh_database: Any, tmp_path: Path) -> None:
    with AnvilNode() as node:
        m = market(node, tmp_path)
        url = _db(fresh_database)
        snap = node.rpc("evm_snapshot")
        node.rpc("anvil_mine", [hex(12)])
        ix = _indexer(node, m.deployment, url, finality_depth=3)
        ix.run(follow=False)
        revert(node, m, snap)
        node.rpc("anvil_mine", [hex(20)])
        with pytest.raises(ReorgTooDeepError, match="finality"):
            ix.run(follow=False)
        ix.close()


def test_undecodable_logs_become_indexing_errors(chain: Any, fresh_database: Any) -> None:
    node, m = chain
    url = _db(fresh_database)
    ix = _indexer(node, m.deployment, url)
    good = [lg for lg in _chain_logs(node, m.deployment) if len(lg["data"]) > 2]
    bad = dict(good[0], data="0x1234", logIndex="0x999")
    unknown = dict(good[1], address="0x" + "ab" * 20, logIndex="0x998")
    chunk = ix._decode(int(good[0]["blockNumber"], 16), int(good[0]["blockNumber"], 16),
                       [bad, unknown])  # fmt: skip
    ix.checkpoint()
    ix.write(chunk, None)
    ix.close()
    rows = _rows(url, "SELECT log_index, kind, message FROM indexing_errors ORDER BY 1")
    assert [r[0] for r in rows] == [0x998, 0x999]
    assert "unknown contract" in rows[0][2]
    assert "undecodable" in rows[1][2]
