"""`ape run set_params`: change a feed's parameters (timing base stays fixed)."""

import json
from dataclasses import fields, replace

import click
from ape.cli import ConnectedProviderCommand, account_option

from gridcast.chain.deployment import FeedParams
from scripts._gridcast import contracts, feed_params


@click.command(cls=ConnectedProviderCommand, help="Update a feed's parameters.")
@account_option()
@click.option("--feed", required=True)
@click.option(
    "--set",
    "changes",
    required=True,
    help='JSON of fields to change, e.g. {"reward_per_epoch": 5}.',
)
def cli(account, feed, changes):  # type: ignore[no-untyped-def]
    c = contracts()
    current = FeedParams.from_tuple(feed_params(c, feed))
    updates = json.loads(changes)
    unknown = set(updates) - {f.name for f in fields(FeedParams)}
    if unknown:
        raise click.BadParameter(f"unknown fields: {sorted(unknown)}")
    new = replace(current, **updates)
    c["registry"].setFeedParams(feed, new.as_tuple(), sender=account)
    click.echo(f"updated: {updates}")
