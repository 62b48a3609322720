"""``gridcast oracle``: the forecasting operator that commits and reveals on-chain."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import typer

app = typer.Typer(
    help="Run a forecasting operator (oracle) against the contracts.", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    """Forecasting operator."""


@app.command()
def run(
    model: str = typer.Option(
        "seasonal-naive",
        help="lstm | lstm:<hash> | seasonal-naive | mstl | auto-ets | constant | nowcast",
    ),
    bias: float = typer.Option(0.0, help="Shift every forecast by this fraction (a bad operator)."),
    feed: list[str] = typer.Option(
        [], help="Feed id(s) to serve (0x…); default: every market feed."
    ),
    account: str | None = typer.Option(None, help="Ape keystore alias of the operator key."),
    dev_key: int | None = typer.Option(None, help="Index of an anvil dev key (local chains only)."),
    relayer_dev_key: int | None = typer.Option(
        None, help="Send commits through this dev key as an EIP-712 relayer."
    ),
    journal: Path | None = typer.Option(None, help="Journal file (default: state dir)."),
    interval: float = typer.Option(1.0, help="Seconds between passes."),
    once: bool = typer.Option(False, help="Do one pass and exit."),
    dry_run: bool = typer.Option(False, help="Estimate transactions without sending them."),
    max_failures: int = typer.Option(5, help="Consecutive failures before the circuit opens."),
    api_url: str | None = typer.Option(
        None, help="Upload each curve's off-chain record to this API (SIWE); default settings."
    ),
) -> None:
    """Forecast the next open round of each feed; commit, reveal in the window, claim, withdraw."""
    from web3 import Web3

    from gridcast.accounts import resolve_account
    from gridcast.chain.deployment import Deployment
    from gridcast.chain.errors import GridcastError
    from gridcast.chain.submitter import CircuitOpenError, Submitter
    from gridcast.market import Market
    from gridcast.operator.bot import CurveSource, OperatorBot
    from gridcast.operator.journal import Journal
    from gridcast.settings import get_settings
    from ml.oracle_source import ForecasterSource, forecaster_by_name

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    s = get_settings()
    try:
        w3 = Web3(Web3.HTTPProvider(s.rpc_url, request_kwargs={"timeout": 30}))
        chain_id = int(w3.eth.chain_id)
        acct = resolve_account(account, dev_key, chain_id)
        sub = Submitter(w3, acct, breaker_threshold=max_failures, dry_run=dry_run)
        relayer = (
            Submitter(w3, resolve_account(None, relayer_dev_key, chain_id))
            if relayer_dev_key is not None
            else None
        )
        dep = Deployment.load(s.deployment_file)
        market = Market.load(s.deployment_file.with_name("market.json"))
        feeds = [bytes.fromhex(f[2:]) for f in feed] or [b.feed_bytes for b in market.feeds]
        source: CurveSource
        if model == "nowcast":
            from gridcast.services import database_url
            from streaming.nowcast_source import NowcastSource

            source = NowcastSource(market, database_url())
        else:
            source = ForecasterSource(forecaster_by_name(model, market), market, bias=bias)
        jpath = journal or s.state_dir / f"journal-{acct.address}.sqlite"
        upload_to = api_url or s.api_url
        uploader = None
        if upload_to:
            from api.client import make_uploader

            uploader = make_uploader(upload_to, acct, chain_id)
        bot = OperatorBot(
            sub, dep, feeds, source, Journal(jpath), relayer=relayer, uploader=uploader
        )
    except (GridcastError, ValueError, FileNotFoundError, KeyError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"operator {acct.address} ({source.name}) serving {len(feeds)} feed(s)")
    if once:
        report = bot.step()
        typer.echo(str(report))
        raise typer.Exit(1 if report.errors else 0)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        bot.run(stop, interval)
    except CircuitOpenError as exc:
        typer.secho(f"stopping: {exc}", fg="red", err=True)
        raise typer.Exit(3) from exc
