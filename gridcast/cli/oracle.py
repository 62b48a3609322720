"""``gridcast oracle``: the forecasting operator that commits and reveals on-chain.

Two runners drive the same :class:`gridcast.operator.bot.OperatorBot`: ``loop`` (a pass every
``--interval`` seconds, in this process) and ``silverback`` (ApeWorX's bot framework: a pass on
every new block, see :mod:`gridcast.operator.silverback`). Both build the operator with
:func:`gridcast.operator.build.build_operator` from one :class:`OracleOptions`.
"""

from __future__ import annotations

import getpass
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from gridcast.chain.accounts import PASSPHRASE_ENV
from gridcast.operator.build import (
    OPTIONS_ENV,
    RUNNERS,
    OracleOptions,
    build_operator,
    silverback_command,
)

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
    runner: str = typer.Option(
        "loop",
        help="loop: a pass every --interval seconds; silverback: a Silverback bot, one per block.",
    ),
    network: str | None = typer.Option(
        None,
        help="Ape network choice for --runner silverback (default: the node at GRIDCAST_RPC_URL).",
    ),
    interval: float = typer.Option(1.0, help="Seconds between passes (loop runner)."),
    once: bool = typer.Option(False, help="Do one pass and exit."),
    dry_run: bool = typer.Option(False, help="Estimate transactions without sending them."),
    max_failures: int = typer.Option(5, help="Consecutive failures before the circuit opens."),
    api_url: str | None = typer.Option(
        None, help="Upload each curve's off-chain record to this API (SIWE); default settings."
    ),
) -> None:
    """Forecast the next open round of each feed; commit, reveal in the window, claim, withdraw."""
    from gridcast.chain.submitter import CircuitOpenError
    from gridcast.diagnosis import exit_on_error
    from gridcast.errors import fail
    from gridcast.settings import get_settings

    if runner not in RUNNERS:
        fail(f"--runner must be one of {', '.join(RUNNERS)}")
    opts = OracleOptions(
        model=model,
        bias=bias,
        feeds=list(feed),
        account=account,
        dev_key=dev_key,
        relayer_dev_key=relayer_dev_key,
        journal=str(journal) if journal else None,
        dry_run=dry_run,
        max_failures=max_failures,
        api_url=api_url,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if runner == "silverback" and account and PASSPHRASE_ENV not in os.environ:
        # Both this check and the bot process unlock the keystore: ask once, hand it down in the
        # environment resolve_account already reads (never on a command line, never logged).
        os.environ[PASSPHRASE_ENV] = getpass.getpass(f"passphrase for Ape account {account!r}: ")
    with exit_on_error(ValueError, FileNotFoundError, KeyError):
        bot, described = build_operator(opts)
    typer.echo(described + (f" via {runner}" if not once else ""))
    if once:
        report = bot.step()
        typer.echo(str(report))
        raise typer.Exit(1 if report.errors else 0)
    if runner == "silverback":
        # The options were checked above (keys, deployment, model); the bot process rebuilds the
        # operator from them. exec keeps one process, so signals reach Silverback directly.
        cmd, extra = silverback_command(network, get_settings().rpc_url)
        env: dict[str, Any] = {**os.environ, **extra, OPTIONS_ENV: opts.to_env()}
        sys.stdout.flush()
        os.execve(cmd[0], cmd, env)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        bot.run(stop, interval)
    except CircuitOpenError as exc:
        fail(f"stopping: {exc}", code=3)
