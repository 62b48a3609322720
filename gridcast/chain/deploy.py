"""Deploy and wire the four contracts through a Submitter (web3), and admin tasks on feeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from web3.contract import Contract

from gridcast.chain import abi as abis
from gridcast.chain.commitments import feed_id
from gridcast.chain.deployment import (
    GOVERNANCE_PROFILES,
    GOVERNED_ROLES,
    MAX_SLASH_PER_EPOCH_BPS,
    UNBONDING_DELAY_S,
    Deployment,
    FeedParams,
    role,
)
from gridcast.chain.submitter import Submitter


def deploy_all(
    admin: Submitter,
    *,
    unbonding_delay_s: int = UNBONDING_DELAY_S,
    max_slash_per_epoch_bps: int = MAX_SLASH_PER_EPOCH_BPS,
    truth_reporters: Sequence[str] = (),
    arbiters: Sequence[str] = (),
    governance: str | None = "dev",
) -> Deployment:
    """Deploy GridToken → OperatorStaking → ForecastRegistry → Settlement and grant the roles:
    Settlement slashes; the registry locks the stake behind commitments; reporters submit truth;
    arbiters resolve disputes."""
    w3 = admin.w3
    start_block = int(w3.eth.block_number) + 1
    me = admin.address
    token = admin.deploy(abis.abi("GridToken"), abis.bytecode("GridToken"), me)
    staking = admin.deploy(
        abis.abi("OperatorStaking"),
        abis.bytecode("OperatorStaking"),
        token,
        me,
        unbonding_delay_s,
        max_slash_per_epoch_bps,
    )
    registry = admin.deploy(
        abis.abi("ForecastRegistry"), abis.bytecode("ForecastRegistry"), staking, me
    )
    settlement = admin.deploy(
        abis.abi("Settlement"), abis.bytecode("Settlement"), token, registry, staking, me
    )
    dep = Deployment(
        chain_id=admin.chain_id,
        block=start_block,
        admin=me,
        token=token,
        staking=staking,
        registry=registry,
        settlement=settlement,
    )
    staking_c = dep.contract(w3, "OperatorStaking")
    settlement_c = dep.contract(w3, "Settlement")
    admin.transact(staking_c, "grantRole", role("SLASHER_ROLE"), settlement)
    admin.transact(staking_c, "grantRole", role("LOCKER_ROLE"), registry)
    for account in truth_reporters:
        admin.transact(settlement_c, "grantRole", role("TRUTH_REPORTER_ROLE"), account)
    for account in arbiters:
        admin.transact(settlement_c, "grantRole", role("ARBITER_ROLE"), account)
    if governance is not None:
        dep = deploy_governance(admin, dep, governance)
    return dep


def deploy_governance(
    admin: Submitter, dep: Deployment, profile: str = "dev", *, renounce: bool = False
) -> Deployment:
    """Deploy GridTimelock and GridGovernor (settings from GOVERNANCE_PROFILES[profile]): the
    governor is the timelock's only proposer and canceller, anyone executes; the timelock receives
    GOVERNED_ROLES. With `renounce`, the deployer gives up those roles, leaving token holders as
    the only admin (the dev profile keeps them, so local tools can still register feeds)."""
    if profile not in GOVERNANCE_PROFILES:
        raise ValueError(f"unknown governance profile {profile!r}: {sorted(GOVERNANCE_PROFILES)}")
    g = GOVERNANCE_PROFILES[profile]
    w3 = admin.w3
    zero = "0x" + "00" * 20
    timelock = admin.deploy(
        abis.abi("GridTimelock"),
        abis.bytecode("GridTimelock"),
        g.timelock_delay_s,
        [],
        [zero],
        admin.address,
    )
    governor = admin.deploy(
        abis.abi("GridGovernor"),
        abis.bytecode("GridGovernor"),
        dep.token,
        timelock,
        g.voting_delay_blocks,
        g.voting_period_blocks,
        g.proposal_threshold,
        g.quorum_percent,
    )
    dep = replace(dep, governor=governor, timelock=timelock)
    timelock_c = dep.contract(w3, "GridTimelock")
    for name in ("PROPOSER_ROLE", "CANCELLER_ROLE"):
        admin.transact(timelock_c, "grantRole", role(name), governor)
    for contract, name in GOVERNED_ROLES:
        admin.transact(dep.contract(w3, contract), "grantRole", role(name), timelock)
    if renounce:
        for contract, name in GOVERNED_ROLES:
            admin.transact(dep.contract(w3, contract), "renounceRole", role(name), admin.address)
    # The timelock administers itself from here on.
    admin.transact(timelock_c, "renounceRole", role("DEFAULT_ADMIN_ROLE"), admin.address)
    return dep


def register_feed(
    admin: Submitter,
    registry: Contract,
    region: str,
    metric: str,
    resolution_s: int,
    params: FeedParams,
) -> bytes:
    admin.transact(registry, "registerFeed", region, metric, resolution_s, params.as_tuple())
    return feed_id(region, metric, resolution_s)


def fund_and_stake(
    admin: Submitter, operator: Submitter, token: Contract, staking: Contract, amount: int
) -> None:
    """Mint `amount` to the operator and stake it (local chains / demo)."""
    admin.transact(token, "mint", operator.address, amount)
    operator.transact(token, "approve", staking.address, amount)
    operator.transact(staking, "stake", amount)
