"""`ape run deploy`: deploy and wire GridToken → OperatorStaking → ForecastRegistry → Settlement
with Ape's accounts, in the same order and with the same roles as gridcast.chain.deploy.deploy_all,
and write the deployment file that the indexer, API and oracles read."""

from __future__ import annotations

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from gridcast.chain.deployment import (
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
@click.option("--max-slash-bps", default=MAX_SLASH_PER_EPOCH_BPS, show_default=True, type=int)
def cli(account, reporters, arbiters, unbonding_delay, max_slash_bps):  # type: ignore[no-untyped-def]
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
    path = get_settings().deployment_file
    dep.save(path)
    click.echo(f"deployed on chain {dep.chain_id}: {dep.addresses}; wrote {path}")
