"""Time travel across a real chain reorganisation: the API answers `block: {number}` and current
queries from the old history, anvil replaces that history (snapshot → revert → a different round
and no unstake), the real indexer rolls back and re-indexes, and the same queries then answer from
the new chain; blocks of the old history past the new head become a clear error."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gridcast.chain.deploy import fund_and_stake
from gridcast.localnet import LocalMarket
from gridcast.node import AnvilNode
from tests.api.conftest import api_settings, index, market, play_round, serve
from tests.indexer.scenario import revert


@dataclass
class Fork:
    node: AnvilNode
    market: LocalMarket
    feed: str
    db_url: str
    redis_url: str
    api_url: str

    def head(self) -> int:
        return int(str(self.node.rpc("eth_blockNumber")), 16)

    def index(self) -> int:
        return index(self.node, self.market, self.db_url, self.redis_url)

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = httpx.post(
            f"{self.api_url}/graphql", json={"query": query, "variables": variables or {}},
            timeout=30,
        )  # fmt: skip
        assert r.status_code < 500, r.text
        body: dict[str, Any] = r.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = self.post(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]


@pytest.fixture(scope="module")
def fork(
    tmp_path_factory: pytest.TempPathFactory, fresh_database: Any, redis_url: str
) -> Iterator[Fork]:
    """Its own chain, database and API: the reorg must not rewrite the shared `world`."""
    from api.app import create_app
    from indexer.db.engine import upgrade

    db_url = fresh_database("gridcast_api_reorg")
    upgrade(db_url)
    state: Path = tmp_path_factory.mktemp("api-reorg")
    with AnvilNode() as node:
        m = market(node, state, operators=3)
        feed = sorted(m.params)[0]
        app = create_app(api_settings(node, db_url, redis_url, state), deployment="reorg-test")
        with serve(app) as url:
            yield Fork(node, m, feed, db_url, redis_url, url)


FORECASTS = """query($w: Forecast_filter, $b: Int) { forecasts(first: 100, orderBy: operator,
  where: $w, block: {number: $b}) { operator value lower upper } }"""
STAKE = """query($id: ID!, $w: StakeEvent_filter, $b: Int) {
  stake(id: $id, block: {number: $b}) { active unbonding }
  stakeEvents(where: $w, block: {number: $b}) { amount } }"""


def _sent(rnd: dict[str, Any]) -> list[dict[str, str]]:
    """The first epoch of a round as the API should show it: one row per operator, by address."""
    rows = [
        {"operator": c.operator.lower(), "value": str(c.values[0]), "lower": str(c.lowers[0]),
         "upper": str(c.uppers[0])}
        for c in rnd["curves"]
    ]  # fmt: skip
    return sorted(rows, key=lambda r: r["operator"])


def _stake_on_chain(f: Fork, operator: str, block: int) -> tuple[str, str]:
    staking = f.market.contract("OperatorStaking")
    active = staking.functions.stakeOf(operator).call(block_identifier=block)
    unbonding, _ = staking.functions.unbondingOf(operator).call(block_identifier=block)
    return str(active), str(unbonding)


def test_queries_follow_the_chain_through_a_reorg(fork: Fork) -> None:
    f = fork
    op = f.market.operators[0].address
    unstakes = {"id": op.lower(), "w": {"operator": op.lower(), "kind": "unstake_requested"}}
    play_round(f.node, f.market, f.feed, seed=1, settle=False)
    base = f.index()
    snap = f.node.rpc("evm_snapshot")

    # old history: an unstake request and a round of forecasts, then some empty blocks
    staking = f.market.contract("OperatorStaking")
    # the staked amount is locked behind the open commitments: stake one more token to unstake it
    fund_and_stake(f.market.admin, f.market.operators[0], f.market.contract("GridToken"), staking,
                   10**18)  # fmt: skip
    f.market.operators[0].transact(staking, "requestUnstake", 10**18)
    old = play_round(f.node, f.market, f.feed, seed=2, settle=False)
    pinned = f.head()  # the block the time-travel queries pin to, in both histories
    f.node.rpc("anvil_mine", [hex(10)])
    old_head = f.index()
    assert old_head == f.head()
    old_hash = f.data("{ _meta { block { hash } } }")["_meta"]["block"]["hash"]

    ev = {"w": {"feedId": f.feed, "epoch": str(old["first"])}}
    for b in (pinned, None):
        assert f.data(FORECASTS, {**ev, "b": b})["forecasts"] == _sent(old)
        s = f.data(STAKE, {**unstakes, "b": b})
        assert [e["amount"] for e in s["stakeEvents"]] == [str(10**18)]
        assert (s["stake"]["active"], s["stake"]["unbonding"]) == _stake_on_chain(f, op, pinned)
    before_fork = f.data(STAKE, {**unstakes, "b": base})
    assert before_fork["stakeEvents"] == []

    # new history from the snapshot: no unstake, a round with other values, a shorter chain
    revert(f.node, f.market, snap)
    new = play_round(f.node, f.market, f.feed, seed=3, settle=False)
    f.node.rpc("anvil_mine", [hex(5)])  # 2, plus the old history's 3 extra stake transactions
    new_head = f.head()
    assert base < pinned <= new_head < old_head
    assert f.index() == new_head

    meta = f.data("{ _meta { block { number hash } } }")["_meta"]["block"]
    chain_hash = f.node.rpc("eth_getBlockByNumber", [hex(new_head), False])["hash"]  # type: ignore[index]
    assert meta == {"number": new_head, "hash": chain_hash}
    ev = {"w": {"feedId": f.feed, "epoch": str(new["first"])}}
    for b in (pinned, None):
        assert f.data(FORECASTS, {**ev, "b": b})["forecasts"] == _sent(new)
        s = f.data(STAKE, {**unstakes, "b": b})
        assert s["stakeEvents"] == []
        assert (s["stake"]["active"], s["stake"]["unbonding"]) == _stake_on_chain(f, op, new_head)
    if new["first"] != old["first"]:  # the old round's epochs hold nothing in the new history
        gone = f.data(FORECASTS, {"w": {"feedId": f.feed, "epoch": str(old["first"])}})
        assert gone["forecasts"] == []
    # history before the fork is untouched
    assert f.data(STAKE, {**unstakes, "b": base}) == before_fork

    # the old history's tail is past the new head: a clear error, by number and by hash
    beyond = f.post(f"{{ feeds(block: {{number: {old_head}}}) {{ id }} }}")
    assert beyond["data"] is None
    msg = beyond["errors"][0]["message"]
    assert f"block {old_head} is not indexed yet" in msg and f"reached block {new_head}" in msg
    by_hash = f.post(f'{{ feeds(block: {{hash: "{old_hash}"}}) {{ id }} }}')
    assert "is not among the indexed" in by_hash["errors"][0]["message"]
