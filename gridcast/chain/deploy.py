"""Deploy and wire the four contracts through a Submitter (web3), and admin tasks on feeds."""

from __future__ import annotations

from collections.abc import Sequence

from web3.contract import Contract

from gridcast.chain import abi as abis
from gridcast.chain.commitments import feed_id
from gridcast.chain.deployment import (
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
