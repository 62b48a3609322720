"""The indexer under faults, against real anvil, Postgres and HTTP: a `gridcast index` process
SIGKILLed again and again during a backfill loses and duplicates nothing; a JSON-RPC endpoint
that rate-limits, fails, times out, truncates and refuses wide ranges still yields the same
database, and every injected fault shows up in the Prometheus metrics."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY

from gridcast.localnet import LocalMarket
from gridcast.node import AnvilNode
from indexer.db.engine import upgrade
from indexer.decoder import LogDecoder
from indexer.models.indexer_entities import ENTITY_TABLES
from indexer.runner import Indexer, IndexerConfig, indexed_addresses, pg_url
from tests.indexer.faultproxy import FaultProxy
from tests.indexer.loadgen import build, start_node
from tests.indexer.test_indexer import _assert_db_matches_chain, _chain_logs

ROOT = Path(__file__).resolve().parents[2]
KILLS = 10


@pytest.fixture(scope="module")
def busy_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AnvilNode, LocalMarket]]:
    """~3,000 events in ~400 blocks: 16 operators, both feeds, full rounds, 8 txs per block."""
    node = start_node(16)
    try:
        m, load = build(node, tmp_path_factory.mktemp("busy"), operators=16, events=3_000,
                        txs_per_block=8)  # fmt: skip
        assert load.logs >= 3_000
        yield node, m
    finally:
        node.stop()


@pytest.fixture(scope="module")
def reference_db(busy_chain: Any, fresh_database: Any) -> str:
    """The same chain indexed once by an undisturbed in-process indexer."""
    node, m = busy_chain
    url: str = fresh_database("indexer_ref")
    upgrade(url)
    ix = Indexer(IndexerConfig(rpc_url=node.url, database_url=url, deployment=m.deployment,
                               finality_depth=8))  # fmt: skip
    ix.run(follow=False)
    ix.close()
    return url


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every version of every entity, plus raw logs: what two correct runs must agree on."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(pg_url(url)) as conn:
        for table in (*ENTITY_TABLES, "raw_logs"):
            cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "AND column_name NOT IN ('updated_at', 'created_at', 'indexed_at') "
                    "ORDER BY ordinal_position",
                    (table,),
                )
            ]
            out[table] = conn.execute(
                f"SELECT {', '.join(cols)} FROM {table} "
                f"ORDER BY {', '.join(str(i + 1) for i in range(len(cols)))}"
            ).fetchall()
    return out


def _checkpoint(url: str) -> int:
    with psycopg.connect(pg_url(url)) as conn:
        row = conn.execute(
            "SELECT block_number FROM indexer_checkpoint WHERE name = 'default'"
        ).fetchone()
    return -1 if row is None else int(row[0])


def test_sigkill_during_backfill_loses_and_duplicates_nothing(
    busy_chain: Any, reference_db: str, fresh_database: Any, tmp_path: Path
) -> None:
    node, m = busy_chain
    url: str = fresh_database("indexer_crash")
    upgrade(url)
    dep_file = tmp_path / "deployment.json"
    m.deployment.save(dep_file)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GRIDCAST_RPC_URL": node.url,
        "GRIDCAST_DEPLOYMENT_FILE": str(dep_file),
        "GRIDCAST_MAX_BLOCK_RANGE": "6",  # many small batches to die between
        "GRIDCAST_FINALITY_DEPTH": "8",
    }
    env.pop("GRIDCAST_REDIS_URL", None)
    env.pop("REDIS_URL", None)
    cmd = [sys.executable, "-m", "gridcast.cli", "index", "--no-follow", "--no-metrics",
           "--no-progress"]  # fmt: skip
    rng = random.Random(1234)
    kills = 0
    with_writer = 0  # kills that hit a run committing through a writer process
    checkpoints: list[int] = []
    while True:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)  # fmt: skip
        before = _checkpoint(url)
        if kills < KILLS:
            # wait for this run to commit something, then kill it somewhere in the next batches
            while proc.poll() is None and _checkpoint(url) <= before:
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.05))
        if proc.poll() is None and kills < KILLS:
            writers = _writer_processes(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            if writers:
                with_writer += 1
                # the writer dies with its parent (a late commit would race the next run)
                for _ in range(250):
                    if not any(os.path.exists(f"/proc/{pid}") for pid in writers):
                        break
                    time.sleep(0.02)
                for pid in writers:
                    assert not os.path.exists(f"/proc/{pid}") or _zombie(pid), pid
            checkpoints.append(_checkpoint(url))
            continue
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
        break
    assert kills == KILLS, f"the backfill finished after only {kills} kills: {checkpoints}"
    assert with_writer > 0, "no kill landed while a writer process was committing"
    # each kill left a checkpoint short of the head: the kills landed during the backfill
    head = int(node.rpc("eth_blockNumber"), 16)  # type: ignore[arg-type]
    assert checkpoints == sorted(checkpoints) and checkpoints[-1] < head
    _assert_db_matches_chain(node, m.deployment, url)
    assert _dump(url) == _dump(reference_db)


def _writer_processes(parent: int) -> list[int]:
    """Pids of the writer processes (indexer.writer) started by ``parent``."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if b"indexer.writer" in args and str(parent).encode() in args:
            out.append(int(entry))
    return out


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def _sample(kind: str) -> float:
    return REGISTRY.get_sample_value("gridcast_indexer_rpc_errors_total", {"kind": kind}) or 0.0


def test_rpc_faults_are_survived_and_counted(
    busy_chain: Any, reference_db: str, fresh_database: Any
) -> None:
    node, m = busy_chain
    url: str = fresh_database("indexer_faults")
    upgrade(url)
    kinds = ("rate_limit", "server", "bad_body", "timeout", "too_large")
    before = {k: _sample(k) for k in kinds}
    with FaultProxy(node.url) as proxy:
        ix = Indexer(
            IndexerConfig(
                rpc_url=proxy.url,
                database_url=url,
                deployment=m.deployment,
                finality_depth=8,
                rpc_timeout_s=1.0,
                max_block_range=64,
                initial_block_range=64,
            )  # fmt: skip
        )
        ix.rpc.backoff_max_s = 0.2  # keep the test short; the schedule is the same
        try:
            ix.run(follow=False)
        finally:
            ix.close()
    injected = dict(proxy.counts)
    assert all(injected.get(k, 0) > 0 for k in kinds), injected
    counted = {k: int(_sample(k) - before[k]) for k in kinds}
    assert counted == {k: injected[k] for k in kinds}
    _assert_db_matches_chain(node, m.deployment, url)
    assert _dump(url) == _dump(reference_db)


def test_a_batch_beyond_the_old_notification_limit_reaches_a_slow_subscriber(
    busy_chain: Any, fresh_database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backfill commits the chain in one batch of thousands of notifications (the indexer used
    to send only newBlock above 1,000); a subscriber whose queue overflows at once still gets every
    reveal exactly once, in order, from the outbox."""
    import asyncio

    from api import pubsub

    node, m = busy_chain
    url: str = fresh_database("indexer_big_batch")
    upgrade(url)
    monkeypatch.setattr(pubsub, "QUEUE_SIZE", 8)  # force the overflow path
    decoder = LogDecoder(indexed_addresses(m.deployment))
    revealed = [
        ev for ev in map(decoder.decode, _chain_logs(node, m.deployment))
        if ev.name == "ForecastsRevealed"
    ]  # fmt: skip
    ix = Indexer(IndexerConfig(rpc_url=node.url, database_url=url, deployment=m.deployment,
                               finality_depth=8, initial_block_range=10_000))  # fmt: skip

    async def run() -> list[dict[str, Any]]:
        hub = pubsub.Hub(None, url)
        hub.start()
        await asyncio.wait_for(hub.ready.wait(), 30)
        got: list[dict[str, Any]] = []

        async def consume() -> None:
            async for payload in hub.listen("gridcast:forecastRevealed"):
                got.append(payload)
                await asyncio.sleep(0)  # a slow consumer
                if len(got) == len(revealed):
                    return

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        try:
            await asyncio.to_thread(ix.run, follow=False)
            await asyncio.wait_for(task, 120)
        finally:
            ix.close()
            await hub.stop()
        return got

    got = asyncio.run(run())
    with psycopg.connect(pg_url(url)) as conn:
        biggest = conn.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM indexer_outbox GROUP BY block_number) b"
        ).fetchone()
    assert biggest is not None and biggest[0] > 1000
    want = [(ev.block_number, str(ev.args["operator"]).lower()) for ev in revealed]
    assert [(p["block"], p["operator"].lower()) for p in got] == want


def test_a_cache_smaller_than_the_live_entities_indexes_the_same_database(
    busy_chain: Any, reference_db: str, fresh_database: Any
) -> None:
    """Entities are evicted between batches and read back by the next batch's prefetch."""
    node, m = busy_chain
    url: str = fresh_database("indexer_small_cache")
    upgrade(url)
    ix = Indexer(IndexerConfig(rpc_url=node.url, database_url=url, deployment=m.deployment,
                               finality_depth=8, max_block_range=6, cache_entities=16))  # fmt: skip
    try:
        ix.run(follow=False)
        assert ix.store.cached <= 16
        assert ix.store.misses == 0  # every read was foreseen by the batch's prefetch
    finally:
        ix.close()
    with psycopg.connect(pg_url(url)) as conn:
        live = sum(
            conn.execute(f"SELECT count(*) FROM {t} WHERE block_to IS NULL").fetchone()[0]  # type: ignore[index]
            for t in ENTITY_TABLES
        )
    assert live > 100 * 16
    _assert_db_matches_chain(node, m.deployment, url)
    assert _dump(url) == _dump(reference_db)


def test_a_failed_commit_in_the_pipelined_backfill_resumes_to_the_same_database(
    busy_chain: Any, reference_db: str, fresh_database: Any
) -> None:
    """A batch's transaction fails on the writer thread while the next batch's handlers have
    already run on the cache: nothing from that batch on is committed, the cache is dropped,
    and the next run resumes from the checkpoint to the reference database."""
    node, m = busy_chain
    url: str = fresh_database("indexer_writer_fault")
    upgrade(url)
    head = int(node.rpc("eth_blockNumber"), 16)  # type: ignore[call-overload]
    mid = (m.deployment.block + head - 8) // 2
    with psycopg.connect(pg_url(url), autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected writer fault'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER injected_fault BEFORE UPDATE ON indexer_checkpoint FOR EACH ROW "
            f"WHEN (NEW.block_number > {mid}) EXECUTE FUNCTION injected_fault()"
        )
    ix = Indexer(IndexerConfig(rpc_url=node.url, database_url=url, deployment=m.deployment,
                               finality_depth=8, max_block_range=6))  # fmt: skip
    try:
        with pytest.raises(psycopg.errors.RaiseException, match="injected writer fault"):
            ix.run(follow=False)
        assert ix.store.cached == 0
        stopped = _checkpoint(url)
        assert m.deployment.block <= stopped <= mid
        with psycopg.connect(pg_url(url)) as conn:
            top = conn.execute("SELECT max(block_number) FROM raw_logs").fetchone()
            assert top is not None and top[0] <= stopped  # nothing beyond the checkpoint
        with psycopg.connect(pg_url(url), autocommit=True) as conn:
            conn.execute("DROP TRIGGER injected_fault ON indexer_checkpoint")
        ix.run(follow=False)
    finally:
        ix.close()
    _assert_db_matches_chain(node, m.deployment, url)
    assert _dump(url) == _dump(reference_db)


def test_a_range_above_the_batch_limit_is_split_at_block_boundaries(
    busy_chain: Any, reference_db: str, fresh_database: Any
) -> None:
    """One eth_getLogs reply of the whole chain becomes batches of about 100 logs."""
    node, m = busy_chain
    url: str = fresh_database("indexer_split")
    upgrade(url)
    ix = Indexer(IndexerConfig(rpc_url=node.url, database_url=url, deployment=m.deployment,
                               finality_depth=8, initial_block_range=10_000,
                               target_logs_per_batch=100))  # fmt: skip
    try:
        ix.run(follow=False)
    finally:
        ix.close()
    with psycopg.connect(pg_url(url)) as conn:
        batches = conn.execute(
            "SELECT count(*) FROM indexer_outbox WHERE channel = 'gridcast:newBlock'"
        ).fetchone()
        events = conn.execute("SELECT count(*) FROM raw_logs").fetchone()
    assert batches is not None and events is not None
    assert batches[0] >= events[0] // 200  # split, not one batch
    _assert_db_matches_chain(node, m.deployment, url)
    assert _dump(url) == _dump(reference_db)
