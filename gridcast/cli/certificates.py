"""``gridcast certificates``: renewable energy certificates (ERC-1155, 1 unit = 1 Wh) minted from
metered delivery. ``claim`` proves an asset's meters' energy against each epoch's final delivery
root (rebuilt from the streaming job's meter energy in DATABASE_URL) and mints to the asset's
owner, many epochs in one transaction; ``retire`` burns certificates for a named beneficiary and
purpose; ``list`` shows an account's holdings and retirements."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gridcast.diagnosis import exit_on_error
from gridcast.errors import fail

app = typer.Typer(help="Claim, retire and list energy certificates.", no_args_is_help=True)

AccountOpt = typer.Option(None, "--account", help="Ape keystore alias of the signing key.")
DevKeyOpt = typer.Option(None, "--dev-key", help="Index of an anvil dev key (local chains only).")


@app.command()
@exit_on_error(FileNotFoundError)
def claim(
    asset: int = typer.Option(..., "--asset", min=1, help="The asset (solar or wind)."),
    epoch: list[int] = typer.Option(
        [], "--epoch", min=0, help="An epoch to claim (repeat); default: every unclaimed one."
    ),
    journal: Path | None = typer.Option(None, "--journal", help="Journal file."),
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
) -> None:
    """Claim an asset's certificates for epochs whose delivery root is final (anyone may call;
    they are minted to the asset's owner). Prints each epoch claimed with its Wh."""
    from gridcast.chain.views import KeyChoice, connect
    from gridcast.exchange.agents import Exchange, database_leaves
    from gridcast.exchange.journal import ExchangeJournal
    from gridcast.services import database_url
    from gridcast.settings import get_settings

    s = get_settings()
    conn = connect(s, KeyChoice(account, dev_key))
    ex = Exchange(conn.submitter, conn.deployment, conn.market)
    a = ex.asset(asset)
    epochs = list(epoch)
    if not epochs:
        last = ex.view(a.feed_id).epoch_of(ex.now())
        epochs = list(range(0, max(last, 0)))
    path = journal or s.state_dir / f"exchange-{conn.account.address}.sqlite"
    claimed = ex.claim_certificates(
        asset, epochs, database_leaves(database_url(s)), ExchangeJournal(path)
    )
    for e, wh in claimed:
        typer.echo(json.dumps({"asset": asset, "epoch": e, "energy_wh": wh, "owner": a.owner}))
    if not claimed:
        typer.echo(json.dumps({"asset": asset, "claimed": 0}))


@app.command()
@exit_on_error(FileNotFoundError)
def retire(
    certificate: str = typer.Option(..., "--id", help="Certificate id (decimal or 0x)."),
    amount: int = typer.Option(..., "--amount", min=1, help="Wh to retire."),
    beneficiary: str = typer.Option(..., "--beneficiary", help="Who the retirement is for."),
    purpose: str = typer.Option(..., "--purpose", help="What it is for (a reporting claim)."),
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
) -> None:
    """Burn certificates the signer holds and record the retirement (beneficiary, purpose, energy,
    avoided CO2e at the feed's emission factor). Prints the retirement id."""
    from gridcast.chain.views import KeyChoice, connect
    from gridcast.exchange.agents import Exchange
    from gridcast.settings import get_settings

    try:
        cert_id = int(certificate, 0)
    except ValueError:
        fail(f"--id is not a certificate id: {certificate!r}")
    if not beneficiary.strip():
        fail("--beneficiary must name someone")
    conn = connect(get_settings(), KeyChoice(account, dev_key))
    ex = Exchange(conn.submitter, conn.deployment, conn.market)
    rid = ex.retire(cert_id, amount, beneficiary, purpose)
    typer.echo(json.dumps({"retirement_id": rid, "id": cert_id, "energy_wh": amount}))


@app.command("list")
@exit_on_error(FileNotFoundError)
def list_(
    owner: str = typer.Option(..., "--owner", help="The account whose certificates to list."),
) -> None:
    """An account's certificates (id, asset, day, Wh held) and its retirements."""
    from web3 import Web3

    from gridcast.cli.assets import _reader

    if not Web3.is_address(owner):
        fail(f"--owner is not an address: {owner!r}")
    ex = _reader()
    owner = Web3.to_checksum_address(owner)
    for cert_id, wh in ex.holdings(owner).items():
        row = {"id": str(cert_id), "asset": cert_id >> 64, "day": cert_id & (2**64 - 1)}
        typer.echo(json.dumps({**row, "energy_wh": wh}))
    logs = ex.certificates.events.CertificatesRetired().get_logs(
        from_block=ex.dep.block, argument_filters={"account": owner}
    )
    for ev in logs:
        a = ev.args
        typer.echo(
            json.dumps(
                {
                    "retirement_id": int(a.retirementId),
                    "id": str(a.id),
                    "energy_wh": int(a.energyWh),
                    "co2e_grams": int(a.co2eGrams),
                    "beneficiary": a.beneficiary,
                    "purpose": a.purpose,
                }
            )
        )
