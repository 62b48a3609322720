"""`ape run register_feed`: register a feed (region, metric, resolution) with its parameters."""

import json

import click
from ape.cli import ConnectedProviderCommand, account_option

from gridcast.chain.commitments import feed_id
from gridcast.chain.deployment import FeedParams
from scripts._gridcast import contracts


@click.command(cls=ConnectedProviderCommand, help="Register a feed.")
@account_option()
@click.option("--region", required=True)
@click.option("--metric", required=True)
@click.option("--resolution", type=int, required=True, help="Seconds.")
@click.option("--params", "params_json", required=True, help="JSON object of FeedParams fields.")
def cli(account, region, metric, resolution, params_json):  # type: ignore[no-untyped-def]
    params = FeedParams(**json.loads(params_json))
    contracts()["registry"].registerFeed(
        region, metric, resolution, params.as_tuple(), sender=account
    )
    click.echo("0x" + feed_id(region, metric, resolution).hex())
