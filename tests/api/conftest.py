"""One real world for the API tests: anvil with a bootstrapped market and a played round,
indexed into Postgres by the real indexer (Redis notifications), and the API served by uvicorn
on a free port."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from gridcast.localnet import LocalMarket
from gridcast.node import AnvilNode
from gridcast.settings import Settings


def _load_scenario() -> Any:
    # a `tests` package from site-packages shadows ours, so load the shared scenario by path
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "indexer" / "scenario.py"
    spec = importlib.util.spec_from_file_location("gridcast_test_scenario", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


scenario = _load_scenario()
market, play_round = scenario.market, scenario.play_round


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mongo_wire: runs against the nx-27017 MongoDB-wire server, not a real mongod"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def index(node: AnvilNode, m: LocalMarket, db_url: str, redis_url: str | None) -> int:
    """Run the real indexer once up to the head; returns the indexed block."""
    from indexer.runner import Indexer, IndexerConfig

    ix = Indexer(
        IndexerConfig(
            rpc_url=node.url,
            database_url=db_url,
            deployment=m.deployment,
            redis_url=redis_url,
            finality_depth=1000,
        )  # fmt: skip
    )
    try:
        ix.run(follow=False)
        return ix.head
    finally:
        ix.close()


def follow(
    rpc_url: str, db_url: str, deployment: Any, redis_url: str | None, stop: threading.Event
) -> threading.Thread:
    """The real indexer following the chain in a thread (publishing on Redis) until `stop`."""
    from indexer.runner import Indexer, IndexerConfig

    ix = Indexer(
        IndexerConfig(
            rpc_url=rpc_url,
            database_url=db_url,
            deployment=deployment,
            redis_url=redis_url,
            finality_depth=1000,
            poll_interval_s=0.05,
        )  # fmt: skip
    )

    def run() -> None:
        try:
            ix.run(follow=True, stop=stop)
        finally:
            ix.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@dataclass
class World:
    node: AnvilNode
    market: LocalMarket
    feed: str
    db_url: str
    redis_url: str
    block: int  # indexed block after the first round; queries pin to it
    reveal_block: int
    round: dict[str, Any]
    settings: Settings
    api_url: str
    app: Any

    def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        r = httpx.post(
            f"{self.api_url}/graphql", json={"query": query, "variables": variables or {}},
            timeout=30, **kw,
        )  # fmt: skip
        return r


class Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread
        pass


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on the port its settings name (see
    :func:`api_settings`: SIWE messages must name that origin); yields its base URL."""
    port = app.state.settings.api_port
    server = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(timeout=10)


def api_settings(node: AnvilNode, db_url: str, redis_url: str, state: Path) -> Settings:
    """Settings of a test API on a free port, its public URL configured for SIWE."""
    port = free_port()
    return Settings(
        database_url=db_url, redis_url=redis_url, rpc_url=node.url, chain_id=31337,
        api_port=port, api_url=f"http://127.0.0.1:{port}",
        rate_limit_per_minute=1_000_000, deployment_file=state / "deployment.json",
        session_secret="api-tests-" + "x" * 32,
    )  # fmt: skip


@pytest.fixture(scope="session")
def world(
    tmp_path_factory: pytest.TempPathFactory, fresh_database: Any, redis_url: str
) -> Iterator[World]:
    from sqlalchemy import create_engine, text

    from api.app import create_app
    from indexer.db.engine import upgrade

    db_url = fresh_database("gridcast_api")
    upgrade(db_url)
    state: Path = tmp_path_factory.mktemp("api-world")
    with AnvilNode() as node:
        m = market(node, state, operators=3)
        feed = sorted(m.params)[0]
        rnd = play_round(node, m, feed, seed=1)
        block = index(node, m, db_url, redis_url)
        eng = create_engine(db_url)
        with eng.connect() as c:
            reveal_block = int(
                c.execute(text("SELECT min(revealed_block) FROM forecasts")).scalar_one()
            )
        eng.dispose()
        settings = api_settings(node, db_url, redis_url, state)
        app = create_app(settings, deployment="gridcast-test")
        with serve(app) as url:
            yield World(
                node, m, feed, db_url, redis_url, block, reveal_block, rnd, settings, url, app
            )


# The second-wave world (exchange, metered delivery, certificates), shared by their GraphQL tests.
from .second_wave_world import green_world  # noqa: E402, F401
