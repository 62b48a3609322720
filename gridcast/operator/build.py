"""Assembling a forecasting operator from its options: the chain connection, the key, the curve
source (an ``ml`` forecaster or the streaming nowcast), the journal and the API uploader.

Both runners of ``gridcast oracle run`` use :func:`build_operator`: ``loop`` in the command's own
process, ``silverback`` in the bot process (:mod:`gridcast.operator.silverback`), which reads the
same :class:`OracleOptions` from the environment.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from web3 import Web3

    from gridcast.operator.bot import OperatorBot

OPTIONS_ENV = "GRIDCAST_ORACLE_OPTIONS"
RUNNERS = ("loop", "silverback")
SILVERBACK_BOT = "gridcast.operator.silverback:bot"


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
        from gridcast.errors import ConfigurationError

        raw = os.environ.get(OPTIONS_ENV)
        if not raw:
            raise ConfigurationError(
                f"{OPTIONS_ENV} is not set: start this bot with `gridcast oracle run`"
            )
        return cls(**json.loads(raw))


def build_operator(opts: OracleOptions, w3: Web3 | None = None) -> tuple[OperatorBot, str]:
    """The operator bot and a one-line description; ``w3`` defaults to the settings' RPC URL."""
    from gridcast.chain.accounts import resolve_account
    from gridcast.chain.submitter import Submitter
    from gridcast.chain.views import KeyChoice, connect
    from gridcast.operator.bot import CurveSource, OperatorBot
    from gridcast.operator.journal import Journal
    from gridcast.settings import get_settings
    from ml.oracle_source import ForecasterSource, forecaster_by_name

    s = get_settings()
    chain = connect(
        s,
        KeyChoice(opts.account, opts.dev_key),
        w3=w3,
        breaker_threshold=opts.max_failures,
        dry_run=opts.dry_run,
    )
    chain_id = int(chain.w3.eth.chain_id)
    acct = chain.account
    relayer = (
        Submitter(chain.w3, resolve_account(None, opts.relayer_dev_key, chain_id))
        if opts.relayer_dev_key is not None
        else None
    )
    market = chain.market
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
    bot = OperatorBot(
        chain.submitter,
        chain.deployment,
        feeds,
        source,
        Journal(jpath),
        relayer=relayer,
        uploader=uploader,
    )
    return bot, f"operator {acct.address} ({source.name}) serving {len(feeds)} feed(s)"


def silverback_command(network: str | None, rpc_url: str) -> tuple[list[str], dict[str, str]]:
    """The ``silverback run`` command line and the environment it adds.

    Without ``--network`` the bot joins the node at ``rpc_url`` through ape-foundry's local
    network (``APE_FOUNDRY_HOST`` makes it connect instead of starting its own anvil), which
    gives Silverback a websocket: blocks arrive as subscriptions, however idle the chain is.
    """
    exe = Path(sys.executable).with_name("silverback")
    cmd = [str(exe), "run", SILVERBACK_BOT, "--network"]
    env: dict[str, str] = {}
    if network:
        cmd.append(network)
    else:
        cmd.append("ethereum:local:foundry")
        env["APE_FOUNDRY_HOST"] = rpc_url
    return cmd, env
