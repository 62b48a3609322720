"""API load benchmark: a mixed GraphQL workload (filtered list, nested relations, time travel,
`_meta`) at 10 and 50 concurrent clients, and subscription latency from block mined to event.

Builds its own world (anvil + market + a played round, indexed by the real indexer), serves the
API with `gridcast serve` in a subprocess, prints figures and writes benchmarks/results/api.json.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _helpers() -> Any:
    spec = importlib.util.spec_from_file_location("api_test_world", ROOT / "tests/api/conftest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000 if xs else float("nan")


def queries(feed: str, block: int, reveal_block: int) -> list[str]:
    return [
        '{ forecasts(first: 50, where: {feedId: "%s", value_gt: "0"}, orderBy: value, '  # noqa: UP031
        "orderDirection: desc) { id value lower upper operator } }" % feed,
        '{ feed(id: "%s") { id epochs(first: 10, orderBy: epoch) { id status consensus { value } '  # noqa: UP031
        "forecasts(first: 5) { operator value operatorEntity { id stake { active } } } } } }"
        % feed,
        '{ forecasts(block: {number: %d}, where: {feedId: "%s"}) { id revealed value } }'  # noqa: UP031
        % (reveal_block - 1, feed),
        "{ _meta { block { number hash } hasIndexingErrors } }",
    ]


async def load(url: str, qs: list[str], clients: int, seconds: float) -> dict[str, float]:
    lat: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client(i: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(timeout=30) as c:
            k = i
            while time.perf_counter() < stop:
                q = qs[k % len(qs)]
                k += 1
                t0 = time.perf_counter()
                r = await c.post(url, json={"query": q})
                lat.append(time.perf_counter() - t0)
                if r.status_code != 200 or r.json().get("errors"):
                    errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    dt = time.perf_counter() - t0
    return {"rps": len(lat) / dt, "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99),
            "errors": errors, "n": len(lat)}  # fmt: skip


def subscription_latency(world: Any, api: str, n: int = 40) -> list[float]:
    from websockets.sync.client import connect

    from indexer.runner import Indexer, IndexerConfig

    stop = threading.Event()
    ix = Indexer(IndexerConfig(rpc_url=world["node"].url, database_url=world["db"],
                               deployment=world["market"].deployment, redis_url=world["redis"],
                               ws_url=world["node"].url.replace("http", "ws"),
                               finality_depth=1000, poll_interval_s=0.02))  # fmt: skip
    t = threading.Thread(target=lambda: ix.run(follow=True, stop=stop), daemon=True)
    t.start()
    out: list[float] = []
    with connect(api.replace("http", "ws"), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        ws.recv(timeout=10)
        ws.send(json.dumps({"id": "1", "type": "subscribe",
                            "payload": {"query": "subscription { newBlock { number } }"}}))  # fmt: skip  # noqa: E501
        time.sleep(1.0)
        while True:  # drain anything from catching up
            try:
                ws.recv(timeout=0.5)
            except TimeoutError:
                break
        for _ in range(n):
            t0 = time.perf_counter()
            world["node"].rpc("evm_mine")
            target = int(world["node"].rpc("eth_blockNumber"), 16)
            while True:
                msg = json.loads(ws.recv(timeout=30))
                if int(msg["payload"]["data"]["newBlock"]["number"]) >= target:
                    break
            out.append(time.perf_counter() - t0)
            time.sleep(0.05)
    stop.set()
    t.join(timeout=10)
    return out


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__).parse_args()
    from rich.console import Console
    from sqlalchemy import create_engine, text

    from gridcast.node import AnvilNode
    from indexer.db.engine import upgrade

    console = Console()
    h = _helpers()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    server = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = f"gridcast_bench_api_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    db = server.rsplit("/", 1)[0] + "/" + name
    upgrade(db)
    proc = None
    try:
        with AnvilNode() as node:
            console.print("[bold]building the world[/] (market, rounds, indexing)")
            m = h.market(node, Path(tempfile.mkdtemp()), operators=4)
            feed = sorted(m.params)[0]
            for seed in range(3):
                h.play_round(node, m, feed, seed=seed)
            block = h.index(node, m, db, redis_url)
            eng = create_engine(db)
            with eng.connect() as c:
                reveal = int(
                    c.execute(text("SELECT max(revealed_block) FROM forecasts")).scalar_one()
                )
            eng.dispose()
            port = h.free_port()
            env = {**os.environ, "GRIDCAST_DATABASE_URL": db, "GRIDCAST_REDIS_URL": redis_url,
                   "GRIDCAST_RPC_URL": node.url, "GRIDCAST_RATE_LIMIT_PER_MINUTE": "100000000",
                   "GRIDCAST_ENVIRONMENT": "benchmark"}  # fmt: skip
            proc = subprocess.Popen(
                [sys.executable, "-m", "gridcast.cli", "serve", "--port", str(port),
                 "--log-level", "warning"], env=env, cwd=ROOT,
            )  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(base + "/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            url = base + "/graphql"
            qs = queries(feed, block, reveal)
            seconds = float(os.environ.get("API_BENCH_SECONDS", "30"))
            res: dict[str, float] = {}
            for clients in (10, 50):
                r = asyncio.run(load(url, qs, clients, seconds))
                console.print(f"{clients:>3} clients: {r['rps']:8.1f} req/s  p50 {r['p50']:6.1f} ms  "  # noqa: E501
                              f"p95 {r['p95']:6.1f} ms  p99 {r['p99']:6.1f} ms  errors {r['errors']}")  # fmt: skip  # noqa: E501
                res[f"rps_{clients}"] = round(r["rps"], 1)
                res[f"p50_ms_{clients}"] = round(r["p50"], 2)
                res[f"p95_ms_{clients}"] = round(r["p95"], 2)
                res[f"p99_ms_{clients}"] = round(r["p99"], 2)
                res[f"errors_{clients}"] = r["errors"]
            lat = subscription_latency(
                {"node": node, "market": m, "db": db, "redis": redis_url}, url
            )
            res["subscription_p50_ms"] = round(pct(lat, 50), 2)
            res["subscription_p95_ms"] = round(pct(lat, 95), 2)
            console.print(f"subscription block→event: p50 {res['subscription_p50_ms']:.1f} ms  "
                          f"p95 {res['subscription_p95_ms']:.1f} ms (target p95 ≤ 250 ms, "
                          f"n={len(lat)}, mean {statistics.mean(lat) * 1000:.1f} ms)")  # fmt: skip
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    out = ROOT / "benchmarks" / "results" / "api.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
