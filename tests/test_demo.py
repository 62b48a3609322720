"""`gridcast demo --epochs 2` end to end: the printed summary agrees with the chain and the API."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from web3 import Web3

TOKEN = 10**18
ROW = re.compile(
    r"^(?P<label>.+?)\s{2,}(?P<forecasts>\d+)\s+(?P<scored>\d+)\s+(?P<mase>[\d.]+|-)\s+"
    r"(?P<rewards>[\d.]+)\s+(?P<slashed>[\d.]+)\s+(?P<total>[\d.]+)$"
)


def _post(url: str, query: str) -> dict:  # type: ignore[type-arg]
    req = urllib.request.Request(
        url, json.dumps({"query": query}).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory, project_root: Path):  # type: ignore[no-untyped-def]
    state = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "GRIDCAST_MODEL_DIR": str(project_root / ".gridcast" / "models"),
    }
    cmd = [
        sys.executable, "-m", "gridcast.cli", "demo", "--epochs", "2", "--state-dir", str(state),
        "--hold", "--train-epochs", "3",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=project_root
    )
    lines: list[str] = []
    deadline = time.monotonic() + 1200
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("holding:"):
            break
    output = "\n".join(lines)
    try:
        assert lines and lines[-1].startswith("holding:"), output
        yield output, state
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
        print(output + "\n" + (rest or ""))
        assert proc.returncode in (0, 130), rest


def test_demo_summary_agrees_with_chain_and_api(demo_run) -> None:  # type: ignore[no-untyped-def]
    output, state = demo_run
    rows = {m["label"].strip(): m for m in map(ROW.match, output.splitlines()) if m}
    assert {"lstm", "seasonal-naive", "mstl", "bad (constant)"} <= set(rows), output
    rpc = re.search(r"chain RPC: (\S+)", output)
    api = re.search(r"GraphQL API: (\S+)", output)
    assert rpc and api, output
    w3 = Web3(Web3.HTTPProvider(rpc.group(1)))
    run_dir = next(p for p in state.iterdir() if (p / "deployment.json").exists())
    from gridcast.chain.deployment import Deployment

    dep = Deployment.load(run_dir / "deployment.json")
    token = dep.contract(w3, "GridToken")
    staking = dep.contract(w3, "OperatorStaking")
    from gridcast.chain.keys import dev_account
    from gridcast.demo.run import OPERATORS

    data = _post(
        api.group(1),
        "{ operators(first: 100) { id totalRewards totalSlashed forecastsRevealed } }",
    )
    assert "errors" not in data, data
    by_id = {o["id"].lower(): o for o in data["data"]["operators"]}
    total_rewards = 0.0
    for key, label, _ in OPERATORS:
        if label not in rows:
            continue
        row = rows[label]
        address = dev_account(key, 31337).address
        balance = token.functions.balanceOf(address).call()
        stake = staking.functions.stakeOf(address).call()
        assert float(row["total"]) == pytest.approx((balance + stake) / TOKEN, abs=1e-4)
        api_op = by_id[address.lower()]
        assert float(row["rewards"]) == pytest.approx(int(api_op["totalRewards"]) / TOKEN, abs=1e-4)
        assert float(row["slashed"]) == pytest.approx(int(api_op["totalSlashed"]) / TOKEN, abs=1e-4)
        assert int(row["forecasts"]) == api_op["forecastsRevealed"]
        total_rewards += float(row["rewards"])
    assert total_rewards > 0, "nobody earned anything: no epoch was settled"
    assert int(rows["lstm"]["scored"]) >= 1, output
