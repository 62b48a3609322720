"""The durable outbox: the indexer writes every notification of a batch with the batch; the API's
record re-verifier reads it from its own cursor, so a record whose reveal was indexed while the
API was down still ends verified (issue 18's fault); retention follows the documented rule."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gridcast.chain.commitments import Curve
from gridcast.node import AnvilNode
from gridcast.settings import Settings
from indexer.db.engine import upgrade
from indexer.notify import Notifier
from indexer.runner import Indexer, IndexerConfig, pg_url
from tests.indexer.scenario import market, play_round


def _insert_record(url: str, feed: str, curve: Curve) -> int:
    """A record as `uploadForecastRecord` stores it before the commit is indexed (unverified)."""
    with psycopg.connect(pg_url(url)) as conn:
        row = conn.execute(
            "INSERT INTO api_forecast_records (feed_id, operator, first_epoch, epochs, values, "
            "lowers, uppers, quantiles, model_hash, salt, root, commitments, uploaded_by) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, '{}', %s, %s, %s, %s, %s) RETURNING id",
            (
                feed.lower(),
                curve.operator.lower(),
                curve.first_epoch,
                len(curve.values),
                json.dumps(curve.values),
                json.dumps(curve.lowers),
                json.dumps(curve.uppers),
                "0x" + curve.model_hash.hex(),
                "0x" + curve.salt.hex(),
                "0x" + curve.root().hex(),
                json.dumps(["0x" + c.hex() for c in curve.commitments()]),
                curve.operator.lower(),
            ),  # fmt: skip
        ).fetchone()
        assert row is not None
        return int(row[0])


def _record(url: str, rid: int) -> tuple[Any, ...]:
    with psycopg.connect(pg_url(url)) as conn:
        row = conn.execute(
            "SELECT verified, reveal_verified, reason FROM api_forecast_records WHERE id = %s",
            (rid,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def _caught_up(url: str) -> bool:
    with psycopg.connect(pg_url(url)) as conn:
        cursor = conn.execute("SELECT position FROM outbox_cursors").fetchall()
        top = conn.execute("SELECT max(position) FROM indexer_outbox").fetchone()
    return top is not None and cursor == [(top[0],)]


def test_reverifier_started_after_the_reveal_was_indexed_verifies_the_record(
    fresh_database: Any, redis_url: str, tmp_path: Path
) -> None:
    from api.app import create_app

    url: str = fresh_database("indexer_outbox")
    upgrade(url)
    with AnvilNode() as node:
        m = market(node, tmp_path, operators=2)
        feed = sorted(m.params)[0]
        rnd = play_round(node, m, feed, 3, settle=False)
        rid = _insert_record(url, feed, rnd["curves"][0])
        assert _record(url, rid) == (None, None, None)
        # the API is down while the commit and the reveal are indexed
        ix = Indexer(IndexerConfig(rpc_url=node.url, database_url=url, deployment=m.deployment,
                                   redis_url=redis_url, finality_depth=8))  # fmt: skip
        try:
            ix.run(follow=False)
        finally:
            ix.close()
        settings = Settings(database_url=url, redis_url=redis_url, rpc_url=node.url,
                            chain_id=31337, session_secret="outbox-tests-" + "x" * 32)  # fmt: skip
        app = create_app(settings, deployment="gridcast-test")

        async def start_api_and_wait() -> tuple[Any, ...]:
            async with app.router.lifespan_context(app):
                deadline = time.monotonic() + 60
                got = await asyncio.to_thread(_record, url, rid)
                while got[1] is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                    got = await asyncio.to_thread(_record, url, rid)
                # the cursor moves after the checks (a crash in between repeats a harmless
                # check): wait for it too before the lifespan ends and stops the re-verifier
                while not await asyncio.to_thread(_caught_up, url) and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                return got

        assert asyncio.run(start_api_and_wait()) == (True, True, None)
    with psycopg.connect(pg_url(url)) as conn:
        cursor = conn.execute("SELECT position FROM outbox_cursors").fetchall()
        top = conn.execute("SELECT max(position) FROM indexer_outbox").fetchone()
    assert top is not None and cursor == [(top[0],)]  # the re-verifier caught up, once


def test_outbox_positions_follow_commits_and_retention_keeps_what_cursors_need(
    fresh_database: Any,
) -> None:
    url: str = fresh_database("indexer_outbox_prune")
    upgrade(url)
    notifier = Notifier(None, keep=3)
    with psycopg.connect(pg_url(url), autocommit=True) as conn:
        for block in range(10):
            with conn.transaction():
                msgs = notifier.messages([("gridcast:x", {"i": block, "block": block})], block,
                                         None, 1)  # fmt: skip
                wake = notifier.in_transaction(conn, msgs, block)
            assert wake is not None and wake[0] == "gridcast:newBlock"
            assert json.loads(wake[1])["position"] == 2 * block + 2
        with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
            notifier.in_transaction(conn, notifier.messages([], 10, None, 0), 10)
            conn.execute("SELECT 1 / 0")
        rows = conn.execute("SELECT position, block_number FROM indexer_outbox ORDER BY 1")
        assert [r[1] for r in rows] == [b for b in range(10) for _ in (0, 1)]  # no rolled-back row
        # a durable consumer at position 5 holds back pruning beyond the `keep` rule
        conn.execute("INSERT INTO outbox_cursors (name, position) VALUES ('slow', 5)")
        assert notifier.maybe_prune(conn, force=True) == 5
        conn.execute("UPDATE outbox_cursors SET position = 20")
        assert notifier.maybe_prune(conn, force=True) == 20 - 3 - 5
        first = conn.execute("SELECT min(position) FROM indexer_outbox").fetchone()
        assert first == (18,)
        # age overrides cursors: an abandoned consumer cannot grow the table for ever
        conn.execute("UPDATE outbox_cursors SET position = 0")
        conn.execute("UPDATE indexer_outbox SET created_at = now() - interval '8 days'")
        assert notifier.maybe_prune(conn, force=True) == 3
