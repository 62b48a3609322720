"""`gridcast demo --epochs 2 --exit` end to end: it ends by itself, and the printed summary agrees
with the chain and the API it leaves behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

TOKEN = 10**18
ROW = re.compile(
    r"^(?P<label>.+?)\s{2,}(?P<forecasts>\d+)\s+(?P<scored>\d+)\s+(?P<mase>[\d.]+|-)\s+"
    r"(?P<rewards>[\d.]+)\s+(?P<slashed>[\d.]+)\s+(?P<total>[\d.]+)$"
)


# Training the LSTMs (first run only) on a loaded 2-core machine can take most of this.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def demo_run(  # type: ignore[no-untyped-def]
    tmp_path_factory: pytest.TempPathFactory, project_root: Path, fresh_database, redis_url: str
):
    """`gridcast demo --epochs 2 --exit` ends by itself; then the chain it left (anvil's dumped
    state, loaded into a new anvil) and the database it indexed (served by a new API) are checked
    against the summary it printed."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from gridcast.node import AnvilNode
    from gridcast.settings import Settings

    state = tmp_path_factory.mktemp("demo")
    db_url = fresh_database("gridcast_demo")
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "GRIDCAST_MODEL_DIR": str(project_root / ".gridcast" / "models"),
        "DATABASE_URL": db_url,
    }
    cmd = [
        sys.executable, "-m", "gridcast.cli", "demo", "--epochs", "2", "--state-dir", str(state),
        "--exit", "--train-epochs", "3",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=project_root,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=1500)
    finally:
        if proc.poll() is None:  # interrupted or timed out: let the demo stop what it started
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(output)
    assert proc.returncode == 0, output
    run_dir = next(p for p in state.iterdir() if (p / "deployment.json").exists())
    chain_state = run_dir / "anvil-state.json"
    assert chain_state.exists(), output
    with AnvilNode(extra_args=["--load-state", str(chain_state)]) as node:
        settings = Settings(
            database_url=db_url, redis_url=redis_url, rpc_url=node.url, chain_id=31337,
            deployment_file=run_dir / "deployment.json", rate_limit_per_minute=1_000_000,
            session_secret="demo-test-" + "x" * 32,
        )  # fmt: skip
        with TestClient(create_app(settings)) as client:

            def post(query: str) -> dict:  # type: ignore[type-arg]
                return client.post("/graphql", json={"query": query}).json()  # type: ignore[no-any-return]

            yield output, run_dir, Web3(Web3.HTTPProvider(node.url)), post


def test_demo_summary_agrees_with_chain_and_api(demo_run) -> None:  # type: ignore[no-untyped-def]
    output, run_dir, w3, post = demo_run
    rows = {m["label"].strip(): m for m in map(ROW.match, output.splitlines()) if m}
    assert {"lstm", "seasonal-naive", "mstl", "bad (constant)"} <= set(rows), output
    assert re.search(r"GraphQL API: (\S+)", output), output
    assert "Dashboard:" not in output  # --exit: nothing stays up to point at
    from gridcast.chain.deployment import Deployment

    dep = Deployment.load(run_dir / "deployment.json")
    token = dep.contract(w3, "GridToken")
    staking = dep.contract(w3, "OperatorStaking")
    from gridcast.chain.keys import dev_account
    from gridcast.demo.run import OPERATORS

    data = post("{ operators(first: 100) { id totalRewards totalSlashed forecastsRevealed } }")
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
