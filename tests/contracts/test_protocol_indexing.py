"""The indexer follows protocol v2's new events: FeedParamsScheduled sets feeds.params_from (the
first epoch a parameter change applies to), alongside the new parameters of FeedParamsUpdated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from gridcast.chain.deployment import FeedParams
from gridcast.node import AnvilNode
from indexer.db.engine import upgrade
from indexer.runner import Indexer, IndexerConfig, pg_url
from tests.indexer.scenario import market


def test_indexer_records_when_new_feed_params_apply(
    anvil: AnvilNode, tmp_path: Path, fresh_database: Any
) -> None:
    m = market(anvil, tmp_path, operators=1)
    feed_hex, params = next(iter(m.params.items()))
    feed = bytes.fromhex(feed_hex[2:])
    registry = m.contract("ForecastRegistry")
    new = FeedParams(**{**params.__dict__, "reward_per_epoch": 7})
    m.admin.transact(registry, "setFeedParams", feed, new.as_tuple())
    start = int(registry.functions.paramsFrom(feed).call())
    assert start > 0
    url: str = fresh_database("protocol_indexing")
    upgrade(url)
    idx = Indexer(IndexerConfig(rpc_url=anvil.url, database_url=url, deployment=m.deployment))
    try:
        idx.sync()
    finally:
        idx.close()
    with psycopg.connect(pg_url(url)) as conn:
        rows = conn.execute(
            "SELECT reward_per_epoch, params_from FROM feeds WHERE id = %s AND block_to IS NULL",
            (feed_hex.lower(),),
        ).fetchall()
    assert rows == [(7, start)]


def test_indexer_follows_a_governance_proposal_to_execution(
    anvil: AnvilNode, tmp_path: Path, fresh_database: Any
) -> None:
    from eth_utils import keccak

    from gridcast.chain.deployment import GOVERNANCE_PROFILES

    from .test_governance import _mine, _now, _warp

    m = market(anvil, tmp_path, operators=1)
    feed_hex, params = next(iter(m.params.items()))
    registry, token = m.contract("ForecastRegistry"), m.contract("GridToken")
    governor = m.deployment.contract(m.admin.w3, "GridGovernor")
    g = GOVERNANCE_PROFILES["dev"]
    m.admin.transact(token, "delegate", m.admin.address)
    _mine(anvil, 1)
    new = FeedParams(**{**params.__dict__, "reward_per_epoch": 9})
    calldata = registry.encode_abi(
        "setFeedParams", args=[bytes.fromhex(feed_hex[2:]), new.as_tuple()]
    )
    targets, values, calldatas, text = [registry.address], [0], [calldata], "reward 9"
    m.admin.transact(governor, "propose", targets, values, calldatas, text)
    pid = governor.functions.hashProposal(targets, values, calldatas, keccak(text=text)).call()
    _mine(anvil, g.voting_delay_blocks + 1)
    m.admin.transact(governor, "castVoteWithReason", pid, 1, "lower cost")
    weight = governor.functions.proposalVotes(pid).call()[1]
    _mine(anvil, g.voting_period_blocks + 1)
    m.admin.transact(governor, "queue", targets, values, calldatas, keccak(text=text))
    _warp(anvil, _now(anvil) + g.timelock_delay_s + 1)
    m.admin.transact(governor, "execute", targets, values, calldatas, keccak(text=text))

    url: str = fresh_database("governance_indexing")
    upgrade(url)
    idx = Indexer(IndexerConfig(rpc_url=anvil.url, database_url=url, deployment=m.deployment))
    try:
        idx.sync()
    finally:
        idx.close()
    with psycopg.connect(pg_url(url)) as conn:
        proposal = conn.execute(
            "SELECT state, for_votes, against_votes, description, targets, executed_block "
            "FROM proposals WHERE id = %s AND block_to IS NULL",
            (str(pid),),
        ).fetchone()
        votes = conn.execute(
            "SELECT voter, support, weight, reason FROM governance_votes WHERE proposal_id = %s",
            (str(pid),),
        ).fetchall()
        feed_reward = conn.execute(
            "SELECT reward_per_epoch FROM feeds WHERE id = %s AND block_to IS NULL",
            (feed_hex.lower(),),
        ).fetchone()
        errors = conn.execute("SELECT kind, message FROM indexing_errors LIMIT 3").fetchall()
    assert proposal is not None, errors
    state, for_votes, against, description, targets_row, executed_block = proposal
    assert (state, int(for_votes), int(against), description) == ("executed", weight, 0, text)
    assert targets_row == [registry.address.lower()] and executed_block is not None
    assert [(v[0], v[1], int(v[2]), v[3]) for v in votes] == [
        (m.admin.address.lower(), 1, weight, "lower cost")
    ]
    assert feed_reward == (9,)  # the executed change, as the indexer saw it
