"""The Ape scripts (`ape run deploy`, register_feed, set_params, pause, grant_role,
resolve_dispute) and the console extras.

`ape run deploy` runs once as a real subprocess against an anvil node (started at module setup, so
Ape's slow start overlaps the in-process tests). Every script's click command is also invoked
in-process on Ape's test chain, where the on-chain effect of each is checked through the contracts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from web3 import Web3

from gridcast.chain.commitments import feed_id
from gridcast.chain.deployment import Deployment, FeedParams, role
from gridcast.node import AnvilNode
from gridcast.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
REPORTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil / Ape test account 1
ARBITER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # account 2
E18 = 10**18


@pytest.fixture(scope="module")
def ape_run_deploy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, Any]]:
    """Starts `ape run deploy` against a fresh anvil; yields (process, deployment file, node)."""
    path = tmp_path_factory.mktemp("ape-deploy") / "deployment.json"
    env = {**os.environ, "GRIDCAST_DEPLOYMENT_FILE": str(path)}
    with AnvilNode() as node:
        cmd = [str(Path(sys.executable).parent / "ape"), "run", "deploy", "--network", node.url]
        cmd += ["--account", "TEST::0", "--reporter", REPORTER, "--arbiter", ARBITER]
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield proc, path, node
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture
def deployment_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Points the settings (read once per process) at a private deployment file."""
    path = tmp_path / "deployment.json"
    monkeypatch.setenv("GRIDCAST_DEPLOYMENT_FILE", str(path))
    monkeypatch.syspath_prepend(str(ROOT))  # `scripts._gridcast` is imported as a package
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _invoke(script: str, *args: str) -> str:
    """Runs scripts/<script>.py's click command in-process on Ape's test chain."""
    module = __import__(f"scripts.{script}", fromlist=["cli"])
    result = CliRunner().invoke(module.cli, ["--network", "ethereum:local:test", *args])
    assert result.exit_code == 0, f"{script}: {result.output}\n{result.exception!r}"
    return result.output


def _params(genesis: int, **overrides: int) -> dict[str, int]:
    base = {
        "genesis": genesis,
        "epoch_length": 900,
        "epochs_per_round": 4,
        "reveal_window": 300,
        "lead_time": 300,
        "truth_timeout": 3_600,
        "dispute_window": 600,
        "decimals": 3,
        "max_forecasts_per_epoch": 16,
        "slash_bps": 1_000,
        "non_reveal_slash_bps": 500,
        "min_stake": 100 * E18,
        "reward_per_epoch": 10 * E18,
        "dispute_bond": 5 * E18,
        "tolerance": 1_000,
        "slash_threshold": 3_000,
    }
    base.update(overrides)
    return base


def test_ape_run_deploy_on_anvil_writes_deployment_and_wires_roles(ape_run_deploy):
    proc, path, node = ape_run_deploy
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    dep = Deployment.load(path)
    assert dep.chain_id == node.chain_id
    assert dep.admin == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    w3 = Web3(Web3.HTTPProvider(node.url))
    assert dep.block <= w3.eth.block_number
    for address in dep.addresses.values():
        assert len(w3.eth.get_code(Web3.to_checksum_address(address))) > 0
    staking = dep.contract(w3, "OperatorStaking")
    settlement = dep.contract(w3, "Settlement")
    registry = dep.contract(w3, "ForecastRegistry")
    assert staking.functions.hasRole(role("SLASHER_ROLE"), dep.settlement).call()
    assert settlement.functions.hasRole(role("TRUTH_REPORTER_ROLE"), REPORTER).call()
    assert settlement.functions.hasRole(role("ARBITER_ROLE"), ARBITER).call()
    assert registry.functions.hasRole(role("FEED_ADMIN_ROLE"), dep.admin).call()
    # Governance as deploy_all wires it: the timelock holds the governed roles.
    assert dep.governor and dep.timelock
    assert registry.functions.hasRole(role("FEED_ADMIN_ROLE"), dep.timelock).call()
    assert staking.functions.hasRole(role("DEFAULT_ADMIN_ROLE"), dep.timelock).call()
    assert settlement.functions.token().call() == dep.token
    assert json.loads(path.read_text())["registry"] == dep.registry


def test_admin_scripts_change_the_chain(deployment_file, accounts, chain, project):
    admin, reporter, arbiter, disputer = accounts[0], accounts[1], accounts[2], accounts[3]
    out = _invoke(
        "deploy",
        "--account",
        "TEST::0",
        "--reporter",
        reporter.address,
        "--arbiter",
        arbiter.address,
        "--unbonding-delay",
        "60",
    )
    assert "deployed on chain" in out
    dep = Deployment.load(deployment_file)
    token = project.GridToken.at(dep.token)
    staking = project.OperatorStaking.at(dep.staking)
    registry = project.ForecastRegistry.at(dep.registry)
    settlement = project.Settlement.at(dep.settlement)
    assert staking.unbondingDelay() == 60
    assert settlement.hasRole(role("ARBITER_ROLE"), arbiter)

    genesis = (int(chain.pending_timestamp) // 900 + 4) * 900
    out = _invoke(
        "register_feed",
        "--account",
        "TEST::0",
        "--region",
        "nsw",
        "--metric",
        "solar",
        "--resolution",
        "900",
        "--params",
        json.dumps(_params(genesis)),
    )
    fid = feed_id("nsw", "solar", 900)
    assert out.strip().endswith("0x" + fid.hex())
    assert FeedParams.from_tuple(registry.feedParams(fid)).genesis == genesis

    _invoke(
        "set_params",
        "--account",
        "TEST::0",
        "--feed",
        "0x" + fid.hex(),
        "--set",
        json.dumps({"reward_per_epoch": 7, "dispute_bond": 2 * E18}),
    )
    p = FeedParams.from_tuple(registry.feedParams(fid))
    assert (p.reward_per_epoch, p.dispute_bond, p.genesis) == (7, 2 * E18, genesis)
    # The change applies from the first round beyond the commit horizon; epoch 0 keeps its params.
    assert registry.paramsFrom(fid) > 0
    assert FeedParams.from_tuple(registry.feedParamsAt(fid, 0)).dispute_bond == 5 * E18
    bad = CliRunner().invoke(
        __import__("scripts.set_params", fromlist=["cli"]).cli,
        [
            "--network",
            "ethereum:local:test",
            "--account",
            "TEST::0",
            "--feed",
            "0x" + fid.hex(),
            "--set",
            json.dumps({"no_such_field": 1}),
        ],
    )
    assert bad.exit_code != 0 and "no_such_field" in bad.output

    _invoke("pause", "--account", "TEST::0", "--feed", "0x" + fid.hex())
    assert registry.feedInfo(fid)[3] is True
    _invoke("pause", "--account", "TEST::0", "--feed", "0x" + fid.hex(), "--unpause")
    assert registry.feedInfo(fid)[3] is False
    _invoke("pause", "--account", "TEST::0", "--contract", "settlement")
    assert settlement.paused()
    _invoke("pause", "--account", "TEST::0", "--contract", "settlement", "--unpause")
    assert not settlement.paused()

    _invoke(
        "grant_role",
        "--account",
        "TEST::0",
        "--contract",
        "settlement",
        "--role",
        "TRUTH_REPORTER_ROLE",
        "--to",
        disputer.address,
    )
    assert settlement.hasRole(role("TRUTH_REPORTER_ROLE"), disputer)
    _invoke(
        "grant_role",
        "--account",
        "TEST::0",
        "--contract",
        "settlement",
        "--role",
        "TRUTH_REPORTER_ROLE",
        "--to",
        disputer.address,
        "--revoke",
    )
    assert not settlement.hasRole(role("TRUTH_REPORTER_ROLE"), disputer)

    # A disputed truth for epoch 0, then the arbiter upholds the dispute through the script.
    chain.pending_timestamp = genesis + 900
    bond = 5 * E18  # epoch 0's bond, not the one set above for later epochs
    for who in (reporter, disputer):
        token.mint(who, bond, sender=admin)
        token.approve(settlement, bond, sender=who)
    settlement.submitTruth(fid, 0, 5_000, b"\x01" * 32, sender=reporter)
    settlement.dispute(fid, 0, 4_000, sender=disputer)
    out = _invoke(
        "resolve_dispute",
        "--account",
        "TEST::2",
        "--feed",
        "0x" + fid.hex(),
        "--epoch",
        "0",
        "--upheld",
        "--value",
        "4000",
    )
    assert "upheld" in out
    assert settlement.truthOf(fid, 0).value == 4_000
    assert settlement.balanceOf(disputer) == 2 * bond


def test_console_extras_load_the_deployment_and_helpers_work(deployment_file, accounts, chain):
    import ape_console_extras

    without = ape_console_extras.ape_init_extras()
    assert set(without) == {"feed_id", "role"}  # no deployment yet: helpers only, no crash
    _invoke("deploy", "--account", "TEST::0")
    extras = ape_console_extras.ape_init_extras()
    dep = Deployment.load(deployment_file)
    assert extras["registry"].address == dep.registry
    assert extras["feed_id"]("vic", "demand", 900) == feed_id("vic", "demand", 900)
    admin, someone = accounts[0], accounts[4]
    extras["grant"]("settlement", "ARBITER_ROLE", someone.address, admin)
    assert extras["settlement"].hasRole(extras["role"]("ARBITER_ROLE"), someone)
    genesis = (int(chain.pending_timestamp) // 900 + 4) * 900
    extras["registry"].registerFeed(
        "vic", "demand", 900, FeedParams(**_params(genesis)).as_tuple(), sender=admin
    )
    fid = feed_id("vic", "demand", 900)
    extras["pause_feed"](fid, admin)
    assert extras["registry"].feedInfo(fid)[3] is True
