"""`ape run resolve_dispute`: the arbiter decides an open dispute."""

import click
from ape.cli import ConnectedProviderCommand, account_option

from scripts._gridcast import contracts


@click.command(cls=ConnectedProviderCommand, help="Resolve an open truth dispute.")
@account_option()
@click.option("--feed", required=True)
@click.option("--epoch", type=int, required=True)
@click.option("--upheld/--rejected", required=True)
@click.option("--value", type=int, default=0, help="Corrected truth when upheld (scaled integer).")
def cli(account, feed, epoch, upheld, value):  # type: ignore[no-untyped-def]
    contracts()["settlement"].resolveDispute(feed, epoch, upheld, value, sender=account)
    click.echo(f"dispute on epoch {epoch} {'upheld' if upheld else 'rejected'}")
