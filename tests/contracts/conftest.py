"""Ape fixtures for the contract tests: the four contracts deployed and wired once per module (Ape's
isolation reverts each test's changes), a registered feed and helpers that move chain time to the
phases of an epoch. Runs under `ape test tests/contracts` and under plain `pytest` (Ape's pytest
plugin is loaded as an entry point)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_account import Account

from gridcast.chain.commitments import Curve, commit_typed_data, feed_id, sign_commit
from gridcast.chain.deployment import MAX_SLASH_PER_EPOCH_BPS, UNBONDING_DELAY_S, FeedParams, role

E18 = 10**18
REGION, METRIC, RESOLUTION = "vic", "demand", 900
STAKE = 1_000 * E18
MODEL = b"\x11" * 32


def feed_params(genesis: int, **overrides: int) -> FeedParams:
    base: dict[str, int] = {
        "genesis": genesis,
        "epoch_length": 900,
        "epochs_per_round": 96,
        "reveal_window": 600,
        "lead_time": 600,
        "truth_timeout": 3_600,
        "dispute_window": 600,
        "decimals": 3,
        "max_forecasts_per_epoch": 64,
        "slash_bps": 1_000,
        "non_reveal_slash_bps": 500,
        "min_stake": 100 * E18,
        "reward_per_epoch": 10 * E18,
        "dispute_bond": 5 * E18,
        "tolerance": 1_000,
        "slash_threshold": 3_000,
    }
    base.update(overrides)
    return FeedParams(**base)


@dataclass
class Protocol:
    """The deployed contracts plus the helpers every test needs."""

    chain: Any
    admin: Any
    token: Any
    staking: Any
    registry: Any
    settlement: Any
    reporter: Any
    arbiter: Any
    feed: bytes
    params: FeedParams
    curves: dict[tuple[str, int], Curve] = field(default_factory=dict)

    # ---- time
    def commit_deadline(self, epoch: int) -> int:
        return int(self.registry.commitDeadline(self.feed, epoch))

    def reveal_deadline(self, epoch: int) -> int:
        return int(self.registry.revealDeadline(self.feed, epoch))

    def epoch_end(self, epoch: int) -> int:
        return int(self.registry.epochEnd(self.feed, epoch))

    def goto(self, timestamp: int) -> None:
        """Make `timestamp` the time of the next transaction."""
        self.chain.mine(timestamp=timestamp - 1)

    # ---- operators
    def fund(self, account: Any, amount: int) -> None:
        self.token.mint(account, amount, sender=self.admin)

    def stake(self, account: Any, amount: int = STAKE) -> None:
        self.fund(account, amount)
        self.token.approve(self.staking, amount, sender=account)
        self.staking.stake(amount, sender=account)

    def curve(self, operator: Any, first_epoch: int, values: list[int], width: int = 200) -> Curve:
        c = Curve(
            feed=self.feed,
            operator=operator.address,
            first_epoch=first_epoch,
            values=values,
            lowers=[v - width for v in values],
            uppers=[v + width for v in values],
            model_hash=MODEL,
        )
        self.curves[(c.operator, first_epoch)] = c
        return c

    def commit(self, operator: Any, curve: Curve) -> Any:
        return self.registry.commit(
            self.feed, curve.first_epoch, curve.commitments(), sender=operator
        )

    def reveal(self, curve: Curve, sender: Any) -> Any:
        return self.registry.reveal(
            self.feed, curve.operator, curve.first_epoch, curve.opening(), sender=sender
        )

    def signed_commit(
        self, key: bytes, operator: str, curve: Curve, deadline: int, nonce: int | None = None
    ):
        if nonce is None:
            nonce = int(self.registry.nonces(operator))
        typed = commit_typed_data(
            self.chain.chain_id,
            self.registry.address,
            operator,
            self.feed,
            curve.first_epoch,
            curve.commitments(),
            nonce,
            deadline,
        )
        return sign_commit(key, typed)

    # ---- settlement
    def revealed_set(self, epoch: int, operators: list[Any], first_epoch: int = 0):
        ops = sorted((o.address for o in operators), key=lambda a: int(a, 16))
        return ops, [first_epoch] * len(ops)

    def submit_truth(self, epoch: int, value: int) -> Any:
        bond = self.params.dispute_bond
        self.fund(self.reporter, bond)
        self.token.approve(self.settlement, bond, sender=self.reporter)
        return self.settlement.submitTruth(
            self.feed, epoch, value, b"\x22" * 32, sender=self.reporter
        )

    def fund_rewards(self, amount: int) -> None:
        self.fund(self.admin, amount)
        self.token.approve(self.settlement, amount, sender=self.admin)
        self.settlement.fundRewards(self.feed, amount, sender=self.admin)


def deploy_protocol(
    project: Any, accounts: Any, chain: Any, token_contract: Any = None
) -> Protocol:
    admin, reporter, arbiter = accounts[0], accounts[1], accounts[2]
    token = token_contract or project.GridToken.deploy(admin, sender=admin)
    staking = project.OperatorStaking.deploy(
        token, admin, UNBONDING_DELAY_S, MAX_SLASH_PER_EPOCH_BPS, sender=admin
    )
    registry = project.ForecastRegistry.deploy(staking, admin, sender=admin)
    settlement = project.Settlement.deploy(token, registry, staking, admin, sender=admin)
    staking.grantRole(role("SLASHER_ROLE"), settlement, sender=admin)
    staking.grantRole(role("LOCKER_ROLE"), registry, sender=admin)
    settlement.grantRole(role("TRUTH_REPORTER_ROLE"), reporter, sender=admin)
    settlement.grantRole(role("ARBITER_ROLE"), arbiter, sender=admin)
    genesis = (int(chain.pending_timestamp) // 900 + 8) * 900
    params = feed_params(genesis)
    registry.registerFeed(REGION, METRIC, RESOLUTION, params.as_tuple(), sender=admin)
    return Protocol(
        chain=chain,
        admin=admin,
        token=token,
        staking=staking,
        registry=registry,
        settlement=settlement,
        reporter=reporter,
        arbiter=arbiter,
        feed=feed_id(REGION, METRIC, RESOLUTION),
        params=params,
    )


@pytest.fixture(scope="module")
def proto(project: Any, accounts: Any, chain: Any) -> Protocol:
    return deploy_protocol(project, accounts, chain)


@pytest.fixture(scope="module")
def operators(accounts: Any) -> list[Any]:
    return [accounts[i] for i in range(3, 8)]


@pytest.fixture
def signer_key() -> bytes:
    return bytes(Account.create().key)
