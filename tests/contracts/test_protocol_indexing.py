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
