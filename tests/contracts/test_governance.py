"""Governance on anvil: GRID holders change a feed's reward through GridGovernor and GridTimelock,
and the change applies only to epochs beyond the registry's commit horizon, never to epochs
already open for commitment."""

from __future__ import annotations

from pathlib import Path

from eth_utils import keccak
from web3 import Web3

from gridcast.chain.commitments import Curve
from gridcast.chain.deployment import GOVERNANCE_PROFILES, FeedParams, role
from gridcast.localnet import DEMAND, LocalMarket, bootstrap
from gridcast.node import AnvilNode

TOKEN = 10**18
EPOCH, ROUND = 60, 4
NEW_REWARD = 3 * TOKEN
# Proposal states (IGovernor.ProposalState)
PENDING, ACTIVE, SUCCEEDED, QUEUED, EXECUTED = 0, 1, 4, 5, 7


def _now(node: AnvilNode) -> int:
    return int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]


def _warp(node: AnvilNode, t: int) -> None:
    node.rpc("evm_setNextBlockTimestamp", [max(t, _now(node) + 1)])
    node.rpc("evm_mine")


def _mine(node: AnvilNode, blocks: int) -> None:
    node.rpc("anvil_mine", [hex(blocks)])


def _settled_rewards(lm: LocalMarket, node: AnvilNode, feed: bytes, epochs: list[int]) -> list[int]:
    """One operator commits and reveals each epoch; the admin reports the truth and settles; the
    epochs' rewards."""
    registry, settlement = lm.contract("ForecastRegistry"), lm.contract("Settlement")
    op = lm.operators[0]
    curves = [Curve(feed, op.address, e, [5_000], [4_900], [5_100], b"\x11" * 32) for e in epochs]

    def deadline(e: int) -> int:
        return int(registry.functions.commitDeadline(feed, e).call())

    for e, c in zip(epochs, curves, strict=True):
        _warp(node, deadline(e) - EPOCH * ROUND)
        op.transact(registry, "commit", feed, e, c.commitments())
    for e, c in zip(epochs, curves, strict=True):
        _warp(node, deadline(e))
        op.transact(registry, "reveal", feed, op.address, e, c.opening())
    for e in epochs:
        _warp(node, int(registry.functions.epochEnd(feed, e).call()))
        lm.admin.transact(settlement, "submitTruth", feed, e, 5_000, b"\x22" * 32)
    _warp(node, _now(node) + 60)
    for e in epochs:
        lm.admin.transact(settlement, "settle", feed, e, [op.address], [e])
    return [int(settlement.functions.resultOf(feed, e).call()[0]) for e in epochs]


def test_a_proposal_changes_the_reward_of_later_epochs_only(anvil: AnvilNode, tmp_path: Path):
    lm = bootstrap(
        anvil.url,
        tmp_path,
        operator_keys=[1],
        genesis=_now(anvil) + 600,
        epoch_length=EPOCH,
        epochs_per_round=ROUND,
        feeds=(DEMAND,),
        reveal_window=120,
        lead_time=60,
        dispute_window=30,
        truth_timeout=3600,
    )
    dep, admin = lm.deployment, lm.admin
    w3 = admin.w3
    token, registry = lm.contract("GridToken"), lm.contract("ForecastRegistry")
    governor, timelock = dep.contract(w3, "GridGovernor"), dep.contract(w3, "GridTimelock")
    feed_hex, old = next(iter(lm.params.items()))
    feed = bytes.fromhex(feed_hex[2:])
    # The timelock, not the deployer alone, now holds the feed-admin role.
    assert registry.functions.hasRole(role("FEED_ADMIN_ROLE"), timelock.address).call()
    assert timelock.functions.hasRole(role("PROPOSER_ROLE"), governor.address).call()

    admin.transact(token, "delegate", admin.address)
    _mine(anvil, 1)
    new = FeedParams(**{**old.__dict__, "reward_per_epoch": NEW_REWARD})
    calldata = registry.encode_abi("setFeedParams", args=[feed, new.as_tuple()])
    targets, values, calldatas = [registry.address], [0], [calldata]
    description = "Lower the demand feed's reward to 3 GRID per epoch"
    admin.transact(governor, "propose", targets, values, calldatas, description)
    desc_hash = keccak(text=description)
    pid = governor.functions.hashProposal(targets, values, calldatas, desc_hash).call()
    assert governor.functions.state(pid).call() == PENDING
    profile = GOVERNANCE_PROFILES["dev"]
    _mine(anvil, profile.voting_delay_blocks + 1)
    assert governor.functions.state(pid).call() == ACTIVE
    admin.transact(governor, "castVote", pid, 1)
    _mine(anvil, profile.voting_period_blocks + 1)
    assert governor.functions.state(pid).call() == SUCCEEDED
    admin.transact(governor, "queue", targets, values, calldatas, desc_hash)
    assert governor.functions.state(pid).call() == QUEUED
    _warp(anvil, _now(anvil) + profile.timelock_delay_s + 1)
    receipt = admin.transact(governor, "execute", targets, values, calldatas, desc_hash)
    assert receipt is not None and receipt["status"] == 1
    assert governor.functions.state(pid).call() == EXECUTED

    start = int(registry.functions.paramsFrom(feed).call())
    current = int(registry.functions.currentEpoch(feed).call())
    # Every epoch that commitments can reach keeps the old reward; the change starts after them.
    assert start > current + 1
    assert start % ROUND == 0
    at = FeedParams.from_tuple
    assert at(registry.functions.feedParamsAt(feed, start - 1).call()).reward_per_epoch == (
        old.reward_per_epoch
    )
    assert at(registry.functions.feedParamsAt(feed, start).call()).reward_per_epoch == NEW_REWARD
    # And settlement pays accordingly: the epoch before the change the old reward, from it the new.
    rewards = _settled_rewards(lm, anvil, feed, [start - 1, start])
    assert rewards == [old.reward_per_epoch, NEW_REWARD]
    assert Web3.is_address(dep.governor) and Web3.is_address(dep.timelock)


def test_gov_cli_runs_a_proposal_and_refuses_an_unknown_one(
    anvil: AnvilNode, tmp_path: Path, monkeypatch
):
    from typer.testing import CliRunner

    from gridcast.cli import app
    from gridcast.settings import get_settings

    lm = bootstrap(
        anvil.url,
        tmp_path,
        operator_keys=[1],
        genesis=_now(anvil) + 600,
        epoch_length=EPOCH,
        epochs_per_round=ROUND,
        feeds=(DEMAND,),
    )
    monkeypatch.setenv("GRIDCAST_RPC_URL", anvil.url)
    monkeypatch.setenv("GRIDCAST_DEPLOYMENT_FILE", str(tmp_path / "deployment.json"))
    get_settings.cache_clear()
    runner = CliRunner()

    def gov(*args: str) -> str:
        result = runner.invoke(app, ["gov", *args])
        assert result.exit_code == 0, result.output
        return result.output

    feed_hex = next(iter(lm.params))
    profile = GOVERNANCE_PROFILES["dev"]
    gov("delegate", "--dev-key", "0")
    out = gov(
        "propose",
        "--feed",
        feed_hex,
        "--set",
        '{"reward_per_epoch": 1}',
        "--description",
        "cli",
        "--dev-key",
        "0",
    )
    pid = out.split()[-1]
    assert "Pending" in gov("status", pid)
    _mine(anvil, profile.voting_delay_blocks + 1)
    gov("vote", pid, "--support", "for", "--dev-key", "0")
    _mine(anvil, profile.voting_period_blocks + 1)
    gov("queue", pid, "--dev-key", "0")
    _warp(anvil, _now(anvil) + profile.timelock_delay_s + 1)
    gov("execute", pid, "--dev-key", "0")
    assert '"state": "Executed"' in gov("status", pid, "--json")
    registry = lm.contract("ForecastRegistry")
    assert registry.functions.feedParams(bytes.fromhex(feed_hex[2:])).call()[12] == 1
    bad = runner.invoke(app, ["gov", "vote", "12345", "--dev-key", "0"])
    assert bad.exit_code == 2 and "no proposal 12345" in bad.output
    assert "Traceback" not in bad.output
    monkeypatch.setenv("GRIDCAST_DEPLOYMENT_FILE", str(tmp_path / "missing.json"))
    get_settings.cache_clear()
    missing = runner.invoke(app, ["gov", "status"])
    assert missing.exit_code == 2 and "no deployment file" in missing.output
    get_settings.cache_clear()
