"""`ape run grant_role`: grant (or revoke) a role on one of the contracts."""

import click
from ape.cli import ConnectedProviderCommand, account_option

from gridcast.chain.deployment import role
from scripts._gridcast import contracts


@click.command(cls=ConnectedProviderCommand, help="Grant or revoke a role.")
@account_option()
@click.option(
    "--contract", type=click.Choice(["token", "registry", "staking", "settlement"]), required=True
)
@click.option("--role", "role_name", required=True, help="e.g. TRUTH_REPORTER_ROLE, ARBITER_ROLE.")
@click.option("--to", "who", required=True, help="Account address.")
@click.option("--revoke", is_flag=True)
def cli(account, contract, role_name, who, revoke):  # type: ignore[no-untyped-def]
    target = contracts()[contract]
    r = b"\x00" * 32 if role_name == "DEFAULT_ADMIN_ROLE" else role(role_name)
    (target.revokeRole if revoke else target.grantRole)(r, who, sender=account)
    click.echo(f"{'revoked' if revoke else 'granted'} {role_name} for {who} on {contract}")
