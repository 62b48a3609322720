"""``gridcast deploy``: deploy and wire the contracts with web3 (Ape users: ``ape run deploy``)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Deploy and wire the Gridcast contracts.", invoke_without_command=True)


@app.callback(invoke_without_command=True)
def deploy(
    account: str | None = typer.Option(None, help="Ape keystore alias of the admin key."),
    dev_key: int | None = typer.Option(None, help="Index of an anvil dev key (local chains only)."),
    reporter: list[str] = typer.Option([], help="Address(es) granted TRUTH_REPORTER_ROLE."),
    arbiter: list[str] = typer.Option([], help="Address(es) granted ARBITER_ROLE."),
    second_wave: bool = typer.Option(
        True,
        help="Also deploy MeteredDelivery, AssetRegistry, EnergyExchange and EnergyCertificates.",
    ),
) -> None:
    """Deploy GridToken, OperatorStaking, ForecastRegistry and Settlement, GridGovernor over
    GridTimelock (dev profile: short voting periods) and the second wave (metered delivery, assets,
    exchange, certificates) to GRIDCAST_RPC_URL, and write the deployment file
    (GRIDCAST_DEPLOYMENT_FILE)."""
    from web3 import Web3

    from gridcast.chain.accounts import resolve_account
    from gridcast.chain.deploy import deploy_all
    from gridcast.chain.submitter import Submitter
    from gridcast.diagnosis import exit_on_error
    from gridcast.exchange.wiring import deploy_with_second_wave
    from gridcast.settings import get_settings

    s = get_settings()
    with exit_on_error(ValueError):
        w3 = Web3(Web3.HTTPProvider(s.rpc_url))
        admin = Submitter(w3, resolve_account(account, dev_key, int(w3.eth.chain_id)))
        dep = deploy_all(admin, truth_reporters=reporter, arbiters=arbiter)
        if second_wave:
            dep = deploy_with_second_wave(admin, dep, truth_reporters=reporter)
    dep.save(s.deployment_file)
    named = {**dep.addresses, **dep.governance_addresses, **dep.second_wave_addresses}
    for name, addr in named.items():
        typer.echo(f"{name:18} {addr}")
    typer.echo(f"deployment written to {s.deployment_file}")
