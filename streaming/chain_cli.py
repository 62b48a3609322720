"""The streaming pipeline's on-chain commands: `gridcast stream truth` (truth oracle and dispute
watch) and `gridcast telemetry follow` (replay that follows the chain clock)."""

from __future__ import annotations

import logging
import signal
import threading

import typer


def _stop_event() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


def truth(
    dev_key: int | None = typer.Option(0, help="Anvil dev key of the truth reporter (local only)."),
    account: str | None = typer.Option(None, help="Ape keystore alias of the truth reporter."),
    min_coverage: float = typer.Option(0.8, min=0.0, max=1.0, help="Meter coverage needed."),
    dispute: bool = typer.Option(False, help="Dispute on-chain truths that differ from ours."),
    interval: float = typer.Option(0.5, help="Seconds between passes."),
    once: bool = typer.Option(False, help="One pass, then exit."),
) -> None:
    """Submit closed epochs (epoch_actuals) as on-chain truth, at most once per feed and epoch."""
    from web3 import Web3

    from gridcast.chain.accounts import resolve_account
    from gridcast.chain.deployment import Deployment
    from gridcast.chain.market import Market
    from gridcast.chain.submitter import Submitter
    from gridcast.errors import GridcastError, exit_on_error
    from gridcast.services import database_url
    from gridcast.settings import get_settings
    from streaming.truth_oracle import TruthOracle

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    s = get_settings()
    with exit_on_error(ValueError, FileNotFoundError):
        w3 = Web3(Web3.HTTPProvider(s.rpc_url, request_kwargs={"timeout": 30}))
        acct = resolve_account(account, None if account else dev_key, int(w3.eth.chain_id))
        oracle = TruthOracle(
            Submitter(w3, acct),
            Deployment.load(s.deployment_file),
            Market.load(s.deployment_file.with_name("market.json")),
            database_url(),
            min_coverage=min_coverage,
            dispute=dispute,
        )
    log = logging.getLogger("gridcast.truth")
    stop = _stop_event()
    while not stop.is_set():
        try:
            report = oracle.step()
        except GridcastError as exc:
            log.error("truth pass failed: %s", exc)
        else:
            for feed, epoch, value in report.submitted:
                log.info("truth submitted: %s epoch %d value %d", feed, epoch, value)
            for feed, epoch, why in report.skipped:
                log.warning("truth not submitted: %s epoch %d (%s)", feed, epoch, why)
        if once:
            return
        stop.wait(interval)


def follow(
    feeds: str = typer.Option("solar,demand", help="Comma-separated feeds of the market file."),
    meters: int = typer.Option(10, min=1, help="Meters each feed is split across."),
    batch: int = typer.Option(500, min=1, help="Readings per MQTT message."),
    history_hours: float = typer.Option(72.0, min=0.0, help="Hours of history sent first."),
    interval: float = typer.Option(0.5, help="Seconds between passes."),
) -> None:
    """Publish per-meter telemetry for the data hour the chain's current epoch stands for."""
    from web3 import Web3

    from gridcast.chain.deployment import Deployment
    from gridcast.chain.market import Market
    from gridcast.errors import exit_on_error
    from gridcast.settings import get_settings
    from streaming.follow import ChainFollower
    from streaming.mqtt import Publisher

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    s = get_settings()
    with exit_on_error(ValueError, FileNotFoundError, KeyError):
        w3 = Web3(Web3.HTTPProvider(s.rpc_url, request_kwargs={"timeout": 30}))
        dep = Deployment.load(s.deployment_file)
        market = Market.load(s.deployment_file.with_name("market.json"))
        wanted = tuple(f.strip() for f in feeds.split(",") if f.strip())
        with Publisher() as pub:
            follower = ChainFollower(
                w3,
                dep.contract(w3, "ForecastRegistry"),
                market,
                pub,
                feeds=wanted,
                meters=meters,
                batch=batch,
                history_hours=history_hours,
            )
            follower.run(_stop_event(), interval)


def register(stream_app: typer.Typer, telemetry_app: typer.Typer) -> None:
    stream_app.command("truth")(truth)
    telemetry_app.command("follow")(follow)
