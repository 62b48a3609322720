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


EX_ROW = re.compile(
    r"^(?P<label>.+?)\s{2,}(?P<role>producer|load|market)\s+(?P<sold>\d+)\s+(?P<bought>\d+)\s+"
    r"(?P<delivered>\d+)\s+(?P<received>[\d.]+)\s+(?P<paid>[\d.]+)\s+(?P<penalty>[\d.]+)\s+"
    r"(?P<minted>\d+)\s+(?P<retired>\d+)$"
)
CLEARING = re.compile(r"^clearing: epoch (\d+) price ([\d.]+) GRID/kWh volume (\d+) Wh$", re.M)
CERTIFICATES = re.compile(r"^certificates: minted (\d+) Wh, retired (\d+) Wh for (.+) \(", re.M)


def test_demo_exchange_summary_agrees_with_chain_and_api(demo_run) -> None:  # type: ignore[no-untyped-def]
    """Three producers and two loads traded: the summary's Wh, GRID, penalties, clearing prices
    and certificates are the chain's events, and the API's indexed exchange says the same."""
    from collections import defaultdict

    from gridcast.chain.deployment import Deployment
    from gridcast.demo.exchange import BENEFICIARY, LOADS, PRODUCERS, demo_account

    output, run_dir, w3, post = demo_run
    rows = {m["label"].strip(): m for m in map(EX_ROW.match, output.splitlines()) if m}
    labels = [p.label for p in PRODUCERS] + [ld.label for ld in LOADS]
    assert set(labels) <= set(rows), output
    dep = Deployment.load(run_dir / "deployment.json")
    exchange = dep.contract(w3, "EnergyExchange")
    certificates = dep.contract(w3, "EnergyCertificates")
    chain: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for ev in exchange.events.OrderSettled().get_logs(from_block=dep.block):
        a, d = ev.args, chain[ev.args.trader]
        if a.isSell:
            d["sold"] += a.filledWh
            d["delivered"] += a.deliveredWh
            d["received"] += a.amount
        else:
            d["bought"] += a.filledWh
            d["paid"] += a.amount
        d["penalty"] += a.adjustment
    for ev in certificates.events.DeliveryCertified().get_logs(from_block=dep.block):
        chain[ev.args.owner]["minted"] += sum(ev.args.energyWh)
    retirements = certificates.events.CertificatesRetired().get_logs(from_block=dep.block)
    for ev in retirements:
        chain[ev.args.account]["retired"] += ev.args.energyWh
    for label in labels:
        row, d = rows[label], chain[demo_account(label).address]
        for key in ("sold", "bought", "delivered", "minted", "retired"):
            assert int(row[key]) == d[key], (label, key, row[key], d[key])
        for key in ("received", "paid", "penalty"):
            assert float(row[key]) == pytest.approx(d[key] / TOKEN, abs=1e-4), (label, key)
    producers = [chain[demo_account(p.label).address] for p in PRODUCERS]
    loads = [chain[demo_account(ld.label).address] for ld in LOADS]
    assert sum(p["sold"] for p in producers) > 0, "nothing was traded"
    assert sum(p["delivered"] for p in producers) > 0 and sum(ld["bought"] for ld in loads) > 0
    # The green certificates: minted to the producers, the first retires some for the beneficiary.
    assert sum(p["minted"] for p in producers) > 0 and producers[0]["retired"] > 0
    assert {ev.args.beneficiary for ev in retirements} == {BENEFICIARY}
    m = CERTIFICATES.search(output)
    assert m and (int(m[1]), int(m[2])) == (
        sum(p["minted"] for p in producers),
        sum(ev.args.energyWh for ev in retirements),
    )
    # What is left on the producers' certificates is minted - retired (ERC-1155 balances).
    zero = "0x" + "00" * 20
    minted_to = {
        (ev.args.to, ev.args.id)
        for ev in certificates.events.TransferSingle().get_logs(from_block=dep.block)
        if ev.args["from"] == zero
    } | {
        (ev.args.to, cid)
        for ev in certificates.events.TransferBatch().get_logs(from_block=dep.block)
        if ev.args["from"] == zero
        for cid in ev.args.ids
    }
    held = sum(certificates.functions.balanceOf(to, cid).call() for to, cid in minted_to)
    assert held == int(m[1]) - int(m[2])
    cleared = sorted(
        (ev.args.epoch, ev.args.price, ev.args.volume)
        for ev in exchange.events.BookCleared().get_logs(from_block=dep.block)
    )
    printed = [(int(e), float(p), int(v)) for e, p, v in CLEARING.findall(output)]
    assert [(e, v) for e, _, v in printed] == [(e, v) for e, _, v in cleared]
    for (_, p, _), (_, price, _) in zip(printed, cleared, strict=True):
        assert p == pytest.approx(price * 1000 / TOKEN, abs=1e-6)

    # The API's indexed exchange and certificates say the same.
    data = post(
        "{ exchangeAccounts(first: 100) { id soldWh deliveredWh boughtWh proceeds spent"
        " penaltiesPaid compensation } retirements(first: 100) { account energyWh beneficiary }"
        " exchangeClearings(first: 100) { epoch price volumeWh } }"
    )
    assert "errors" not in data, data
    accounts = {a["id"].lower(): a for a in data["data"]["exchangeAccounts"]}
    for label in labels:
        d = chain[demo_account(label).address]
        a = accounts[demo_account(label).address.lower()]
        assert (int(a["soldWh"]), int(a["deliveredWh"]), int(a["boughtWh"])) == (
            d["sold"], d["delivered"], d["bought"],
        )  # fmt: skip
        assert (int(a["proceeds"]), int(a["spent"])) == (d["received"], d["paid"])
        assert int(a["penaltiesPaid"]) + int(a["compensation"]) == d["penalty"]
    api_retired = sorted(
        (r["account"].lower(), int(r["energyWh"])) for r in data["data"]["retirements"]
    )
    assert api_retired == sorted((ev.args.account.lower(), ev.args.energyWh) for ev in retirements)
    api_cleared = sorted(
        (int(c["epoch"]), int(c["price"]), int(c["volumeWh"]))
        for c in data["data"]["exchangeClearings"]
    )
    assert api_cleared == cleared
