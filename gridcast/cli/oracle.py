"""``gridcast oracle``: the forecasting operator that commits and reveals on-chain.

Two runners drive the same :class:`gridcast.operator.bot.OperatorBot`: ``loop`` (a pass every
``--interval`` seconds, in this process) and ``silverback`` (ApeWorX's bot framework: a pass on
every new block, see :mod:`ml.oracle_silverback`). Both build the operator with
:func:`build_operator` from one :class:`OracleOptions`.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gridcast.chain.accounts import PASSPHRASE_ENV

if TYPE_CHECKING:
    from web3 import Web3

    from gridcast.operator.bot import OperatorBot

app = typer.Typer(
    help="Run a forecasting operator (oracle) against the contracts.", no_args_is_help=True
)

OPTIONS_ENV = "GRIDCAST_ORACLE_OPTIONS"
RUNNERS = ("loop", "silverback")


@dataclass(frozen=True)
class OracleOptions:
    """What decides an operator: its model, key, feeds and journal (never a key itself)."""

    model: str = "seasonal-naive"
    bias: float = 0.0
    feeds: list[str] = field(default_factory=list)
    account: str | None = None
    dev_key: int | None = None
    relayer_dev_key: int | None = None
    journal: str | None = None
    dry_run: bool = False
    max_failures: int = 5
    api_url: str | None = None

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> OracleOptions:
        raw = os.environ.get(OPTIONS_ENV)
        if not raw:
            raise ValueError(f"{OPTIONS_ENV} is not set: start this bot with `gridcast oracle run`")
        return cls(**json.loads(raw))


def build_operator(opts: OracleOptions, w3: Web3 | None = None) -> tuple[OperatorBot, str]:
    """The operator bot and a one-line description; ``w3`` defaults to the settings' RPC URL."""
    from web3 import Web3

    from gridcast.chain.accounts import resolve_account
    from gridcast.chain.deployment import Deployment
    from gridcast.chain.market import Market
    from gridcast.chain.submitter import Submitter
    from gridcast.operator.bot import CurveSource, OperatorBot
    from gridcast.operator.journal import Journal
    from gridcast.settings import get_settings
    from ml.oracle_source import ForecasterSource, forecaster_by_name

    s = get_settings()
    if w3 is None:
        w3 = Web3(Web3.HTTPProvider(s.rpc_url, request_kwargs={"timeout": 30}))
    chain_id = int(w3.eth.chain_id)
    acct = resolve_account(opts.account, opts.dev_key, chain_id)
    sub = Submitter(w3, acct, breaker_threshold=opts.max_failures, dry_run=opts.dry_run)
    relayer = (
        Submitter(w3, resolve_account(None, opts.relayer_dev_key, chain_id))
        if opts.relayer_dev_key is not None
        else None
    )
    dep = Deployment.load(s.deployment_file)
    market = Market.load(s.deployment_file.with_name("market.json"))
    feeds = [bytes.fromhex(f[2:]) for f in opts.feeds] or [b.feed_bytes for b in market.feeds]
    source: CurveSource
    if opts.model == "nowcast":
        from gridcast.services import database_url
        from streaming.nowcast_source import NowcastSource

        source = NowcastSource(market, database_url())
    else:
        source = ForecasterSource(forecaster_by_name(opts.model, market), market, bias=opts.bias)
    jpath = Path(opts.journal) if opts.journal else s.state_dir / f"journal-{acct.address}.sqlite"
    upload_to = opts.api_url or s.api_url
    uploader = None
    if upload_to:
        from api.client import make_uploader

        uploader = make_uploader(upload_to, acct, chain_id)
    bot = OperatorBot(sub, dep, feeds, source, Journal(jpath), relayer=relayer, uploader=uploader)
    return bot, f"operator {acct.address} ({source.name}) serving {len(feeds)} feed(s)"


def silverback_command(network: str | None, rpc_url: str) -> tuple[list[str], dict[str, str]]:
    """The ``silverback run`` command line and the environment it adds.

    Without ``--network`` the bot joins the node at ``rpc_url`` through ape-foundry's local
    network (``APE_FOUNDRY_HOST`` makes it connect instead of starting its own anvil), which
    gives Silverback a websocket: blocks arrive as subscriptions, however idle the chain is.
    """
    exe = Path(sys.executable).with_name("silverback")
    cmd = [str(exe), "run", "ml.oracle_silverback:bot", "--network"]
    env: dict[str, str] = {}
    if network:
        cmd.append(network)
    else:
        cmd.append("ethereum:local:foundry")
        env["APE_FOUNDRY_HOST"] = rpc_url
    return cmd, env


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
    from gridcast.errors import exit_on_error, fail
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
