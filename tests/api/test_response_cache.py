"""The response cache (api/guard.py TimedSchema): within its TTL an answer costs no statement; past
it, the stale answer is served at once while one refresh runs in the background, so clients
never queue behind a refresh (what made the p99 at 50 connections)."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any

import psycopg
from sqlalchemy import event

from api import guard
from indexer.runner import pg_url

from .test_queries import data

PROBE = "{ cacheProbe: feeds(first: 2) { id } }"


def _feeds_statements(world: Any) -> tuple[list[str], Any]:
    seen: list[str] = []
    lock = threading.Lock()

    def on_exec(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "feeds" in statement:
            with lock:
                seen.append(statement)

    return seen, on_exec


def _entries(schema: Any) -> list[Any]:
    return [k for k in list(schema._cache) if k[1] == PROBE]


def test_stale_answer_is_served_while_one_refresh_runs(world: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(guard, "CACHE_TTL_S", 120.0)  # no expiry by the clock during the test
    schema = world.app.state.schema
    engine = world.app.state.engine.sync_engine
    first = data(world, PROBE)
    seen, on_exec = _feeds_statements(world)
    event.listen(engine, "before_cursor_execute", on_exec)
    try:
        assert data(world, PROBE) == first
        assert seen == []  # a hit: no statement
        (key,) = _entries(schema)
        schema._cache[key] = (0.0, schema._cache[key][1])  # expired
        # The refresh will block on the table lock; the clients must not.
        with psycopg.connect(pg_url(world.db_url)) as locker:
            locker.execute("LOCK TABLE feeds IN ACCESS EXCLUSIVE MODE")
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda _: data(world, PROBE), range(8)))
            assert answers == [first] * 8  # served stale while the refresh waits on the lock
            assert schema._cache[key][0] == 0.0  # not refreshed yet
            locker.rollback()  # releases the lock: the refresh completes
        deadline = time.monotonic() + 60
        while schema._cache[key][0] == 0.0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert schema._cache[key][0] > time.monotonic()  # refreshed, for a new TTL
        assert schema._cache[key][1].data == first
        assert len(seen) == 1  # eight stale answers, one execution
    finally:
        event.remove(engine, "before_cursor_execute", on_exec)


def test_a_new_version_is_a_miss_not_a_stale_answer(world: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(guard, "CACHE_TTL_S", 120.0)
    schema = world.app.state.schema
    engine = world.app.state.engine.sync_engine
    data(world, PROBE)
    version = schema.version
    seen, on_exec = _feeds_statements(world)
    event.listen(engine, "before_cursor_execute", on_exec)
    try:
        monkeypatch.setattr(schema, "version", lambda: ("moved", version()))
        data(world, PROBE)
        assert len(seen) == 1  # executed for the new version before answering
    finally:
        event.remove(engine, "before_cursor_execute", on_exec)


def test_served_app_freezes_its_startup_heap(world: Any, monkeypatch: Any) -> None:
    """`gridcast serve`'s app moves what exists at startup out of the collector's generations
    (full collections under load made the p99); apps built by create_app() alone do not."""
    import asyncio
    import gc

    from api import app as app_module

    monkeypatch.setattr(app_module, "get_settings", lambda: world.settings)

    async def frozen_during_lifespan(app: Any) -> int:
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count()

    gc.unfreeze()
    try:
        assert asyncio.run(frozen_during_lifespan(app_module.create_app(world.settings))) == 0
        assert asyncio.run(frozen_during_lifespan(app_module.served_app())) > 10_000
    finally:
        gc.unfreeze()
