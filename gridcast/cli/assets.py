"""``gridcast assets``: the ERC-721 registry of physical energy assets (kind, capacity, feed,
location, meters). ``register`` needs the registrar role (the deployer on dev chains, governance
on public ones); ``list`` and ``show`` only read."""

from __future__ import annotations

import json
from typing import Any

import typer

from gridcast.diagnosis import exit_on_error
from gridcast.errors import fail

app = typer.Typer(help="Register and inspect energy assets (ERC-721).", no_args_is_help=True)

AccountOpt = typer.Option(None, "--account", help="Ape keystore alias of the signing key.")
DevKeyOpt = typer.Option(None, "--dev-key", help="Index of an anvil dev key (local chains only).")


def _reader() -> Any:
    from gridcast.chain.deployment import Deployment
    from gridcast.chain.market import Market
    from gridcast.chain.views import web3_for
    from gridcast.exchange.agents import Exchange
    from gridcast.settings import get_settings

    s = get_settings()
    dep = Deployment.load(s.deployment_file)
    market = Market.load(s.deployment_file.with_name("market.json"))
    return Exchange(None, dep, market, w3=web3_for(s))


@app.command()
@exit_on_error(FileNotFoundError)
def register(
    owner: str = typer.Option(..., "--owner", help="The address that receives the asset's token."),
    kind: str = typer.Option(..., "--kind", help="solar, wind, storage or load."),
    capacity_w: int = typer.Option(..., "--capacity-w", min=1, help="Capacity in watts."),
    feed: str = typer.Option(..., "--feed", help="The feed (grid area) by dataset name or 0x id."),
    meter: list[str] = typer.Option(
        ..., "--meter", help="A meter's name (repeat for each; its id is keccak256 of the name)."
    ),
    location: str = typer.Option("", "--location", help="Where it is (free text)."),
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
) -> None:
    """Register an asset and mint its token to --owner; prints the asset id."""
    from web3 import Web3

    from gridcast.chain.views import KeyChoice, connect
    from gridcast.exchange.agents import KINDS, Exchange
    from gridcast.settings import get_settings

    if kind not in KINDS:
        fail(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not Web3.is_address(owner):
        fail(f"--owner is not an address: {owner!r}")
    if len(set(meter)) != len(meter):
        fail("a meter is named twice")
    conn = connect(get_settings(), KeyChoice(account, dev_key))
    ex = Exchange(conn.submitter, conn.deployment, conn.market)
    asset_id = ex.register_asset(owner, kind, capacity_w, feed, location, meter)
    typer.echo(json.dumps({"asset_id": asset_id, **ex.asset(asset_id).as_json()}))


@app.command("list")
@exit_on_error(FileNotFoundError)
def list_(
    owner: str | None = typer.Option(None, "--owner", help="Only this owner's assets."),
) -> None:
    """Every registered asset, one JSON line each."""
    ex = _reader()
    for asset_id in range(1, ex.asset_count() + 1):
        a = ex.asset(asset_id)
        if owner is None or a.owner.lower() == owner.lower():
            typer.echo(json.dumps(a.as_json()))


@app.command()
@exit_on_error(FileNotFoundError)
def show(asset_id: int = typer.Argument(..., min=1, help="The asset's id.")) -> None:
    """One asset, with the energy it may offer per epoch and its certificates."""
    ex = _reader()
    a = ex.asset(asset_id)
    out = a.as_json()
    out["max_sell_wh_per_epoch"] = ex.max_sell_wh(a)
    out["renewable"] = a.kind in ("solar", "wind")
    typer.echo(json.dumps(out, indent=2))
