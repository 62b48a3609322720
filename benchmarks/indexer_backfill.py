"""Indexer benchmark: cold backfill of ≥100k Gridcast events (Gridcast vs Ponder on the same
chain and Postgres server), and head latency (block mined → batch committed) at 1 s blocks.

The chain: full protocol rounds by many operators on both feeds (stake top-ups, commits,
reveals, consensus, truths, settlements, claims → ForecastScored, withdrawals), ≤ txs-per-block
events per block, then 40 empty blocks so every event is older than Ponder's finality depth (30).
Both indexers start as processes (startup included; Gridcast as `python -m indexer.cli`, which
skips the umbrella CLI's imports of pandas & co., 4 s under load). Gridcast's RSS is sampled
every second and printed at 100k/500k/1M indexed events, with the restart time on the indexed
database.
Updates benchmarks/results/indexer.json (keys this run did not measure are kept).

    .venv/bin/python benchmarks/indexer_backfill.py --events 100000
    .venv/bin/python benchmarks/indexer_backfill.py --events 1000000 --skip-ponder --skip-latency
"""

from __future__ import annotations

import argparse
import bisect
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridcast.chain import abi as abis  # noqa: E402
from gridcast.node import AnvilNode, free_port  # noqa: E402
from indexer.db.engine import upgrade  # noqa: E402
from indexer.runner import INDEXED_CONTRACTS, Indexer, IndexerConfig  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
PONDER_DIR = ROOT / "benchmarks" / "ponder"


def _loadgen() -> Any:
    # tests/ is not a package on sys.path (a site-packages `tests` shadows it): load by path
    spec = importlib.util.spec_from_file_location("loadgen", ROOT / "tests/indexer/loadgen.py")
    assert spec is not None and spec.loader is not None
    mod = sys.modules.get("loadgen")
    if mod is None:
        mod = importlib.util.module_from_spec(spec)
        sys.modules["loadgen"] = mod
        spec.loader.exec_module(mod)
    return mod


def scratch_db() -> str:
    name = f"bench_indexer_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{SERVER}/test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{SERVER}/{name}"


def drop_db(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{SERVER}/test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


MARKS = (100_000, 500_000, 1_000_000)


def _rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    vals = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                vals[line.split(":")[0]] = int(line.split()[1]) / 1024
    return vals.get("VmRSS", 0.0), vals.get("VmHWM", 0.0)


def gridcast_backfill(
    node: AnvilNode, dep_file: Path, url: str, per_block: dict[int, int], sample_s: float = 1.0
) -> tuple[float, dict[int, tuple[float, float, float]], float]:
    """Runs `gridcast index --no-follow` to the head. Returns (seconds, {mark: (seconds, events,
    RSS MB) at the first sample past each mark}, peak RSS MB); samples the checkpoint and the
    process's RSS every ``sample_s``. Events indexed = the logs up to the committed checkpoint
    (``per_block``, read from the chain): one row read, where a count(*) of raw_logs would scan
    the table every second (at 1M events, a third of a core taken from the measured run)."""
    env = {**os.environ, "DATABASE_URL": url, "GRIDCAST_RPC_URL": node.url,
           "GRIDCAST_DEPLOYMENT_FILE": str(dep_file), "GRIDCAST_FINALITY_DEPTH": "30"}  # fmt: skip
    env.pop("REDIS_URL", None)
    env.pop("GRIDCAST_REDIS_URL", None)
    marks: dict[int, tuple[float, float, float]] = {}
    blocks = [-1, *sorted(per_block)]
    cumulative = [0]
    for b in blocks[1:]:
        cumulative.append(cumulative[-1] + per_block[b])
    peak = 0.0
    last: tuple[float, float, float] | None = None
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "--no-follow", "--no-metrics",
         "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    with psycopg.connect(url, autocommit=True) as conn:
        while proc.poll() is None:
            time.sleep(sample_s)
            try:
                rss, hwm = _rss_mb(proc.pid)
            except OSError:
                break
            if rss == 0:  # exited (a zombie has no VmRSS)
                break
            peak = max(peak, hwm)
            row = conn.execute(
                "SELECT block_number FROM indexer_checkpoint WHERE name = 'default'"
            ).fetchone()
            n = cumulative[bisect.bisect_right(blocks, int(row[0])) - 1] if row else 0
            last = (time.perf_counter() - t0, n, rss)
            for mark in MARKS:
                if n >= mark and mark not in marks:
                    marks[mark] = last
    _, err = proc.communicate()
    dt = time.perf_counter() - t0
    total = cumulative[-1]
    for mark in MARKS:  # passed after the last sample (a fast run): the last sample's RSS
        if total >= mark and mark not in marks and last is not None:
            marks[mark] = (dt, total, last[2])
    if proc.returncode != 0:
        raise RuntimeError(f"gridcast index exited {proc.returncode}: {err.decode()[-3000:]}")
    return dt, marks, peak


def gridcast_restart(dep_file: Path, node: AnvilNode, url: str) -> float:
    """Seconds from launching `gridcast index --no-follow` on an indexed database (nothing new
    to index but the tip check) to its exit: startup cost against history size."""
    env = {**os.environ, "DATABASE_URL": url, "GRIDCAST_RPC_URL": node.url,
           "GRIDCAST_DEPLOYMENT_FILE": str(dep_file), "GRIDCAST_FINALITY_DEPTH": "30"}  # fmt: skip
    env.pop("REDIS_URL", None)
    env.pop("GRIDCAST_REDIS_URL", None)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "indexer.cli", "--no-follow", "--no-metrics",
         "--no-progress"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - t0


def ponder_backfill(node: AnvilNode, dep: Any, url: str, work: Path) -> tuple[float, str]:
    """Returns (seconds from launch to /ready, log tail)."""
    if not (PONDER_DIR / "node_modules" / ".bin" / "ponder").exists():
        raise RuntimeError(f"Ponder is not installed: cd {PONDER_DIR} && npm install")
    inp = work / "ponder-input.json"
    inp.write_text(json.dumps({
        "rpcUrl": node.url, "startBlock": dep.block,
        "addresses": {c: dep.addresses[c] for c in INDEXED_CONTRACTS},
        "abis": {c: abis.abi(c) for c in INDEXED_CONTRACTS},
    }))  # fmt: skip
    port = free_port()
    schema = f"ponder_{uuid.uuid4().hex[:6]}"
    shutil.rmtree(PONDER_DIR / ".ponder", ignore_errors=True)
    env = {**os.environ, "DATABASE_URL": url, "GRIDCAST_PONDER_INPUT": str(inp),
           "PONDER_TELEMETRY_DISABLED": "true", "PONDER_LOG_LEVEL": "info"}  # fmt: skip
    log = open(work / "ponder.log", "wb")  # noqa: SIM115
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(PONDER_DIR / "node_modules/.bin/ponder"), "start", "--schema", schema,
         "--port", str(port)], cwd=PONDER_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"ponder exited {proc.returncode}: "
                                   f"{(work / 'ponder.log').read_text()[-3000:]}")  # fmt: skip
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.05)
        dt = time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    with psycopg.connect(url) as conn:
        n = conn.execute(f'SELECT count(*) FROM "{schema}".forecast').fetchone()
    return dt, f"ponder forecast rows: {n[0] if n else 0}"


def head_latency(blocks: int, work: Path) -> list[float]:
    """ms from first sight of block n (eth_blockNumber polled every 2 ms) to the NOTIFY that the
    batch holding n committed."""
    node = AnvilNode(block_time=1, accounts=2).start()
    url = scratch_db()
    try:
        upgrade(url)
        now = int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
        from gridcast.localnet import bootstrap

        m = bootstrap(node.url, work / "lat", operator_keys=[], genesis=now + 36_000,
                      epoch_length=3600)  # fmt: skip
        fid = bytes.fromhex(next(iter(m.params))[2:])
        from eth_abi import encode
        from eth_utils import function_signature_to_4byte_selector

        data = "0x" + (function_signature_to_4byte_selector("fundRewards(bytes32,uint256)")
                       + encode(["bytes32", "uint256"], [fid, 1])).hex()  # fmt: skip
        ix = Indexer(IndexerConfig(rpc_url=node.url, ws_url=node.ws_url, database_url=url,
                                   deployment=m.deployment, finality_depth=30,
                                   poll_interval_s=0.01))  # fmt: skip
        ix.run(follow=False)
        stop = threading.Event()
        t = threading.Thread(target=ix.run, kwargs={"follow": True, "stop": stop}, daemon=True)
        t.start()
        seen: dict[int, float] = {}
        committed: dict[int, float] = {}
        listener = psycopg.connect(url, autocommit=True)
        listener.execute('LISTEN "gridcast:newBlock"')

        def listen() -> None:
            try:
                for n in listener.notifies():
                    b = json.loads(n.payload)["block"]
                    tn = time.perf_counter()
                    for k in list(seen):
                        if k <= b and k not in committed:
                            committed[k] = tn
                    if stop.is_set():
                        break
            except psycopg.OperationalError:  # closed under it at the end of the measurement
                return

        lt = threading.Thread(target=listen, daemon=True)
        lt.start()
        import httpx

        client = httpx.Client()
        last = int(node.rpc("eth_blockNumber"), 16)  # type: ignore[call-overload]
        target = last + blocks + 1
        tx = {"from": m.admin.address, "to": m.deployment.addresses["Settlement"],
              "data": data, "gas": hex(300_000)}  # fmt: skip
        client.post(node.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
                                    "params": [tx]})  # fmt: skip
        while last < target:
            r = client.post(node.url, json={"jsonrpc": "2.0", "id": 1,
                                            "method": "eth_blockNumber"})  # fmt: skip
            b = int(r.json()["result"], 16)
            if b > last:
                ts = time.perf_counter()
                for k in range(last + 1, b + 1):
                    seen[k] = ts
                last = b
                send = {"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction", "params": [tx]}
                client.post(node.url, json=send)
            time.sleep(0.002)
        time.sleep(1.0)
        stop.set()
        t.join(timeout=10)
        ix.close()
        lat = [(committed[k] - seen[k]) * 1000 for k in sorted(seen)[1:] if k in committed]
        listener.close()
        return lat
    finally:
        node.stop()
        drop_db(url)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--operators", type=int, default=48)
    ap.add_argument("--txs-per-block", type=int, default=1000)
    ap.add_argument("--latency-blocks", type=int, default=200)
    ap.add_argument(
        "--real-rounds",
        type=int,
        default=None,
        help="play this many real protocol rounds, then replay the last one with new "
        "epochs (tests/indexer/loadgen.py): same events per round, generated fast",
    )
    ap.add_argument("--skip-ponder", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    args = ap.parse_args()
    lg = _loadgen()
    work = Path(tempfile.mkdtemp(prefix="bench_indexer_"))
    result: dict[str, Any] = {}
    node = lg.start_node(args.operators)
    try:
        t0 = time.perf_counter()
        shown = [0]

        def progress(logs: int) -> None:
            if logs - shown[0] >= 100_000:
                shown[0] = logs
                print(f"  generated {logs:,} events in {time.perf_counter() - t0:.0f}s",
                      flush=True)  # fmt: skip

        m, load = lg.build(node, work / "market", operators=args.operators, events=args.events,
                           txs_per_block=args.txs_per_block, real_rounds=args.real_rounds,
                           progress=progress)  # fmt: skip
        node.rpc("anvil_mine", [hex(40)])
        head = int(node.rpc("eth_blockNumber"), 16)  # type: ignore[arg-type]
        per_block = lg.logs_per_block(node, m)
        events = sum(per_block.values())
        blocks = head - m.deployment.block + 1
        print(f"chain: {events} events in {blocks} blocks ({load.txs}) "
              f"generated in {time.perf_counter() - t0:.0f}s")  # fmt: skip
        dep_file = work / "deployment.json"
        m.deployment.save(dep_file)
        url = scratch_db()
        try:
            upgrade(url)
            dt, marks, peak = gridcast_backfill(node, dep_file, url, per_block)
            with psycopg.connect(url) as conn:  # the governor's few logs are indexed too
                row = conn.execute(
                    "SELECT count(*) FROM raw_logs WHERE contract = ANY(%s)",
                    (list(INDEXED_CONTRACTS),),
                ).fetchone()
            assert row is not None and row[0] == events, (row, events)
            result.update(events=events, blocks=blocks, gridcast_seconds=round(dt, 2),
                          gridcast_events_per_s=round(events / dt),
                          gridcast_blocks_per_s=round(blocks / dt),
                          rss_mb_peak=round(peak, 1),
                          load_avg_gridcast=round(os.getloadavg()[0], 2))  # fmt: skip
            print(f"gridcast cold backfill: {dt:.2f}s  {events / dt:,.0f} events/s  "
                  f"{blocks / dt:,.0f} blocks/s  peak RSS {peak:.0f} MB")  # fmt: skip
            for mark, (t, n, rss) in sorted(marks.items()):
                label = f"{mark // 1000}k" if mark < 1_000_000 else f"{mark // 1_000_000}m"
                result[f"rss_mb_{label}"] = round(rss, 1)
                result[f"gridcast_events_per_s_{label}"] = round(n / t)
                if events >= 1_000_000:  # the flatness check compares marks of one run
                    result[f"rss_mb_{label}_in_1m_run"] = round(rss, 1)
                print(f"  at {n:>9,} events ({t:6.1f}s, {n / t:,.0f} events/s so far): "
                      f"RSS {rss:.0f} MB")  # fmt: skip
            rt = gridcast_restart(dep_file, node, url)
            label = "1m" if events >= 1_000_000 else f"{events // 1000}k"
            result[f"restart_s_{label}"] = round(rt, 2)
            print(f"restart with {events:,} events indexed: {rt:.2f}s (launch to exit, no new "
                  "blocks)")  # fmt: skip
            if not args.skip_ponder:
                try:
                    pdt, note = ponder_backfill(node, m.deployment, url, work)
                except RuntimeError as exc:  # keep Gridcast's figures
                    print(f"ponder failed: {str(exc)[-2000:]}")
                    args.skip_ponder = True
            if not args.skip_ponder:
                result.update(ponder_seconds=round(pdt, 2),
                              ponder_events_per_s=round(events / pdt),
                              ponder_blocks_per_s=round(blocks / pdt),
                              ratio_vs_ponder=round(pdt / dt, 2),
                              load_avg_ponder=round(os.getloadavg()[0], 2))  # fmt: skip
                print(f"ponder cold backfill:   {pdt:.2f}s  {events / pdt:,.0f} events/s  "
                      f"{blocks / pdt:,.0f} blocks/s  ({note})")  # fmt: skip
                print(f"ratio gridcast/ponder events/s: {pdt / dt:.2f}x")
        finally:
            drop_db(url)
    finally:
        node.stop()
    if not args.skip_latency:
        lat = head_latency(args.latency_blocks, work)
        q = statistics.quantiles(lat, n=100)
        result.update(
            head_latency_p50_ms=round(statistics.median(lat), 1),
            head_latency_p95_ms=round(q[94], 1),
            head_latency_blocks=len(lat),
        )
        print(f"head latency over {len(lat)} blocks: p50 {statistics.median(lat):.1f} ms  "
              f"p95 {q[94]:.1f} ms  max {max(lat):.1f} ms")  # fmt: skip
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)  # the CPU is shared: say how much
    out = ROOT / "benchmarks" / "results" / "indexer.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # keep figures this run did not measure (e.g. Ponder's, from a 100k run), saying from when
    old = json.loads(out.read_text()) if out.exists() else {}
    if args.skip_ponder and "ponder_seconds" in old:
        result.setdefault("ponder_run_events", old.get("ponder_run_events", old.get("events")))
        result.setdefault("ponder_run_gridcast_events_per_s", old.get(
            "ponder_run_gridcast_events_per_s", old.get("gridcast_events_per_s")))  # fmt: skip
    elif not args.skip_ponder:
        result["ponder_run_events"] = result.get("events", 0)
        result["ponder_run_gridcast_events_per_s"] = result.get("gridcast_events_per_s", 0)
    out.write_text(json.dumps({**old, **result}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
