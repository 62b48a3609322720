"""`ape run pause`: pause or unpause one feed, or a whole contract."""

import click
from ape.cli import ConnectedProviderCommand, account_option

from scripts._gridcast import contracts


@click.command(cls=ConnectedProviderCommand, help="Pause/unpause a feed or a contract.")
@account_option()
@click.option("--feed", default=None, help="Feed id (0x…); omit to pause a whole contract.")
@click.option(
    "--contract", type=click.Choice(["registry", "staking", "settlement"]), default="registry"
)
@click.option("--unpause", is_flag=True, help="Resume instead of pausing.")
def cli(account, feed, contract, unpause):  # type: ignore[no-untyped-def]
    c = contracts()
    if feed:
        fn = c["registry"].unpauseFeed if unpause else c["registry"].pauseFeed
        fn(feed, sender=account)
    else:
        target = c[contract]
        (target.unpause if unpause else target.pause)(sender=account)
    click.echo("done")
