"""`ape run deploy`: deploy and wire GridToken → OperatorStaking → ForecastRegistry → Settlement
with Ape's accounts, in the same order and with the same roles as gridcast.chain.deploy.deploy_all,
and write the deployment file that the indexer, API and oracles read."""

from __future__ import annotations

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from gridcast.chain.deployment import (
    GOVERNANCE_PROFILES,
    GOVERNED_ROLES,
    MAX_SLASH_PER_EPOCH_BPS,
    UNBONDING_DELAY_S,
    Deployment,
    role,
)
from gridcast.settings import get_settings


@click.command(cls=ConnectedProviderCommand, help="Deploy and wire the Gridcast contracts.")
@account_option()
@click.option("--reporter", "reporters", multiple=True, help="Address granted TRUTH_REPORTER_ROLE.")
@click.option("--arbiter", "arbiters", multiple=True, help="Address granted ARBITER_ROLE.")
@click.option("--unbonding-delay", default=UNBONDING_DELAY_S, show_default=True, type=int)
@click.option(
    "--governance",
    type=click.Choice([*GOVERNANCE_PROFILES, "none"]),
    default="dev",
    show_default=True,
    help="GridGovernor + GridTimelock settings profile, or none.",
)
@click.option("--max-slash-bps", default=MAX_SLASH_PER_EPOCH_BPS, show_default=True, type=int)
def cli(account, reporters, arbiters, unbonding_delay, max_slash_bps, governance):  # type: ignore[no-untyped-def]
    start_block = chain.blocks.height + 1
    token = project.GridToken.deploy(account, sender=account)
    staking = project.OperatorStaking.deploy(
        token, account, unbonding_delay, max_slash_bps, sender=account
    )
    registry = project.ForecastRegistry.deploy(staking, account, sender=account)
    settlement = project.Settlement.deploy(token, registry, staking, account, sender=account)
    staking.grantRole(role("SLASHER_ROLE"), settlement, sender=account)
    staking.grantRole(role("LOCKER_ROLE"), registry, sender=account)
    for who in reporters:
        settlement.grantRole(role("TRUTH_REPORTER_ROLE"), who, sender=account)
    for who in arbiters:
        settlement.grantRole(role("ARBITER_ROLE"), who, sender=account)
    dep = Deployment(
        chain_id=chain.chain_id,
        block=start_block,
        admin=account.address,
        token=token.address,
        staking=staking.address,
        registry=registry.address,
        settlement=settlement.address,
    )
    if governance != "none":
        dep = _governance(account, dep, governance, token, staking, registry, settlement)
    path = get_settings().deployment_file
    dep.save(path)
    click.echo(f"deployed on chain {dep.chain_id}: {dep.addresses}; wrote {path}")


def _governance(account, dep, profile, token, staking, registry, settlement):  # type: ignore[no-untyped-def]
    """As gridcast.chain.deploy.deploy_governance (without renouncing the deployer's roles)."""
    from dataclasses import replace

    g = GOVERNANCE_PROFILES[profile]
    zero = "0x" + "00" * 20
    timelock = project.GridTimelock.deploy(g.timelock_delay_s, [], [zero], account, sender=account)
    governor = project.GridGovernor.deploy(
        token,
        timelock,
        g.voting_delay_blocks,
        g.voting_period_blocks,
        g.proposal_threshold,
        g.quorum_percent,
        sender=account,
    )
    for name in ("PROPOSER_ROLE", "CANCELLER_ROLE"):
        timelock.grantRole(role(name), governor, sender=account)
    by_name = {"ForecastRegistry": registry, "OperatorStaking": staking, "Settlement": settlement}
    for contract, name in GOVERNED_ROLES:
        by_name[contract].grantRole(role(name), timelock, sender=account)
    timelock.renounceRole(role("DEFAULT_ADMIN_ROLE"), account, sender=account)
    return replace(dep, governor=governor.address, timelock=timelock.address)
