"""API load benchmark, side by side with Ponder: the same chain indexed by Gridcast's indexer and
by Ponder 1.0 (benchmarks/ponder), the same query mix (50 forecasts of a feed ordered by epoch,
10 epochs of a feed, one feed by id, `_meta`) sent to both GraphQL servers by wrk (an external load
generator, so no Python client shares the CPU with the server) at 10 and 50 connections; and
subscription latency from block mined to graphql-ws event.

Builds its own world (anvil + market + played rounds), serves the API with `gridcast serve` in a
subprocess (`--workers`), prints both sides and the ratio, writes benchmarks/results/api.json.
Needs `wrk` (Debian) and `npm install` in benchmarks/ponder (`--skip-ponder` without it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
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
PONDER_DIR = ROOT / "benchmarks" / "ponder"
sys.path.insert(0, str(ROOT))


def _helpers() -> Any:
    """tests/api/conftest.py (the test world builders), loaded as a module of a package of its own
    so its relative imports resolve (the name `api` is the project's package)."""
    folder = ROOT / "tests" / "api"
    package = importlib.util.spec_from_file_location(
        "api_test_world", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert package and package.loader
    sys.modules[package.name] = importlib.util.module_from_spec(package)
    package.loader.exec_module(sys.modules[package.name])
    spec = importlib.util.spec_from_file_location("api_test_world.conftest", folder / "conftest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000 if xs else float("nan")


def mix(feed: str) -> tuple[list[str], list[str]]:
    """The benchmark mix: (Gridcast queries, the equivalent Ponder queries)."""
    g = [
        '{ forecasts(first: 50, where: {feedId: "%s"}, orderBy: epoch, orderDirection: desc) '  # noqa: UP031
        "{ id epoch value lower upper operator } }" % feed,
        '{ epochs(first: 10, where: {feedId: "%s"}, orderBy: epoch) { id status commitCount } }'  # noqa: UP031
        % feed,
        '{ feed(id: "%s") { id region metric } }' % feed,  # noqa: UP031
        "{ _meta { block { number } } }",
    ]
    p = [
        '{ forecasts(where: {feedId: "%s"}, orderBy: "epoch", orderDirection: "desc", '  # noqa: UP031
        "limit: 50) { items { id epoch value lower upper operator } } }" % feed,
        '{ epochs(where: {feedId: "%s"}, orderBy: "epoch", limit: 10) '  # noqa: UP031
        "{ items { id status commitCount } } }" % feed,
        '{ feed(id: "%s") { id region metric } }' % feed,  # noqa: UP031
        "{ _meta { status } }",
    ]
    return g, p


# The mix's queries in order (mix() returns them in this order on both sides).
QUERY_NAMES = ("forecasts", "epochs", "feed", "meta")

WRK_SCRIPT = """
local bodies = %s
local i = 0
request = function()
  i = i + 1
  local body = bodies[(i %% #bodies) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""


def _ms(v: str) -> float:
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
    return float(v)


def wrk(url: str, qs: list[str], connections: int, seconds: int, work: Path) -> dict[str, float]:
    """wrk -t2 -c<connections> -d<seconds>s --latency, cycling through the mix."""
    script = work / "mix.lua"
    bodies = "{" + ",".join(json.dumps(json.dumps({"query": q})) for q in qs) + "}"
    script.write_text(WRK_SCRIPT % bodies)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    res: dict[str, float] = {"errors": 0.0}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            res["rps"] = float(parts[1])
        elif parts[:1] in (["50%"], ["99%"]):
            res["p" + parts[0].rstrip("%")] = _ms(parts[1])
        elif line.strip().startswith("Non-2xx"):
            res["errors"] += float(parts[-1])
        elif line.strip().startswith("Socket errors"):
            res["errors"] += sum(float(x.rstrip(",")) for x in parts[3::2])
    return res


def check(url: str, qs: list[str]) -> list[int]:
    """Each query answers without errors; returns the item count of each (both sides agree)."""
    counts = []
    for q in qs:
        r = httpx.post(url, json={"query": q}, timeout=30)
        body = r.json()
        if r.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"{url}: {q} -> {r.status_code} {r.text[:300]}")
        v = next(iter(body["data"].values()))
        v = v.get("items", v) if isinstance(v, dict) else v
        counts.append(len(v) if isinstance(v, list) else 1)
    return counts


def start_ponder(node: Any, dep: Any, db: str, work: Path) -> tuple[Any, str]:
    """Ponder on the same chain and database server; returns (process, GraphQL URL) once ready."""
    from gridcast.chain import abi as abis
    from indexer.runner import INDEXED_CONTRACTS

    if not (PONDER_DIR / "node_modules" / ".bin" / "ponder").exists():
        raise RuntimeError(f"Ponder is not installed: cd {PONDER_DIR} && npm install")
    inp = work / "ponder-input.json"
    inp.write_text(json.dumps({
        "rpcUrl": node.url, "startBlock": dep.block,
        "addresses": {c: dep.addresses[c] for c in INDEXED_CONTRACTS},
        "abis": {c: abis.abi(c) for c in INDEXED_CONTRACTS},
    }))  # fmt: skip
    port = _helpers().free_port()
    env = {**os.environ, "DATABASE_URL": db.replace("+psycopg", ""),
           "GRIDCAST_PONDER_INPUT": str(inp), "PONDER_TELEMETRY_DISABLED": "true",
           "PONDER_LOG_LEVEL": "warn"}  # fmt: skip
    log = open(work / "ponder.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(PONDER_DIR / "node_modules/.bin/ponder"), "start", "--schema", "ponder_bench",
         "--port", str(port)], cwd=PONDER_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ponder exited: {(work / 'ponder.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/graphql"
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("ponder did not become ready in 600 s")


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

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=1, help="gridcast serve --workers")
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    ap.add_argument("--skip-ponder", action="store_true")
    ap.add_argument(
        "--environment",
        choices=("development", "production"),
        default="production",
        help="GRIDCAST_ENVIRONMENT of the served API (the rate limit is lifted in both: wrk is one "
        "client address, and Ponder has none)",
    )
    ap.add_argument("--out", default="api.json", help="file name under benchmarks/results/")
    ap.add_argument(
        "--per-query",
        action="store_true",
        help="also drive each query of the mix alone (keys rps_<query>_<conns>, p99_ms_…)",
    )
    args = ap.parse_args()
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
    procs: list[Any] = []
    work = Path(tempfile.mkdtemp())
    res: dict[str, Any] = {"workers": args.workers, "seconds": args.seconds,
                           "production": int(args.environment == "production")}  # fmt: skip
    try:
        with AnvilNode() as node:
            console.print("[bold]building the world[/] (market, rounds, indexing)")
            m = h.market(node, work, operators=4)
            feed = sorted(m.params)[0]
            for seed in range(3):
                h.play_round(node, m, feed, seed=seed)
            h.index(node, m, db, redis_url)
            port = h.free_port()
            env = {**os.environ, "GRIDCAST_DATABASE_URL": db, "GRIDCAST_REDIS_URL": redis_url,
                   "GRIDCAST_RPC_URL": node.url, "GRIDCAST_RATE_LIMIT_PER_MINUTE": "100000000",
                   "GRIDCAST_ENVIRONMENT": args.environment,
                   "GRIDCAST_SESSION_SECRET": secrets.token_hex(32)}  # fmt: skip
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "gridcast.cli", "serve", "--port", str(port),
                 "--workers", str(args.workers), "--log-level", "warning"], env=env, cwd=ROOT,
            ))  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):
                if procs[0].poll() is not None:
                    raise RuntimeError(f"gridcast serve exited {procs[0].returncode}")
                try:
                    if httpx.get(base + "/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            url = base + "/graphql"
            gq, pq = mix(feed)
            counts = check(url, gq)
            console.print(f"gridcast answers (items per query): {counts}")
            purl = None
            if not args.skip_ponder:
                console.print("[bold]starting ponder[/] on the same chain")
                pproc, purl = start_ponder(node, m.deployment, db, work)
                procs.append(pproc)
                pcounts = check(purl, pq)
                console.print(f"ponder answers (items per query):   {pcounts}")
                res["same_answers"] = pcounts == counts
            for conns in (10, 50):
                r = wrk(url, gq, conns, args.seconds, work)
                res[f"rps_{conns}"], res[f"p50_ms_{conns}"] = round(r["rps"], 1), round(r["p50"], 2)
                res[f"p99_ms_{conns}"], res[f"errors_{conns}"] = (
                    round(r["p99"], 2),
                    int(r["errors"]),
                )
                line = f"{conns:>3} conns  gridcast {r['rps']:8.1f} req/s p99 {r['p99']:7.1f} ms"
                if purl is not None:
                    pr = wrk(purl, pq, conns, args.seconds, work)
                    res[f"ponder_rps_{conns}"] = round(pr["rps"], 1)
                    res[f"ponder_p50_ms_{conns}"] = round(pr["p50"], 2)
                    res[f"ponder_p99_ms_{conns}"] = round(pr["p99"], 2)
                    res[f"ponder_errors_{conns}"] = int(pr["errors"])
                    res[f"ratio_rps_{conns}"] = round(r["rps"] / pr["rps"], 2)
                    line += (f" | ponder {pr['rps']:8.1f} req/s p99 {pr['p99']:7.1f} ms"
                             f" | ratio {r['rps'] / pr['rps']:.2f}x")  # fmt: skip
                console.print(line)
            for i, qname in enumerate(QUERY_NAMES if args.per_query else ()):
                for conns in (10, 50):
                    r = wrk(url, [gq[i]], conns, args.seconds, work)
                    res[f"rps_{qname}_{conns}"] = round(r["rps"], 1)
                    res[f"p99_ms_{qname}_{conns}"] = round(r["p99"], 2)
                    line = (f"{qname:>9} {conns:>3} conns  gridcast {r['rps']:8.1f} req/s "
                            f"p99 {r['p99']:7.1f} ms")  # fmt: skip
                    if purl is not None:
                        pr = wrk(purl, [pq[i]], conns, args.seconds, work)
                        res[f"ponder_rps_{qname}_{conns}"] = round(pr["rps"], 1)
                        res[f"ponder_p99_ms_{qname}_{conns}"] = round(pr["p99"], 2)
                        line += (f" | ponder {pr['rps']:8.1f} req/s p99 {pr['p99']:7.1f} ms"
                                 f" | ratio {r['rps'] / pr['rps']:.2f}x")  # fmt: skip
                    console.print(line)
            lat = subscription_latency(
                {"node": node, "market": m, "db": db, "redis": redis_url}, url
            )
            res["subscription_p50_ms"] = round(pct(lat, 50), 2)
            res["subscription_p95_ms"] = round(pct(lat, 95), 2)
            console.print(f"subscription block→event: p50 {res['subscription_p50_ms']:.1f} ms  "
                          f"p95 {res['subscription_p95_ms']:.1f} ms (target p95 ≤ 250 ms, "
                          f"n={len(lat)}, mean {statistics.mean(lat) * 1000:.1f} ms)")  # fmt: skip
            res["load_avg_1m_at_end"] = round(os.getloadavg()[0], 1)
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    out = ROOT / "benchmarks" / "results" / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
