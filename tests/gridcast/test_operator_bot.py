"""The operator bot against anvil and the real contracts, with a real forecaster on real data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from web3 import Web3

from gridcast.chain.feeds import FeedView
from gridcast.chain.keys import dev_account
from gridcast.localnet import DEMAND, LocalMarket, bootstrap
from gridcast.node import AnvilNode
from gridcast.operator.bot import OperatorBot
from gridcast.operator.journal import COMMITTED, MISSED, REVEALED, Journal
from gridcast.operator.keeper import Keeper
from ml.forecaster import SeasonalNaiveForecaster
from ml.oracle_source import ForecasterSource

EPOCH = 60
ROUND = 4


def _warp(node: AnvilNode, t: int) -> None:
    latest = int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
    node.rpc("evm_setNextBlockTimestamp", [max(t, latest + 1)])
    node.rpc("evm_mine")


def _market(node: AnvilNode, state: Path, keys: list[int]) -> LocalMarket:
    now = int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
    return bootstrap(
        node.url,
        state,
        operator_keys=keys,
        genesis=now + 600,
        epoch_length=EPOCH,
        epochs_per_round=ROUND,
        feeds=(DEMAND,),
        reveal_window=120,
        lead_time=60,
        dispute_window=30,
        truth_timeout=3600,
    )


@pytest.fixture()
def market(anvil: AnvilNode, tmp_path: Path) -> LocalMarket:
    return _market(anvil, tmp_path, [1, 2])


def _truth_for(lm: LocalMarket, feed: FeedView, epoch: int) -> int:
    """The measured value of the epoch's data hour, from the same real series the oracles use."""
    from ml.datasets import load_feed

    binding = lm.market.binding(feed.feed_id)
    series = load_feed(binding.dataset)
    pos = series.position(binding.data_time(epoch))
    return feed.scale(float(series.target[pos]))


def test_full_epoch_commit_reveal_truth_settle_withdraw(
    anvil: AnvilNode, market: LocalMarket, tmp_path: Path
) -> None:
    lm = market
    w3 = lm.admin.w3
    source = ForecasterSource(SeasonalNaiveForecaster(), lm.market)
    feed_id = lm.market.feeds[0].feed_bytes
    op = lm.operators[0]
    bot = OperatorBot(op, lm.deployment, [feed_id], source, Journal(tmp_path / "j.sqlite"))
    report = bot.step()
    assert report.committed == [(bot.feeds[0].name, 0, ROUND)]
    assert not report.errors
    # a second pass does not commit the same round again
    assert bot.step().committed == []

    feed = bot.feeds[0]
    _warp(anvil, feed.commit_deadline(0))
    report = bot.step()
    assert (feed.name, 0) in report.revealed

    keeper = Keeper(lm.admin, lm.deployment, [feed_id])
    _warp(anvil, feed.reveal_deadline(0))
    assert (feed.name, 0) in keeper.step().finalized

    settlement = lm.contract("Settlement")
    _warp(anvil, feed.epoch_end(0))
    truth = _truth_for(lm, feed, 0)
    lm.admin.transact(settlement, "submitTruth", feed_id, 0, truth, b"\x01" * 32)
    _warp(anvil, feed.epoch_end(0) + lm.params[feed.hex].dispute_window + 1)
    assert (feed.name, 0) in keeper.step().settled

    token = lm.contract("GridToken")
    before = token.functions.balanceOf(op.address).call()
    report = bot.step()
    assert (feed.name, 0) in report.claimed
    assert report.withdrawn > 0
    assert token.functions.balanceOf(op.address).call() == before + report.withdrawn
    assert settlement.functions.balanceOf(op.address).call() == 0
    assert w3.eth.chain_id == 31337


def test_missed_reveal_window_is_reported_once_not_retried(
    anvil: AnvilNode, market: LocalMarket, tmp_path: Path
) -> None:
    lm = market
    feed_id = lm.market.feeds[0].feed_bytes
    journal = Journal(tmp_path / "j.sqlite")
    bot = OperatorBot(
        lm.operators[0],
        lm.deployment,
        [feed_id],
        ForecasterSource(SeasonalNaiveForecaster(), lm.market),
        journal,
    )
    bot.step()
    _warp(anvil, bot.feeds[0].reveal_deadline(0) + 1)
    first = bot.step()
    assert [m[1] for m in first.missed] == [0]
    assert [e.curve.first_epoch for e in journal.entries(MISSED)] == [0]
    assert bot.step().missed == []  # reported once, not retried forever

    # Once the epoch settles, the keeper claims for the unrevealed commitment: a penalty.
    feed = bot.feeds[0]
    settlement = lm.contract("Settlement")
    _warp(anvil, feed.epoch_end(0))
    lm.admin.transact(settlement, "submitTruth", feed_id, 0, 1000, b"\x02" * 32)
    _warp(anvil, feed.epoch_end(0) + lm.params[feed.hex].dispute_window + 1)
    keeper = Keeper(lm.admin, lm.deployment, [feed_id])
    report = keeper.step()
    assert (feed.name, 0) in report.settled
    assert report.penalized == [(feed.name, 0, lm.operators[0].address)]
    assert keeper.step().penalized == []  # once
    staking = lm.contract("OperatorStaking")
    assert staking.functions.stakeOf(lm.operators[0].address).call() < 1_000 * 10**18


def test_wrong_key_is_refused_for_relayed_commit(
    anvil: AnvilNode, market: LocalMarket, tmp_path: Path
) -> None:
    """A relayer carrying a signature of a key that is neither the operator nor its signer fails."""
    from gridcast.chain.commitments import Curve, commit_typed_data, sign_commit
    from gridcast.chain.errors import ContractRevertError

    lm = market
    registry = lm.contract("ForecastRegistry")
    feed_id = lm.market.feeds[0].feed_bytes
    operator = lm.operators[0].address
    curve = Curve(feed_id, operator, 0, [1] * ROUND, [0] * ROUND, [2] * ROUND, b"\x00" * 32)
    typed = commit_typed_data(
        31337, registry.address, operator, feed_id, 0, curve.commitments(), 0, 2**40
    )
    stranger = dev_account(7, 31337)
    with pytest.raises(ContractRevertError) as err:
        lm.admin.transact(
            registry,
            "commitWithSignature",
            operator,
            feed_id,
            0,
            curve.commitments(),
            2**40,
            sign_commit(stranger.key, typed),
        )
    assert err.value.name == "ForecastRegistryUnauthorizedSigner"


def test_kill_9_between_commit_and_reveal_still_reveals(anvil: AnvilNode, tmp_path: Path) -> None:
    lm = _market(anvil, tmp_path, [3])
    env = {
        **os.environ,
        "GRIDCAST_RPC_URL": anvil.url,
        "GRIDCAST_STATE_DIR": str(tmp_path),
        "GRIDCAST_DEPLOYMENT_FILE": str(tmp_path / "deployment.json"),
    }
    cmd = [
        sys.executable,
        "-m",
        "gridcast.cli",
        "oracle",
        "run",
        "--model",
        "seasonal-naive",
        "--dev-key",
        "3",
        "--interval",
        "0.2",
    ]
    journal_path = tmp_path / f"journal-{lm.operators[0].address}.sqlite"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if journal_path.exists() and Journal(journal_path).entries(COMMITTED):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the oracle never committed")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    feed = FeedView.read(lm.contract("ForecastRegistry"), lm.market.feeds[0].feed_bytes)
    _warp(anvil, feed.commit_deadline(0))
    once = subprocess.run([*cmd, "--once"], env=env, capture_output=True, text=True, timeout=180)
    assert once.returncode == 0, once.stdout + once.stderr
    batch = (
        lm.contract("ForecastRegistry")
        .functions.batch(feed.feed_id, lm.operators[0].address, 0)
        .call()
    )
    assert batch[3] is True  # revealed on-chain
    assert [e.curve.first_epoch for e in Journal(journal_path).entries(REVEALED)] == [0]
    assert Web3.is_address(lm.operators[0].address)


def _mine_until(node: AnvilNode, done: Callable[[], bool], what: str, timeout: float = 180) -> None:
    """Mine a block every 0.3 s (each one is a Silverback event) until `done()` holds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        node.rpc("evm_mine")
        time.sleep(0.3)


def test_silverback_runner_commits_and_reveals_per_block(anvil: AnvilNode, tmp_path: Path) -> None:
    lm = _market(anvil, tmp_path, [4])
    operator = lm.operators[0].address
    env = {
        **os.environ,
        "GRIDCAST_RPC_URL": anvil.url,
        "GRIDCAST_STATE_DIR": str(tmp_path),
        "GRIDCAST_DEPLOYMENT_FILE": str(tmp_path / "deployment.json"),
    }
    cmd = [sys.executable, "-m", "gridcast.cli", "oracle", "run", "--runner", "silverback"]
    cmd += ["--model", "seasonal-naive", "--dev-key", "4"]
    journal = Journal(tmp_path / f"journal-{operator}.sqlite")
    log_path = tmp_path / "silverback.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        _mine_until(anvil, lambda: bool(journal.entries(COMMITTED)), "a commit")
        feed = FeedView.read(lm.contract("ForecastRegistry"), lm.market.feeds[0].feed_bytes)
        _warp(anvil, feed.commit_deadline(0))
        _mine_until(anvil, lambda: bool(journal.entries(REVEALED)), "a reveal")
        assert proc.poll() is None, log_path.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    text = log_path.read_text()
    assert "via silverback" in text
    assert "WebsocketRunner" in text  # blocks came as subscriptions, not polling
    registry = lm.contract("ForecastRegistry")
    batch = registry.functions.batch(feed.feed_id, operator, 0).call()
    assert batch[3] is True  # revealed on-chain
    # Many blocks, each a pass: still one commitment per round, and round 0 revealed once.
    assert [e.curve.first_epoch for e in journal.entries(REVEALED)] == [0]
    rounds = [e.curve.first_epoch for s in (COMMITTED, REVEALED) for e in journal.entries(s)]
    assert sorted(rounds) == list(range(0, len(rounds) * ROUND, ROUND))
    watermark = int(registry.functions.nextCommittableEpoch(feed.feed_id, operator).call())
    assert watermark == len(rounds) * ROUND


def test_oracle_run_refuses_an_unknown_runner(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gridcast.cli", "oracle", "run", "--runner", "cron"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--runner must be one of loop, silverback" in out.stderr


class _NotYet:
    """A curve source with nothing yet (like the nowcast before its first window), then a curve."""

    name = "not-yet"

    def __init__(self) -> None:
        self.ready = False

    def model_hash(self, feed: FeedView) -> bytes:
        return b"\x07" * 32

    def curve(
        self, feed: FeedView, first_epoch: int, count: int
    ) -> tuple[list[int], list[int], list[int]]:
        from gridcast.errors import NotReadyError

        if not self.ready:
            raise NotReadyError(f"no nowcast for {feed.name} yet")
        return [1000] * count, [900] * count, [1100] * count


def test_a_source_that_is_not_ready_is_one_warning_while_the_bot_waits(
    market: LocalMarket, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lm = market
    source = _NotYet()
    bot = OperatorBot(
        lm.operators[0], lm.deployment, [lm.market.feeds[0].feed_bytes], source,
        Journal(tmp_path / "j.sqlite"),
    )  # fmt: skip
    with caplog.at_level("DEBUG", logger="gridcast.operator.bot"):
        for _ in range(4):
            assert bot.step().committed == []
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "waiting for" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    source.ready = True
    assert [c[1] for c in bot.step().committed] == [0]  # commits once the source has data
